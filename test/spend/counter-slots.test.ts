import { expect } from 'chai';
import { counterSlots, overlaySpend } from '../../src/spend/counter-slots';
import { targetName } from '../../src/spend/targets';
import { aBudget, aKey, aSnapshot, aTeam, NOW, KEY_HASH } from '../checks/fixtures';
import type { Snapshot } from '../../src/checks/types';

function full(): Snapshot {
  return aSnapshot({
    key: aKey({ spend: 1, team_id: 'team-1', user_id: 'user-1', budget_duration: '30d', budget_reset_at: new Date(NOW.getTime() - 1000) }),
    team: aTeam({ team_id: 'team-1', spend: 2 }),
    membership: { user_id: 'user-1', team_id: 'team-1', spend: 3, budget: aBudget({ max_budget: 10 }) },
    tags: [{ tag_name: 'prod', spend: 4, budget_id: null, budget: null }],
  });
}

describe('spend: counters over a snapshot', () => {
  it('names one counter per entity, with its window and the database spend of that window as seed', () => {
    const slots = counterSlots(full(), NOW.getTime());
    expect(slots.map((s) => targetName(s.target))).to.deep.equal([`key:${KEY_HASH}`, 'team:team-1', 'team_member:user-1:team-1', 'tag:prod']);
    const key = slots[0];
    // The key's reset date just passed: a new window up to the 1st of next month (LiteLLM's reset
    // for 30d), and its database spend belongs to the old one.
    expect(key.windowEnd).to.equal(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth() + 1, 1));
    expect(key.windowStart).to.equal(NOW.getTime() - 1000);
    expect(key.seed).to.equal(0);
    expect(slots[1]).to.deep.include({ windowEnd: 0, seed: 2 });
  });

  it('lays counter values over the spend columns and keeps everything else (frozen)', () => {
    const snapshot = full();
    const values = new Map([
      [`key:${KEY_HASH}`, 7.5],
      ['team_member:user-1:team-1', 9],
      ['tag:prod', 0.25],
    ]);
    const overlaid = overlaySpend(snapshot, values);
    expect(overlaid.key?.spend).to.equal(7.5);
    expect(overlaid.team?.spend, 'no counter value: database spend kept').to.equal(2);
    expect(overlaid.membership?.spend).to.equal(9);
    expect(overlaid.tags[0].spend).to.equal(0.25);
    expect(overlaid.key?.team_id).to.equal('team-1');
    expect(Object.isFrozen(overlaid.key)).to.equal(true);
    expect(snapshot.key?.spend, 'the cached snapshot is not mutated').to.equal(1);
  });

  it("reads the team-member counter of a caller with no membership row whom the team's default member budget holds, from 0", () => {
    const base = {
      key: aKey({ team_id: 'team-1', user_id: 'user-1' }),
      team: aTeam({ team_id: 'team-1', metadata: { team_member_budget_id: 'member-default' } }),
      membership: null,
    };
    const held = aSnapshot({ ...base, teamMemberDefaultBudget: aBudget({ budget_id: 'member-default', max_budget: 5 }) });
    const slot = counterSlots(held, NOW.getTime()).find((s) => s.target.kind === 'team_member');
    expect(slot === undefined ? null : { name: targetName(slot.target), seed: slot.seed }).to.deep.equal({ name: 'team_member:user-1:team-1', seed: 0 });
    expect(overlaySpend(held, new Map([['team_member:user-1:team-1', 4.5]])).nonMemberTeamSpend).to.equal(4.5);
    expect(overlaySpend(held, new Map()).nonMemberTeamSpend, 'no counter yet: nothing spent').to.equal(0);
    const unheld = aSnapshot(base);
    expect(counterSlots(unheld, NOW.getTime()).map((s) => s.target.kind)).to.not.include('team_member');
    expect(overlaySpend(unheld, new Map()).nonMemberTeamSpend).to.equal(undefined);
  });

  it("follows a team's and a user's own budget window, like a key's", () => {
    const resetAt = new Date(NOW.getTime() + 86_400_000);
    const snapshot = aSnapshot({ key: aKey(), team: aTeam({ team_id: 't', spend: 2, budget_duration: '30d', budget_reset_at: resetAt }) });
    const team = counterSlots(snapshot, NOW.getTime()).find((s) => s.target.kind === 'team');
    expect(team).to.deep.include({ windowEnd: resetAt.getTime(), seed: 2 });
  });

  it('encodes ids so that no two entities share a counter', () => {
    expect(targetName({ kind: 'team_member', id: 'a:b', teamId: 'c' })).to.not.equal(targetName({ kind: 'team_member', id: 'a', teamId: 'b:c' }));
  });
});
