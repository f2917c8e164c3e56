import { expect } from 'chai';
import { keyWindowBudgets, teamWindowBudgets } from '../../src/checks/window-budgets';
import { runChecks } from '../../src/checks/engine';
import { VIRTUAL_KEY_PIPELINE } from '../../src/checks/order';
import type { BudgetWindowLimit } from '../../src/domain/entities';
import { windowSpendId } from '../../src/spend/window-limits';
import { parseBudgetLimits } from '../../src/spend/window-limits';
import { aContext, aDeployment, aKey, aTeam, decide, KEY_HASH } from './fixtures';

const daily: BudgetWindowLimit = { budget_duration: '24h', max_budget: 5, reset_at: null };
const monthly: BudgetWindowLimit = { budget_duration: '30d', max_budget: 100, reset_at: new Date('2025-07-01T00:00:00Z') };

const keyWith = (windows: readonly BudgetWindowLimit[]) => aKey({ team_id: 'team-abc', budget_limits: windows });
const teamWith = (windows: readonly BudgetWindowLimit[]) => aTeam({ team_id: 'team-abc', budget_limits: windows });
const spent = (entries: ReadonlyArray<readonly [entity: 'key' | 'team', id: string, window: BudgetWindowLimit, spend: number]>) =>
  new Map(entries.map(([entity, id, window, spend]) => [windowSpendId(entity, id, window), spend]));

describe('key multi-window budgets — common_checks, after the team budget (_virtual_key_multi_budget_check) [newer]', () => {
  it('refuses at spend == max_budget of a window (>=), naming the window (400 budget_exceeded)', () => {
    expect(
      decide(keyWindowBudgets, { snapshot: { key: keyWith([daily, monthly]), budgetWindowSpend: spent([['key', KEY_HASH, daily, 5]]) } }),
    ).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: Key over 24h budget. Spend=$5.0000, Limit=$5.00',
      param: null,
    });
  });

  it('refuses on the first window over its budget, in the order the key lists them', () => {
    const budgetWindowSpend = spent([
      ['key', KEY_HASH, daily, 1],
      ['key', KEY_HASH, monthly, 123.456789],
    ]);
    expect(decide(keyWindowBudgets, { snapshot: { key: keyWith([daily, monthly]), budgetWindowSpend } })?.message).to.equal(
      'ExceededBudget: Key over 30d budget. Spend=$123.4568, Limit=$100.00',
    );
  });

  it('allows a key below every window', () => {
    const budgetWindowSpend = spent([
      ['key', KEY_HASH, daily, 4.99],
      ['key', KEY_HASH, monthly, 99.99],
    ]);
    expect(decide(keyWindowBudgets, { snapshot: { key: keyWith([daily, monthly]), budgetWindowSpend } })).to.equal(null);
  });

  it('reads a window with no spend loaded as 0 spent (LiteLLM: fallback_spend=0.0)', () => {
    expect(decide(keyWindowBudgets, { snapshot: { key: keyWith([daily]) } })).to.equal(null);
  });

  it('refuses a window of max_budget 0 from the start, as LiteLLM compares 0 >= 0', () => {
    const zero = { budget_duration: '1d', max_budget: 0, reset_at: null };
    expect(decide(keyWindowBudgets, { snapshot: { key: keyWith([zero]) } })?.message).to.equal(
      'ExceededBudget: Key over 1d budget. Spend=$0.0000, Limit=$0.00',
    );
  });

  it('ignores malformed windows (no duration, an unreadable one, no max_budget) and enforces the rest', () => {
    const windows = parseBudgetLimits([
      { max_budget: 0 },
      { budget_duration: 'fortnight', max_budget: 0 },
      { budget_duration: '1d' },
      { budget_duration: '1d', max_budget: 2 },
    ]);
    const key = keyWith(windows);
    expect(decide(keyWindowBudgets, { snapshot: { key } })).to.equal(null);
    const over = spent([['key', KEY_HASH, { budget_duration: '1d', max_budget: 2, reset_at: null }, 2.5]]);
    expect(decide(keyWindowBudgets, { snapshot: { key, budgetWindowSpend: over } })?.message).to.equal(
      'ExceededBudget: Key over 1d budget. Spend=$2.5000, Limit=$2.00',
    );
  });

  it('does not read the team\'s spend for the key\'s windows (each entity has its own)', () => {
    const budgetWindowSpend = spent([['team', 'team-abc', daily, 50]]);
    expect(decide(keyWindowBudgets, { snapshot: { key: keyWith([daily]), budgetWindowSpend } })).to.equal(null);
  });

  it('skips info routes and free models, as every budget check', () => {
    const snapshot = { key: keyWith([daily]), budgetWindowSpend: spent([['key', KEY_HASH, daily, 9]]) };
    expect(decide(keyWindowBudgets, { request: { route: '/v1/models', method: 'GET', model: null }, snapshot })).to.equal(null);
    expect(
      decide(keyWindowBudgets, {
        snapshot,
        policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] },
      }),
    ).to.equal(null);
  });
});

describe('team multi-window budgets — common_checks, after the team budget (_team_multi_budget_check) [newer]', () => {
  it('refuses at spend >= max_budget of a window, naming the team (>= for teams too, unlike their max_budget)', () => {
    expect(
      decide(teamWindowBudgets, {
        snapshot: { key: keyWith([]), team: teamWith([daily, monthly]), budgetWindowSpend: spent([['team', 'team-abc', daily, 6]]) },
      }),
    ).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: Team=team-abc over 24h budget. Spend=$6.0000, Limit=$5.00',
      param: null,
    });
  });

  it('allows a team below every window, and a team without windows', () => {
    const budgetWindowSpend = spent([['team', 'team-abc', daily, 4]]);
    expect(decide(teamWindowBudgets, { snapshot: { team: teamWith([daily]), budgetWindowSpend } })).to.equal(null);
    expect(decide(teamWindowBudgets, { snapshot: { team: aTeam({ team_id: 'team-abc' }), budgetWindowSpend } })).to.equal(null);
  });

  it("runs after the team's own budget and before the key's windows (LiteLLM's order)", () => {
    const budgetWindowSpend = spent([
      ['team', 'team-abc', daily, 6],
      ['key', KEY_HASH, daily, 6],
    ]);
    const run = (team: ReturnType<typeof aTeam>) =>
      runChecks(aContext({ snapshot: { key: keyWith([daily]), team, budgetWindowSpend } }), VIRTUAL_KEY_PIPELINE)?.check ?? null;
    expect(run(aTeam({ team_id: 'team-abc', spend: 11, max_budget: 10, budget_limits: [daily] }))).to.equal('team_budget');
    expect(run(teamWith([daily]))).to.equal('team_window_budgets');
    expect(run(aTeam({ team_id: 'team-abc' }))).to.equal('key_window_budgets');
  });
});
