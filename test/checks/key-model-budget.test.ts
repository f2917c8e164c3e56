import { expect } from 'chai';
import { keyModelBudget } from '../../src/checks/key-model-budget';
import type { Json, JsonObject } from '../../src/domain/entities';
import { UNREAD_MODEL } from '../../src/domain/request';
import { aDeployment, aKey, decide } from './fixtures';

describe('per-model key budget (model_max_budget) — §2.7 step 8, §8', () => {
  const key = (limits: JsonObject, spend: JsonObject) => aKey({ token: 'f'.repeat(64), key_alias: 'ci', model_max_budget: limits, model_spend: spend });

  it('denies a model whose spend is above its budget (400 budget_exceeded, LiteLLM message)', () => {
    expect(decide(keyModelBudget, { snapshot: { key: key({ 'gpt-4o': { budget_limit: 1, time_period: '1d' } }, { 'gpt-4o': 1.5 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: `LiteLLM Virtual Key: ${'f'.repeat(64)}, key_alias: ci, exceeded budget for model=gpt-4o`,
      param: null,
    });
  });

  const daily = (limit: Json): JsonObject => ({ max_budget: limit, budget_duration: '1d' });
  const rows: ReadonlyArray<{ why: string; limits: JsonObject; spend: JsonObject; model?: string; refused: boolean }> = [
    { why: 'spend == budget is over (the newest limiter compares with >=)', limits: { 'gpt-4o': daily(1) }, spend: { 'gpt-4o': 1 }, refused: true },
    { why: 'spend below the budget passes', limits: { 'gpt-4o': daily(1) }, spend: { 'gpt-4o': 0.99 }, refused: false },
    { why: 'max_budget and budget_limit, budget_duration and time_period are the same fields (BudgetConfig aliases)', limits: { 'gpt-4o': { budget_limit: 1, time_period: '30d' } }, spend: { 'gpt-4o': 2 }, refused: true },
    { why: 'a budget written as a string is read as a float (pydantic)', limits: { 'gpt-4o': daily('0.0000001') }, spend: { 'gpt-4o': 0.0000002 }, refused: true },
    { why: 'a zero budget refuses at once, spend or not (a counter never written is zero spend)', limits: { 'gpt-4o': daily(0) }, spend: {}, refused: true },
    { why: 'a negative budget is no budget', limits: { 'gpt-4o': daily(-1) }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'an entry without a budget_duration is skipped (LiteLLM can neither key nor enforce it)', limits: { 'gpt-4o': { max_budget: 1 } }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'an entry whose duration LiteLLM cannot read is skipped', limits: { 'gpt-4o': { max_budget: 1, budget_duration: 'fortnightly' } }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: "a duration read from its start, as LiteLLM's parser does (30days)", limits: { 'gpt-4o': { max_budget: 10, budget_duration: '30days' } }, spend: { 'gpt-4o': 20 }, refused: true },
    { why: 'a duration word (daily)', limits: { 'gpt-4o': { max_budget: 10, budget_duration: 'daily' } }, spend: { 'gpt-4o': 20 }, refused: true },
    { why: 'another model’s budget does not apply', limits: { 'claude-3': daily(1) }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'no recorded spend for the model passes a positive budget', limits: { 'gpt-4o': daily(1) }, spend: {}, refused: false },
    { why: 'a provider-prefixed request uses the bare model’s budget and spend', limits: { 'o1-preview': daily(1) }, spend: { 'o1-preview': 2 }, model: 'openai/o1-preview', refused: true },
    { why: 'the exact model’s budget is read before the bare one', limits: { 'openai/o1': daily(10), o1: daily(1) }, spend: { 'openai/o1': 2 }, model: 'openai/o1', refused: false },
    { why: 'an unusable exact entry falls through to the bare model’s', limits: { 'openai/o1': { max_budget: 10 }, o1: daily(1) }, spend: { o1: 2 }, model: 'openai/o1', refused: true },
    { why: 'an entry that is not an object is ignored', limits: { 'gpt-4o': 1 }, spend: { 'gpt-4o': 5 }, refused: false },
  ];
  for (const row of rows) {
    it(`${row.why}${row.refused ? ' (denied)' : ' (allowed)'} — §2.7 step 8`, () => {
      const model = row.model ?? 'gpt-4o';
      const denial = decide(keyModelBudget, { request: { model, body: { model } }, snapshot: { key: key(row.limits, row.spend) } });
      expect(denial?.type ?? null).to.equal(row.refused ? 'budget_exceeded' : null);
    });
  }

  it('checks every model of a multi-model request', () => {
    const denial = decide(keyModelBudget, {
      request: { model: ['gpt-4o', 'claude-3'] },
      snapshot: { key: key({ 'claude-3': daily(1) }, { 'claude-3': 2 }) },
    });
    expect(denial?.message).to.match(/model=claude-3$/);
  });

  it('reads the model from the request context: a model in the path alone (Azure deployments, Gemini routes) is checked too', () => {
    const over = key({ 'gemini-pro': daily(1) }, { 'gemini-pro': 2 });
    for (const route of ['/openai/deployments/gemini-pro/chat/completions', '/v1beta/models/gemini-pro:generateContent']) {
      expect(decide(keyModelBudget, { request: { route, path: route, model: 'gemini-pro', body: { messages: [] } }, snapshot: { key: over } })?.type, route).to.equal('budget_exceeded');
    }
  });

  it('checks the model found in the prefix of a body Envoy cut short', () => {
    const over = key({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 });
    expect(decide(keyModelBudget, { request: { model: 'gpt-4o', body: null, bodyTruncated: true }, snapshot: { key: over } })?.type).to.equal('budget_exceeded');
  });

  it('checks a body cut before its model against every budgeted model: a prompt padded past the limit passes no spent budget', () => {
    const cut = { model: UNREAD_MODEL, body: null, bodyTruncated: true };
    const over = key({ 'claude-3': daily(10), 'gpt-4o': daily(1) }, { 'claude-3': 1, 'gpt-4o': 2 });
    expect(decide(keyModelBudget, { request: cut, snapshot: { key: over } })?.message).to.equal(
      `LiteLLM Virtual Key: ${'f'.repeat(64)}, key_alias: ci, exceeded budget for model=gpt-4o`,
    );
    const within = key({ 'claude-3': daily(10), 'gpt-4o': daily(1) }, { 'claude-3': 1, 'gpt-4o': 0.5 });
    expect(decide(keyModelBudget, { request: cut, snapshot: { key: within } })).to.equal(null);
  });

  it('prints key_alias None for a key without alias', () => {
    const denial = decide(keyModelBudget, { snapshot: { key: aKey({ model_max_budget: { 'gpt-4o': daily(1) }, model_spend: { 'gpt-4o': 2 } }) } });
    expect(denial?.message).to.include('key_alias: None,');
  });

  it('README §4.1: info routes are exempt', () => {
    expect(
      decide(keyModelBudget, {
        request: { route: '/v1/models', method: 'GET', model: null, body: null },
        snapshot: { key: key({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 }) },
      }),
    ).to.equal(null);
  });

  it('§2.7.5: skipped for a model that is explicitly free', () => {
    expect(
      decide(keyModelBudget, {
        snapshot: { key: key({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 }) },
        policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] },
      }),
    ).to.equal(null);
  });

  it('applies on every route, not only LLM routes (unlike the key max_budget)', () => {
    expect(
      decide(keyModelBudget, {
        request: { route: '/key/generate', model: 'gpt-4o', body: { model: 'gpt-4o' } },
        snapshot: { key: key({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 }) },
      })?.type,
    ).to.equal('budget_exceeded');
  });
});
