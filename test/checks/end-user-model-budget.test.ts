import { expect } from 'chai';
import { endUserModelBudget } from '../../src/checks/end-user-model-budget';
import type { Json, JsonObject } from '../../src/domain/entities';
import { aBudget, aDeployment, anEndUser, decide } from './fixtures';

describe("per-model end-user budget (the end user's budget row model_max_budget) — §2.7 step 8", () => {
  const daily = (limit: Json): JsonObject => ({ max_budget: limit, budget_duration: '1d' });
  const customer = (limits: JsonObject | null) => anEndUser({ user_id: 'customer-1', budget: aBudget({ model_max_budget: limits }) });

  it("denies the end user at a zero limit (400 budget_exceeded, LiteLLM's message)", () => {
    expect(decide(endUserModelBudget, { snapshot: { endUser: customer({ 'gpt-4o': daily(0) }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'LiteLLM End User: customer-1, exceeded budget for model=gpt-4o',
      param: null,
    });
  });

  const rows: ReadonlyArray<{ why: string; limits: JsonObject | null; model?: string; refused: boolean }> = [
    { why: 'a positive limit is never reached: no table records an end user’s spend per model', limits: { 'gpt-4o': daily(0.000001) }, refused: false },
    { why: 'a zero limit written as budget_limit / time_period refuses', limits: { 'gpt-4o': { budget_limit: 0, time_period: '1d' } }, refused: true },
    { why: 'a negative limit is no limit', limits: { 'gpt-4o': daily(-1) }, refused: false },
    { why: 'an entry without a budget_duration is skipped', limits: { 'gpt-4o': { max_budget: 0 } }, refused: false },
    { why: 'another model’s limit does not apply', limits: { 'claude-3': daily(0) }, refused: false },
    { why: 'a provider-prefixed request uses the bare model’s limit', limits: { 'gemini-2.5-flash': daily(0) }, model: 'google/gemini-2.5-flash', refused: true },
    { why: 'a budget row without model_max_budget has no per-model limits', limits: null, refused: false },
  ];
  for (const row of rows) {
    it(`${row.why}${row.refused ? ' (denied)' : ' (allowed)'}`, () => {
      const model = row.model ?? 'gpt-4o';
      const denial = decide(endUserModelBudget, { request: { model, body: { model } }, snapshot: { endUser: customer(row.limits) } });
      expect(denial?.type ?? null).to.equal(row.refused ? 'budget_exceeded' : null);
    });
  }

  it('passes an end user without a budget row, and a request naming no end user', () => {
    expect(decide(endUserModelBudget, { snapshot: { endUser: anEndUser({ budget: null }) } })).to.equal(null);
    expect(decide(endUserModelBudget, { snapshot: { endUser: null } })).to.equal(null);
  });

  it("applies max_end_user_budget_id's limits to an end user without a row, by the id the request gives", () => {
    const denial = decide(endUserModelBudget, { snapshot: { endUser: null, unknownEndUser: { user_id: 'new-customer', budget: aBudget({ model_max_budget: { 'gpt-4o': daily(0) } }) } } });
    expect(denial?.message).to.equal('LiteLLM End User: new-customer, exceeded budget for model=gpt-4o');
  });

  it('is skipped with the other budgets: an explicitly free model, and info routes', () => {
    const over = customer({ 'gpt-4o': daily(0) });
    expect(decide(endUserModelBudget, { snapshot: { endUser: over }, policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] } })).to.equal(null);
    expect(decide(endUserModelBudget, { request: { route: '/v1/models', method: 'GET', model: null, body: null }, snapshot: { endUser: over } })).to.equal(null);
  });
});
