import { expect } from 'chai';
import { teamBlocked } from '../../src/checks/team-blocked';
import { aKey, aTeam, decide } from './fixtures';

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
