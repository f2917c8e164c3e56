import { expect } from 'chai';
import { teamBlocked } from '../../src/checks/team-blocked';
import { teamModelAccess } from '../../src/checks/team-model-access';
import { teamBudget } from '../../src/checks/team-budget';
import { aDeployment, aKey, aTeam, accessGroupsById, anAccessGroup, decide } from './fixtures';

const teamKey = aKey({ team_id: 'team-1' });

describe('team blocked — §4 step 1', () => {
  it("denies a key of a blocked team (401 auth_error) with LiteLLM's text, typo included", () => {
    expect(decide(teamBlocked, { snapshot: { key: teamKey, team: aTeam({ blocked: true }) } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: 'Authentication Error, Team=team-1 is blocked. Update via `/team/unblock` if your admin.',
      param: 'None',
    });
  });

  it('allows a key of an unblocked team, and a key without team', () => {
    expect(decide(teamBlocked, { snapshot: { key: teamKey, team: aTeam() } })).to.equal(null);
    expect(decide(teamBlocked)).to.equal(null);
  });
});

describe('team model access — §4 step 2', () => {
  it("denies a model outside the team's models (401 team_model_access_denied)", () => {
    expect(decide(teamModelAccess, { snapshot: { key: teamKey, team: aTeam({ models: ['o1'] }) } })).to.deep.equal({
      status: 401,
      type: 'team_model_access_denied',
      message: "team not allowed to access model. This team can only access models=['o1']. Tried to access gpt-4o",
      param: 'model',
    });
  });

  it('allows every model for a team with an empty list', () => {
    expect(decide(teamModelAccess, { snapshot: { key: teamKey, team: aTeam({ models: [] }) } })).to.equal(null);
  });

  it('governs "all-team-models" keys (key check skipped, team check applies)', () => {
    const key = aKey({ team_id: 'team-1', models: ['all-team-models'] });
    expect(decide(teamModelAccess, { snapshot: { key, team: aTeam({ models: ['o1'] }) } })?.type).to.equal('team_model_access_denied');
  });

  it("allows a model granted by the team's DB access groups", () => {
    expect(
      decide(teamModelAccess, {
        snapshot: {
          key: teamKey,
          team: aTeam({ models: ['o1'], access_group_ids: ['ag-9'] }),
          accessGroups: accessGroupsById(anAccessGroup({ access_group_id: 'ag-9', access_model_names: ['gpt-4o'] })),
        },
      }),
    ).to.equal(null);
  });

  it('allows a model through a router access group named in the team models', () => {
    expect(
      decide(teamModelAccess, {
        snapshot: { key: teamKey, team: aTeam({ models: ['beta'] }) },
        policy: { modelList: [aDeployment({ modelName: 'gpt-4o', accessGroups: ['beta'] })] },
      }),
    ).to.equal(null);
  });
});

describe('team budget — §4 step 3', () => {
  it('denies a team key at spend > max_budget (400 budget_exceeded) — LiteLLM: strict > for teams', () => {
    expect(decide(teamBudget, { snapshot: { key: teamKey, team: aTeam({ spend: 10.01, max_budget: 10 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Team=team-1 Current cost: 10.01, Max budget: 10.0',
      param: null,
    });
  });

  it('allows a team key at spend == max_budget (boundary)', () => {
    expect(decide(teamBudget, { snapshot: { key: teamKey, team: aTeam({ spend: 10, max_budget: 10 }) } })).to.equal(null);
  });

  it('applies on management routes too (LiteLLM does not look at the route)', () => {
    expect(
      decide(teamBudget, {
        request: { route: '/key/generate', model: null },
        snapshot: { key: teamKey, team: aTeam({ spend: 11, max_budget: 10 }) },
      })?.type,
    ).to.equal('budget_exceeded');
  });

  for (const route of ['/v1/models', '/models', '/team/info', '/model/info']) {
    it(`README §4.1: exempts info route ${route} for a team over budget`, () => {
      expect(
        decide(teamBudget, { request: { route, method: 'GET', model: null }, snapshot: { key: teamKey, team: aTeam({ spend: 11, max_budget: 10 }) } }),
      ).to.equal(null);
    });
  }

  it('§2.7.5: skips for an explicitly free model', () => {
    expect(
      decide(teamBudget, {
        snapshot: { key: teamKey, team: aTeam({ spend: 11, max_budget: 10 }) },
        policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] },
      }),
    ).to.equal(null);
  });
});
