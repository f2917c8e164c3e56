/**
 * A write may be committed even when its answer is lost: running servers must be told either way.
 */
import { expect } from 'chai';
import type { EntityKind } from '../../src/cache/cached-auth-store';
import { announcedWrite } from '../../src/cli/admin-commands';

function announcements(): { session: { invalidate(kind: EntityKind, id: string): Promise<void> }; sent: string[] } {
  const sent: string[] = [];
  return { session: { invalidate: (kind, id) => Promise.resolve(void sent.push(`${kind}:${id}`)) }, sent };
}

describe('announcedWrite (CLI writes)', () => {
  it('tells servers of a write whose answer was lost, and of one that succeeded', async () => {
    const { session, sent } = announcements();
    const failed = await announcedWrite(session, [['key', 'abc']], () => Promise.reject(new Error('connection lost after commit'))).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(Error);
    expect(await announcedWrite(session, [['membership', 'u:t'], ['team', 't']], () => Promise.resolve(true))).to.equal(true);
    expect(sent).to.deep.equal(['key:abc', 'membership:u:t', 'team:t']);
  });
});
