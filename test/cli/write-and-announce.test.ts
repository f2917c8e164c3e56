/**
 * A block's UPDATE may be committed even when reading the row back fails: running servers must
 * be told either way, under the id they cache the row by.
 */
import { expect } from 'chai';
import type { EntityKind } from '../../src/cache/cached-auth-store';
import { announcedWrite, writeAndAnnounce } from '../../src/cli/admin-commands';

function announcements(): { session: { invalidate(kind: EntityKind, id: string): Promise<void> }; sent: string[] } {
  const sent: string[] = [];
  return { session: { invalidate: (kind, id) => Promise.resolve(void sent.push(`${kind}:${id}`)) }, sent };
}

describe('writeAndAnnounce (CLI writes that read their row back)', () => {
  it('announces the write when reading the row back failed, and still reports the failure', async () => {
    const { session, sent } = announcements();
    const failed = await writeAndAnnounce(session, 'team', 'research', () => Promise.reject(new Error('read-back timed out')), () => 'research').catch(
      (e: unknown) => e,
    );
    expect(String(failed)).to.match(/read-back timed out/);
    expect(sent).to.deep.equal(['team:research']);
  });

  it('announces the stored id too when the database matched a differently written one', async () => {
    const { session, sent } = announcements();
    const row = await writeAndAnnounce(session, 'team', 'research ', () => Promise.resolve({ team_id: 'research' }), (r) => r.team_id);
    expect(row).to.deep.equal({ team_id: 'research' });
    expect(sent).to.deep.equal(['team:research ', 'team:research']);
  });

  it('announces once when the id is the stored one, and once when no row matched', async () => {
    const { session, sent } = announcements();
    await writeAndAnnounce(session, 'key', 'abc', () => Promise.resolve({ token: 'abc' }), (r) => r.token);
    expect(await writeAndAnnounce(session, 'key', 'def', () => Promise.resolve(null), () => 'never')).to.equal(null);
    expect(sent).to.deep.equal(['key:abc', 'key:def']);
  });

  it('announcedWrite tells servers of a write whose answer was lost, and of one that succeeded', async () => {
    const { session, sent } = announcements();
    const failed = await announcedWrite(session, [['key', 'abc']], () => Promise.reject(new Error('connection lost after commit'))).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(Error);
    expect(await announcedWrite(session, [['membership', 'u:t'], ['team', 't']], () => Promise.resolve(true))).to.equal(true);
    expect(sent).to.deep.equal(['key:abc', 'membership:u:t', 'team:t']);
  });
});
