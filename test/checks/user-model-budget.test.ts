import { expect } from 'chai';
import { userModelBudget } from '../../src/checks/user-model-budget';
import type { Json, JsonObject } from '../../src/domain/entities';
import { aDeployment, aKey, aUser, decide } from './fixtures';

describe("per-model user budget (the key owner's model_max_budget) — §2.7 step 8 [newest]", () => {
  const daily = (limit: Json): JsonObject => ({ max_budget: limit, budget_duration: '1d' });
  const owner = aKey({ user_id: 'u-1' });
  const user = (limits: JsonObject, spend: JsonObject) => aUser({ user_id: 'u-1', model_max_budget: limits, model_spend: spend });

  it("denies a user whose spend on the model reached its budget (400 budget_exceeded, LiteLLM's message)", () => {
    expect(decide(userModelBudget, { snapshot: { key: owner, user: user({ 'gpt-4o': daily(1) }, { 'gpt-4o': 1.5 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'LiteLLM User: u-1, exceeded budget for model=gpt-4o',
      param: null,
    });
  });

  const rows: ReadonlyArray<{ why: string; limits: JsonObject; spend: JsonObject; model?: string; refused: boolean }> = [
    { why: 'spend == budget is over (>=, as for the key)', limits: { 'gpt-4o': daily(1) }, spend: { 'gpt-4o': 1 }, refused: true },
    { why: 'spend below the budget passes', limits: { 'gpt-4o': daily(1) }, spend: { 'gpt-4o': 0.5 }, refused: false },
    { why: 'budget_limit and time_period are the same fields (BudgetConfig aliases)', limits: { 'gpt-4o': { budget_limit: 1, time_period: '1mo' } }, spend: { 'gpt-4o': 2 }, refused: true },
    { why: 'a zero budget refuses with no recorded spend', limits: { 'gpt-4o': daily(0) }, spend: {}, refused: true },
    { why: 'a negative budget is no budget', limits: { 'gpt-4o': daily(-1) }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'an entry without a budget_duration is skipped', limits: { 'gpt-4o': { max_budget: 1 } }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'another model’s budget does not apply', limits: { 'claude-3': daily(1) }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'a provider-prefixed request uses the bare model’s budget and spend', limits: { 'o1-preview': daily(1) }, spend: { 'o1-preview': 2 }, model: 'openai/o1-preview', refused: true },
  ];
  for (const row of rows) {
    it(`${row.why}${row.refused ? ' (denied)' : ' (allowed)'}`, () => {
      const model = row.model ?? 'gpt-4o';
      const denial = decide(userModelBudget, { request: { model, body: { model } }, snapshot: { key: owner, user: user(row.limits, row.spend) } });
      expect(denial?.type ?? null).to.equal(row.refused ? 'budget_exceeded' : null);
    });
  }

  it('passes a key without a user row, and a user without per-model budgets (a user cached before the field existed)', () => {
    expect(decide(userModelBudget, { snapshot: { key: owner, user: null } })).to.equal(null);
    expect(decide(userModelBudget, { snapshot: { key: owner, user: aUser({ user_id: 'u-1' }) } })).to.equal(null);
  });

  it("names a JWT caller by the token's user id, not by the id of the row it matched", () => {
    const denial = decide(userModelBudget, { snapshot: { key: null, jwtUserId: 'alice@sso', user: user({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 }) } });
    expect(denial?.message).to.equal('LiteLLM User: alice@sso, exceeded budget for model=gpt-4o');
  });

  it('passes a JWT caller whose token gives no user id (LiteLLM checks only with a user_id)', () => {
    expect(decide(userModelBudget, { snapshot: { key: null, jwtUserId: null, user: user({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 }) } })).to.equal(null);
  });

  it('checks every model of a multi-model request', () => {
    const denial = decide(userModelBudget, { request: { model: ['gpt-4o', 'claude-3'] }, snapshot: { key: owner, user: user({ 'claude-3': daily(1) }, { 'claude-3': 2 }) } });
    expect(denial?.message).to.match(/model=claude-3$/);
  });

  it('is skipped with the other budgets: an explicitly free model, and info routes', () => {
    const over = user({ 'gpt-4o': daily(1) }, { 'gpt-4o': 2 });
    expect(decide(userModelBudget, { snapshot: { key: owner, user: over }, policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] } })).to.equal(null);
    expect(decide(userModelBudget, { request: { route: '/v1/models', method: 'GET', model: null, body: null }, snapshot: { key: owner, user: over } })).to.equal(null);
  });
});
