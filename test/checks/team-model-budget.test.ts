import { expect } from 'chai';
import { teamModelBudget } from '../../src/checks/team-model-budget';
import type { Json, JsonObject } from '../../src/domain/entities';
import { aDeployment, aKey, aTeam, decide } from './fixtures';

describe("per-model team budget (LiteLLM_TeamTable.model_max_budget) — §2.7 step 8 [newest]", () => {
  const daily = (limit: Json): JsonObject => ({ max_budget: limit, budget_duration: '1d' });
  const member = aKey({ team_id: 't-1' });
  const team = (limits: JsonObject, spend: JsonObject = {}) => aTeam({ team_id: 't-1', model_max_budget: limits, model_spend: spend });

  it("denies a team whose spend on the model reached its budget (400 budget_exceeded, LiteLLM's message)", () => {
    expect(decide(teamModelBudget, { snapshot: { key: member, team: team({ 'gpt-4o': daily(1) }, { 'gpt-4o': 1.5 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'LiteLLM Team: t-1, exceeded budget for model=gpt-4o',
      param: null,
    });
  });

  const rows: ReadonlyArray<{ why: string; limits: JsonObject; spend: JsonObject; keyLimits?: JsonObject; model?: string; refused: boolean }> = [
    { why: 'spend == budget is over (>=)', limits: { 'gpt-4o': daily(1) }, spend: { 'gpt-4o': 1 }, refused: true },
    { why: 'spend below the budget passes', limits: { 'gpt-4o': daily(1) }, spend: { 'gpt-4o': 0.5 }, refused: false },
    { why: 'a zero budget refuses with no recorded spend', limits: { 'gpt-4o': daily(0) }, spend: {}, refused: true },
    { why: 'a negative budget is no budget', limits: { 'gpt-4o': daily(-1) }, spend: { 'gpt-4o': 5 }, refused: false },
    { why: 'an entry without a budget_duration is skipped', limits: { 'gpt-4o': { max_budget: 0 } }, spend: {}, refused: false },
    { why: 'another model’s budget does not apply', limits: { 'claude-3': daily(0) }, spend: {}, refused: false },
    { why: 'a provider-prefixed request uses the bare model’s budget', limits: { 'o1-preview': daily(0) }, spend: {}, model: 'openai/o1-preview', refused: true },
    { why: "the key's own limit on the model overrides the team's (team_model_budget_applies)", limits: { 'gpt-4o': daily(0) }, spend: {}, keyLimits: { 'gpt-4o': daily(100) }, refused: false },
    { why: "a key entry without a limit does not override the team's", limits: { 'gpt-4o': daily(0) }, spend: {}, keyLimits: { 'gpt-4o': { budget_duration: '1d' } }, refused: true },
    { why: "a key limit on another model does not override the team's", limits: { 'gpt-4o': daily(0) }, spend: {}, keyLimits: { 'claude-3': daily(100) }, refused: true },
  ];
  for (const row of rows) {
    it(`${row.why}${row.refused ? ' (denied)' : ' (allowed)'}`, () => {
      const model = row.model ?? 'gpt-4o';
      const key = aKey({ team_id: 't-1', model_max_budget: row.keyLimits ?? {} });
      const denial = decide(teamModelBudget, { request: { model, body: { model } }, snapshot: { key, team: team(row.limits, row.spend) } });
      expect(denial?.type ?? null).to.equal(row.refused ? 'budget_exceeded' : null);
    });
  }

  it('passes a key without a team, and a team without per-model budgets (a team cached before the field existed)', () => {
    expect(decide(teamModelBudget, { snapshot: { key: aKey(), team: null } })).to.equal(null);
    expect(decide(teamModelBudget, { snapshot: { key: member, team: aTeam({ team_id: 't-1' }) } })).to.equal(null);
  });

  it('is skipped with the other budgets for a model that costs nothing (skip_budget_checks)', () => {
    const free = aDeployment({ modelName: 'local', inputCostPerToken: 0, outputCostPerToken: 0 });
    const denial = decide(teamModelBudget, {
      request: { model: 'local', body: { model: 'local' } },
      snapshot: { key: member, team: team({ local: daily(0) }) },
      policy: { modelList: [free] },
    });
    expect(denial).to.equal(null);
  });

  it('checks every model of a multi-model request', () => {
    const denial = decide(teamModelBudget, { request: { model: ['gpt-4o', 'claude-3'] }, snapshot: { key: member, team: team({ 'claude-3': daily(0) }) } });
    expect(denial?.message).to.match(/model=claude-3$/);
  });
});
