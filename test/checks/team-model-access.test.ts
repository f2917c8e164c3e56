import { expect } from 'chai';
import { teamModelAccess } from '../../src/checks/team-model-access';
import { aDeployment, aKey, aTeam, accessGroupsById, anAccessGroup, decide } from './fixtures';

const teamKey = aKey({ team_id: 'team-1' });

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
