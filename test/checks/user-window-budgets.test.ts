import { expect } from 'chai';
import { endUserWindowBudgets, userWindowBudgets } from '../../src/checks/window-budgets';
import { runChecks } from '../../src/checks/engine';
import { COMMON_CHECKS, VIRTUAL_KEY_PIPELINE } from '../../src/checks/order';
import type { BudgetWindowLimit } from '../../src/domain/entities';
import { parseBudgetLimits, windowSpendId, type WindowEntity } from '../../src/spend/window-limits';
import { aBudget, aContext, aDeployment, aKey, anEndUser, aTeam, aUser, decide } from './fixtures';

const hourly: BudgetWindowLimit = { budget_duration: '1h', max_budget: 5, reset_at: null };
const daily: BudgetWindowLimit = { budget_duration: '1d', max_budget: 50, reset_at: null };

const personalKey = aKey({ team_id: null, user_id: 'user-1' });
const userWith = (windows: readonly BudgetWindowLimit[]) => aUser({ user_id: 'user-1', budget_limits: windows });
const endUserWith = (windows: readonly BudgetWindowLimit[]) => anEndUser({ user_id: 'customer-1', budget_limits: windows });
const spent = (entries: ReadonlyArray<readonly [entity: WindowEntity, id: string, window: BudgetWindowLimit, spend: number]>) =>
  new Map(entries.map(([entity, id, window, spend]) => [windowSpendId(entity, id, window), spend]));

describe('user multi-window budgets — common_checks step 4.1, personal keys (_user_multi_budget_check) [newer]', () => {
  it('refuses at spend == max_budget of a window (>=), naming the user and the window (400 budget_exceeded)', () => {
    const budgetWindowSpend = spent([['user', 'user-1', hourly, 5]]);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user: userWith([hourly, daily]), budgetWindowSpend } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: User=user-1 over 1h budget. Spend=$5.0000, Limit=$5.00',
      param: null,
    });
  });

  it('refuses on the first window over its budget, in the order the user lists them', () => {
    const budgetWindowSpend = spent([
      ['user', 'user-1', hourly, 2],
      ['user', 'user-1', daily, 55.123456],
    ]);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user: userWith([hourly, daily]), budgetWindowSpend } })?.message).to.equal(
      'ExceededBudget: User=user-1 over 1d budget. Spend=$55.1235, Limit=$50.00',
    );
  });

  it('allows a user below every window, a user without windows, and no user at all', () => {
    const budgetWindowSpend = spent([['user', 'user-1', hourly, 4.99]]);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user: userWith([hourly]), budgetWindowSpend } })).to.equal(null);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user: aUser({ user_id: 'user-1' }), budgetWindowSpend } })).to.equal(null);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user: null, budgetWindowSpend } })).to.equal(null);
  });

  it("does not judge a team key by its owner's windows (team keys answer to team budgets, as newer LiteLLM's common_checks skips it)", () => {
    const budgetWindowSpend = spent([['user', 'user-1', hourly, 9]]);
    const snapshot = { key: aKey({ team_id: 'team-abc', user_id: 'user-1' }), team: aTeam({ team_id: 'team-abc' }), user: userWith([hourly]), budgetWindowSpend };
    expect(decide(userWindowBudgets, { snapshot })).to.equal(null);
    expect(decide(userWindowBudgets, { snapshot, policy: { applyUserBudgetToTeamKeys: true } })?.type, 'unless apply_user_budget_to_team_keys').to.equal('budget_exceeded');
  });

  it('does not read the key\'s or end user\'s spend for the user\'s windows', () => {
    const budgetWindowSpend = spent([
      ['key', 'user-1', hourly, 9],
      ['end_user', 'user-1', hourly, 9],
    ]);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user: userWith([hourly]), budgetWindowSpend } })).to.equal(null);
  });

  it('skips info routes and free models, as every budget check', () => {
    const snapshot = { key: personalKey, user: userWith([hourly]), budgetWindowSpend: spent([['user', 'user-1', hourly, 9]]) };
    expect(decide(userWindowBudgets, { request: { route: '/v1/models', method: 'GET', model: null }, snapshot })).to.equal(null);
    const free = { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] };
    expect(decide(userWindowBudgets, { snapshot, policy: free })).to.equal(null);
  });

  it('ignores malformed windows (no or empty duration, unreadable duration, non-numeric max_budget) and enforces the rest', () => {
    const windows = parseBudgetLimits([
      { budget_duration: '', max_budget: 0 },
      { budget_duration: null, max_budget: 0 },
      { budget_duration: 'fortnight', max_budget: 0 },
      { budget_duration: '1d', max_budget: '0' },
      { budget_duration: '1d' },
      { budget_duration: '1h', max_budget: 1 },
    ]);
    expect(windows.map((w) => w.budget_duration)).to.deep.equal(['1h']);
    const user = userWith(windows);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user } })).to.equal(null);
    const over = spent([['user', 'user-1', { budget_duration: '1h', max_budget: 1, reset_at: null }, 1]]);
    expect(decide(userWindowBudgets, { snapshot: { key: personalKey, user, budgetWindowSpend: over } })?.message).to.equal(
      'ExceededBudget: User=user-1 over 1h budget. Spend=$1.0000, Limit=$1.00',
    );
  });

  it("runs after the user's own max_budget and before the team-member budget (LiteLLM's 4.1)", () => {
    const budgetWindowSpend = spent([['user', 'user-1', hourly, 6]]);
    const run = (user: ReturnType<typeof aUser>) =>
      runChecks(aContext({ snapshot: { key: personalKey, user, budgetWindowSpend } }), VIRTUAL_KEY_PIPELINE)?.check ?? null;
    expect(run(aUser({ user_id: 'user-1', spend: 11, max_budget: 10, budget_limits: [hourly] }))).to.equal('personal_user_budget');
    expect(run(userWith([hourly]))).to.equal('user_window_budgets');
    const names = COMMON_CHECKS.map((c) => c.name);
    expect(names.indexOf('user_window_budgets')).to.equal(names.indexOf('personal_user_budget') + 1);
    expect(names.indexOf('team_member_budget')).to.equal(names.indexOf('user_window_budgets') + 1);
  });
});

describe('end-user multi-window budgets — common_checks step 5 (_end_user_multi_budget_check) [newer]', () => {
  it('refuses at spend >= max_budget of a window, naming the end user and the window (400 budget_exceeded)', () => {
    const budgetWindowSpend = spent([['end_user', 'customer-1', hourly, 6]]);
    expect(decide(endUserWindowBudgets, { snapshot: { endUser: endUserWith([hourly, daily]), budgetWindowSpend } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: End User=customer-1 over 1h budget. Spend=$6.0000, Limit=$5.00',
      param: null,
    });
  });

  it('applies to team keys too, and allows an end user below every window or without one', () => {
    const snapshot = { key: aKey({ team_id: 'team-abc' }), team: aTeam({ team_id: 'team-abc' }), endUser: endUserWith([daily]) };
    expect(decide(endUserWindowBudgets, { snapshot: { ...snapshot, budgetWindowSpend: spent([['end_user', 'customer-1', daily, 50]]) } })?.message).to.equal(
      'ExceededBudget: End User=customer-1 over 1d budget. Spend=$50.0000, Limit=$50.00',
    );
    expect(decide(endUserWindowBudgets, { snapshot: { ...snapshot, budgetWindowSpend: spent([['end_user', 'customer-1', daily, 49]]) } })).to.equal(null);
    expect(decide(endUserWindowBudgets, { snapshot: { endUser: anEndUser() } })).to.equal(null);
    expect(decide(endUserWindowBudgets, { snapshot: { endUser: null } })).to.equal(null);
  });

  it('skips info routes and free models, as every budget check', () => {
    const snapshot = { endUser: endUserWith([hourly]), budgetWindowSpend: spent([['end_user', 'customer-1', hourly, 9]]) };
    expect(decide(endUserWindowBudgets, { request: { route: '/v1/models', method: 'GET', model: null }, snapshot })).to.equal(null);
    const free = { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] };
    expect(decide(endUserWindowBudgets, { snapshot, policy: free })).to.equal(null);
  });

  it("runs after the end user's own budget and before enforce_user_param (LiteLLM's step 5)", () => {
    const budgetWindowSpend = spent([['end_user', 'customer-1', hourly, 6]]);
    const run = (endUser: ReturnType<typeof anEndUser>) =>
      runChecks(aContext({ snapshot: { endUser, budgetWindowSpend } }), COMMON_CHECKS)?.check ?? null;
    expect(run(anEndUser({ user_id: 'customer-1', spend: 11, budget: aBudget({ max_budget: 10 }), budget_limits: [hourly] }))).to.equal('end_user_budget');
    expect(run(endUserWith([hourly]))).to.equal('end_user_window_budgets');
    const names = COMMON_CHECKS.map((c) => c.name);
    expect(names.indexOf('end_user_window_budgets')).to.equal(names.indexOf('end_user_budget') + 1);
  });
});
