import { expect } from 'chai';
import { CachedJwtDirectory } from '../../../src/auth/jwt/directory-cache';
import { isPromise } from '../../../src/util/maybe-promise';
import { MemoryStore } from '../../support/memory-store';
import { aUser } from '../../checks/fixtures';
import { MemoryDirectory } from './fixtures';

describe('CachedJwtDirectory (alias and fallback-user reads remembered for a short TTL)', () => {
  let store: MemoryStore;
  let directory: MemoryDirectory;

  beforeEach(() => {
    store = new MemoryStore();
    directory = new MemoryDirectory(store);
    directory.teamAliases.set('platform', ['t-1']);
    directory.usersBySso.set('sso-1', aUser({ user_id: 'u-1' }));
  });

  it('asks the directory once, then answers at once, without a promise', async () => {
    const cached = new CachedJwtDirectory(directory, 60_000);
    const first = cached.teamIdsWithAlias('platform');
    expect(isPromise(first)).to.equal(true);
    expect(await first).to.deep.equal(['t-1']);
    const again = cached.teamIdsWithAlias('platform');
    expect(isPromise(again)).to.equal(false);
    expect(again).to.deep.equal(['t-1']);
    expect(await cached.findUserBySsoIdOrEmail('sso-1', null)).to.include({ user_id: 'u-1' });
    const user = cached.findUserBySsoIdOrEmail('sso-1', null);
    expect(isPromise(user)).to.equal(false);
    expect(directory.calls.filter((call) => call.startsWith('findUserBySsoIdOrEmail'))).to.have.length(1);
  });

  it('remembers that nothing matched too, until a user is created', async () => {
    const cached = new CachedJwtDirectory(directory, 60_000);
    expect(await cached.findUserBySsoIdOrEmail('sso-new', 'New@Example.com')).to.equal(null);
    expect(cached.findUserBySsoIdOrEmail('sso-new', 'new@example.com'), 'e-mail compared case-insensitively').to.equal(null);
    expect(await cached.organizationIdsWithAlias('nobody')).to.deep.equal([]);
    expect(cached.organizationIdsWithAlias('nobody')).to.deep.equal([]);
    directory.usersBySso.set('sso-new', aUser({ user_id: 'u-new' }));
    await cached.upsertUser({ userId: 'u-other', email: null, role: null, maxBudget: null, models: [] });
    // The write forgets every remembered answer: a "no such user" must not outlive the row.
    expect(await cached.findUserBySsoIdOrEmail('sso-new', 'new@example.com')).to.include({ user_id: 'u-new' });
  });

  it('never serves one pair of claims the answer remembered for another, whatever characters the claims hold', async () => {
    directory.usersBySso.set('a\u0000b', aUser({ user_id: 'u-nul' }));
    const cached = new CachedJwtDirectory(directory, 60_000);
    expect(await cached.findUserBySsoIdOrEmail('a\u0000b', 'c@example.com')).to.include({ user_id: 'u-nul' });
    // Joined by U+0000 both pairs read "a\0b\0c@example.com".
    expect(await cached.findUserBySsoIdOrEmail('a', 'b\u0000c@example.com')).to.equal(null);
  });

  it('asks again once the TTL has passed', async () => {
    const cached = new CachedJwtDirectory(directory, 5);
    await cached.teamIdsWithAlias('platform');
    directory.teamAliases.set('platform', ['t-1', 't-2']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await cached.teamIdsWithAlias('platform')).to.deep.equal(['t-1', 't-2']);
  });

  it('never remembers a failed read', async () => {
    let failing = true;
    const flaky = Object.assign(Object.create(directory) as MemoryDirectory, {
      teamIdsWithAlias: (alias: string) => (failing ? Promise.reject(new Error('db down')) : directory.teamIdsWithAlias(alias)),
    });
    const cached = new CachedJwtDirectory(flaky, 60_000);
    const error = await Promise.resolve(cached.teamIdsWithAlias('platform')).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    failing = false;
    expect(await cached.teamIdsWithAlias('platform')).to.deep.equal(['t-1']);
  });
});
