import { expect } from 'chai';
import { teamMemberModelAccess } from '../../src/checks/team-member-model-access';
import { aBudget, aKey, aMembership, aTeam, decide } from './fixtures';

const teamKey = aKey({ team_id: 'team-1', user_id: 'user-1' });
const scoped = aMembership({ budget: aBudget({ allowed_models: ['gpt-4o-mini'] }) });

describe('team member model access — §4 step 2.2 [newer]', () => {
  it("denies a model outside the member's allowed_models, whatever the team allows (401 team_model_access_denied)", () => {
    expect(decide(teamMemberModelAccess, { snapshot: { key: teamKey, team: aTeam({ models: [] }), membership: scoped } })).to.deep.equal({
      status: 401,
      type: 'team_model_access_denied',
      message: "Team member not allowed to access model. User=user-1, Team=team-1, Model=gpt-4o. Allowed member models = ['gpt-4o-mini']",
      param: 'model',
    });
  });

  it('allows a model the member may call, and every model when the list is empty or there is no membership budget', () => {
    expect(decide(teamMemberModelAccess, { request: { model: 'gpt-4o-mini', body: { model: 'gpt-4o-mini' } }, snapshot: { key: teamKey, team: aTeam(), membership: scoped } })).to.equal(null);
    expect(decide(teamMemberModelAccess, { snapshot: { key: teamKey, team: aTeam(), membership: aMembership({ budget: aBudget({ allowed_models: [] }) }) } })).to.equal(null);
    expect(decide(teamMemberModelAccess, { snapshot: { key: teamKey, team: aTeam(), membership: aMembership() } })).to.equal(null);
  });

  it('prints a multi-model request as a Python list', () => {
    const denial = decide(teamMemberModelAccess, { request: { model: ['gpt-4o-mini', 'o1'] }, snapshot: { key: teamKey, team: aTeam(), membership: scoped } });
    expect(denial?.message).to.include("Model=['gpt-4o-mini', 'o1']");
  });
});
