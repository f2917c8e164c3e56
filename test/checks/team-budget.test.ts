import { expect } from 'chai';
import { teamBudget } from '../../src/checks/team-budget';
import { aDeployment, aKey, aTeam, decide } from './fixtures';

const teamKey = aKey({ team_id: 'team-1' });

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
