/**
 * validate_end_user_id_in_db through the caching store: the email → user id answers are shared by
 * every spelling of an email, and a user written through Tollgate (the CLI's invalidation: a purge
 * by the writer, a message to every replica) is recognised at once, not after the negative TTL.
 */
import { expect } from 'chai';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import { isPromise } from '../../src/util/maybe-promise';
import { validatedEndUserId } from '../../src/snapshot/end-user-validation';
import { aPolicy, aUser } from '../checks/fixtures';
import { MapSharedCache } from '../support/map-shared-cache';
import { MemoryStore } from '../support/memory-store';

const POLICY = aCachePolicy({ negativeTtlMs: 60_000, sharedPrefix: 'euv:' });

describe('validate_end_user_id_in_db through the cache', () => {
  const on = aPolicy({ validateEndUserIdInDb: true });

  function emailLookups(store: MemoryStore): number {
    return store.calls.filter((call) => call.startsWith('findUserIdByEmail:')).length;
  }

  it('asks the database once for every spelling of an email, and answers the next Check from memory', async () => {
    const database = new MemoryStore();
    database.users.set('u-1', aUser({ user_id: 'u-1', user_email: 'Alice@Example.com' }));
    const cached = new CachedAuthStore(database, POLICY, new MapSharedCache());
    expect(await validatedEndUserId(cached, 'alice@example.com', on)).to.equal('alice@example.com');
    expect(await validatedEndUserId(cached, 'ALICE@example.COM', on)).to.equal('ALICE@example.COM');
    expect(emailLookups(database)).to.equal(1);
    const warm = validatedEndUserId(cached, 'ALICE@example.COM', on);
    expect(isPromise(warm), 'answered from memory').to.equal(false);
    expect(warm).to.equal('ALICE@example.COM');
  });

  it('recognises a user the CLI gives that email at once, on a replica that had found none', async () => {
    const database = new MemoryStore();
    const shared = new MapSharedCache();
    const replica = new CachedAuthStore(database, POLICY, shared);
    const cli = new CachedAuthStore(database, POLICY, shared);
    expect(await validatedEndUserId(replica, 'Bob@Example.com', on)).to.equal(null);

    // `tollgate user create --user-id bob --email bob@example.com`: the row, the writer's purge,
    // then the message every replica receives (CacheInvalidationPublisher / Listener).
    database.users.set('bob', aUser({ user_id: 'bob', user_email: 'bob@example.com' }));
    await cli.invalidate('user', 'bob');
    replica.dropLocal('user', 'bob');

    expect(await validatedEndUserId(replica, 'Bob@Example.com', on)).to.equal('Bob@Example.com');
  });

  it('keeps the email answers when another kind is invalidated', async () => {
    const database = new MemoryStore();
    const replica = new CachedAuthStore(database, POLICY, new MapSharedCache());
    await validatedEndUserId(replica, 'carol@example.com', on);
    replica.dropLocal('team', 'carol@example.com');
    await validatedEndUserId(replica, 'carol@example.com', on);
    expect(emailLookups(database)).to.equal(1);
  });
});
