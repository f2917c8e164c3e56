import { expect } from 'chai';
import { budgetLimitsOf } from '../../src/spend/budget-limits';
import { aBudget, aContext, aKey, aMembership, aSnapshot, aTeam, aUser } from '../checks/fixtures';

/** The kinds of the budgets a reservation must fit in, with their limits. */
const limitsOf = (snapshot: Parameters<typeof aSnapshot>[0]): string[] =>
  budgetLimitsOf(aContext({ snapshot: aSnapshot(snapshot) })).map((l) => `${l.slot.target.kind}:${l.max}`);

describe('spend: the budgets a reservation must fit in (the budget checks\' scope)', () => {
  const user = aUser({ user_id: 'alice', max_budget: 5 });

  it("reserves against a team-less user's own budget, as personal_user_budget checks it: a personal key", () => {
    expect(limitsOf({ key: aKey({ user_id: 'alice', team_id: null, max_budget: 10 }), user })).to.deep.equal(['key:10', 'user:5']);
  });

  it('reserves against a team-less user\'s own budget for a JWT caller too (no key)', () => {
    expect(limitsOf({ key: null, user })).to.deep.equal(['user:5']);
  });

  it("never against the user's budget when a team pays (the check skips it)", () => {
    const team = aTeam({ team_id: 't', max_budget: 20 });
    expect(limitsOf({ key: aKey({ user_id: 'alice', team_id: 't' }), user, team })).to.deep.equal(['team:20']);
  });

  it("against the user's budget for a team key too with apply_user_budget_to_team_keys", () => {
    const team = aTeam({ team_id: 't', max_budget: 20 });
    const snapshot = aSnapshot({ key: aKey({ user_id: 'alice', team_id: 't' }), user, team });
    const limits = budgetLimitsOf(aContext({ snapshot, policy: { applyUserBudgetToTeamKeys: true } })).map((l) => `${l.slot.target.kind}:${l.max}`);
    expect(limits).to.deep.equal(['user:5', 'team:20']);
  });

  it("against a member's own budget row, else the team's default member budget (team_member_budget_id)", () => {
    const team = aTeam({ team_id: 't', metadata: { team_member_budget_id: 'member-default' } });
    const key = aKey({ user_id: 'alice', team_id: 't' });
    const defaultBudget = aBudget({ budget_id: 'member-default', max_budget: 3 });
    const bare = aMembership({ user_id: 'alice', team_id: 't', budget: null });
    expect(limitsOf({ key, user, team, membership: bare, teamMemberDefaultBudget: defaultBudget })).to.deep.equal(['team_member:3']);
    const own = aMembership({ user_id: 'alice', team_id: 't', budget: aBudget({ budget_id: 'own', max_budget: 7 }) });
    expect(limitsOf({ key, user, team, membership: own, teamMemberDefaultBudget: defaultBudget })).to.deep.equal(['team_member:7']);
    expect(limitsOf({ key, user, team, membership: null, teamMemberDefaultBudget: defaultBudget }), 'no membership row: held by its counter').to.deep.equal(['team_member:3']);
    expect(limitsOf({ key, user: null, team, membership: own }), 'no user row: the check skips the member budget, so does the reservation').to.deep.equal([]);
  });

  it('reserves nothing against the budget of a key throttled over it: it passed the check by being slowed', () => {
    const key = aKey({ user_id: 'alice', team_id: null, max_budget: 10, spend: 12, rpm_limit: 5, metadata: { throttle_on_budget_exceeded: true } });
    const kinds = (share: number | null) =>
      budgetLimitsOf(aContext({ snapshot: aSnapshot({ key, user }), policy: { budgetExceededThrottlePercentage: share } })).map((l) => l.slot.target.kind);
    expect(kinds(0.5)).to.deep.equal(['user']);
    expect(kinds(null)).to.deep.equal(['key', 'user']);
  });
});
