import { expect } from 'chai';
import { personalUserBudget } from '../../src/checks/user-budget';
import { aKey, aTeam, aUser, decide } from './fixtures';

describe('personal user budget — §4 step 4.1', () => {
  const personalKey = aKey({ user_id: 'user-1' });

  it('denies a personal key when user spend > max_budget (400, ExceededBudget message)', () => {
    expect(decide(personalUserBudget, { snapshot: { key: personalKey, user: aUser({ spend: 20.5, max_budget: 20 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: User=user-1 over budget. Spend=20.5, Budget=20.0',
      param: null,
    });
  });

  it('allows at user spend == max_budget (strict >, seed behaviour)', () => {
    expect(decide(personalUserBudget, { snapshot: { key: personalKey, user: aUser({ spend: 20, max_budget: 20 }) } })).to.equal(null);
  });

  it('does not apply to team keys', () => {
    expect(
      decide(personalUserBudget, {
        snapshot: { key: aKey({ user_id: 'user-1', team_id: 'team-1' }), team: aTeam(), user: aUser({ spend: 30, max_budget: 20 }) },
      }),
    ).to.equal(null);
  });

  it('applies to team keys too with general_settings.apply_user_budget_to_team_keys (newer LiteLLM, opt-in)', () => {
    const snapshot = { key: aKey({ user_id: 'user-1', team_id: 'team-1' }), team: aTeam(), user: aUser({ spend: 30, max_budget: 20 }) };
    expect(decide(personalUserBudget, { snapshot, policy: { applyUserBudgetToTeamKeys: true } })?.message).to.equal(
      'ExceededBudget: User=user-1 over budget. Spend=30.0, Budget=20.0',
    );
    expect(decide(personalUserBudget, { snapshot, policy: { applyUserBudgetToTeamKeys: false } })).to.equal(null);
  });
});
