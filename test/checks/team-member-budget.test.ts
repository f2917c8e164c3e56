import { expect } from 'chai';
import { teamMemberBudget, teamMemberBudgetOnKeyPath } from '../../src/checks/team-member-budget';
import { aBudget, aDeployment, aKey, aMembership, aTeam, aUser, decide } from './fixtures';

const freeGpt4o = { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] };

describe('team-member budget — §2.7 step 6 and §4 step 4.2 (§12: two different rules)', () => {
  const key = aKey({ user_id: 'user-1', team_id: 'team-1' });
  const base = { key, team: aTeam(), user: aUser() };
  const member = (spend: number, max: number | null) => aMembership({ spend, budget: aBudget({ max_budget: max }) });

  it('key path: denies at member spend > max_budget with the default message', () => {
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...base, membership: member(5.5, 5) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Current cost: 5.5, Max budget: 5.0',
      param: null,
    });
  });

  it('key path: allows at member spend == max_budget (strict >)', () => {
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...base, membership: member(5, 5) } })).to.equal(null);
  });

  it('key path: ignores a max_budget of 0', () => {
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...base, membership: member(1, 0) } })).to.equal(null);
  });

  it('common_checks: denies at member spend == max_budget (>=) with the User/Team message', () => {
    expect(decide(teamMemberBudget, { snapshot: { ...base, membership: member(5, 5) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! User=user-1 in Team=team-1 Current cost: 5.0, Max budget: 5.0',
      param: null,
    });
  });

  it('common_checks: denies at max_budget == 0 even with no spend', () => {
    expect(decide(teamMemberBudget, { snapshot: { ...base, membership: member(0, 0) } })?.type).to.equal('budget_exceeded');
  });

  it('common_checks: needs the user row (no user → not checked)', () => {
    expect(decide(teamMemberBudget, { snapshot: { ...base, user: null, membership: member(9, 5) } })).to.equal(null);
  });

  describe("the team's default member budget (team.metadata.team_member_budget_id, newer LiteLLM)", () => {
    const defaultBudget = aBudget({ budget_id: 'member-default', max_budget: 5 });
    const withDefault = { ...base, team: aTeam({ metadata: { team_member_budget_id: 'member-default' } }), teamMemberDefaultBudget: defaultBudget };

    it('applies to a membership without a budget row of its own', () => {
      const membership = aMembership({ spend: 5, budget: null });
      expect(decide(teamMemberBudget, { snapshot: { ...withDefault, membership } })?.message).to.equal(
        'Budget has been exceeded! User=user-1 in Team=team-1 Current cost: 5.0, Max budget: 5.0',
      );
      expect(decide(teamMemberBudget, { snapshot: { ...withDefault, membership: aMembership({ spend: 4.9, budget: null }) } })).to.equal(null);
    });

    it("gives way to the membership's own budget row, even one without a max_budget", () => {
      expect(decide(teamMemberBudget, { snapshot: { ...withDefault, membership: member(5, 10) } })).to.equal(null);
      expect(decide(teamMemberBudget, { snapshot: { ...withDefault, membership: member(50, null) } })).to.equal(null);
    });

    it('holds a member with no membership row at all to it with a spend of 0 (refused only by a budget of 0)', () => {
      expect(decide(teamMemberBudget, { snapshot: { ...withDefault, membership: null } })).to.equal(null);
      const zero = { ...withDefault, membership: null, teamMemberDefaultBudget: aBudget({ budget_id: 'member-default', max_budget: 0 }) };
      expect(decide(teamMemberBudget, { snapshot: zero })?.message).to.equal('Budget has been exceeded! User=user-1 in Team=team-1 Current cost: 0.0, Max budget: 0.0');
    });

    it("with metering, holds a caller with no membership row to it by the shared team-member counter (LiteLLM's spend:team_member)", () => {
      const snapshot = { ...withDefault, membership: null, nonMemberTeamSpend: 5 };
      expect(decide(teamMemberBudget, { snapshot })?.message).to.equal('Budget has been exceeded! User=user-1 in Team=team-1 Current cost: 5.0, Max budget: 5.0');
      expect(decide(teamMemberBudget, { snapshot: { ...snapshot, nonMemberTeamSpend: 4 } })).to.equal(null);
    });

    it('is not read on the key path (the builder reads the membership\'s own budget only)', () => {
      expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...withDefault, membership: aMembership({ spend: 9, budget: null }) } })).to.equal(null);
    });
  });

  it('both: skipped for free models and info routes', () => {
    const snapshot = { ...base, membership: member(9, 5) };
    expect(decide(teamMemberBudget, { snapshot, policy: freeGpt4o })).to.equal(null);
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot, request: { route: '/key/info', model: null } })).to.equal(null);
  });
});
