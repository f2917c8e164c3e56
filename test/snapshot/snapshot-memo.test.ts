import { expect } from 'chai';
import { CachedAuthStore, type CachePolicy } from '../../src/cache/cached-auth-store';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import type { Snapshot } from '../../src/checks/types';
import type { RequestFacts } from '../../src/domain/request';
import { loadSnapshot } from '../../src/snapshot/load-snapshot';
import { SnapshotMemo } from '../../src/snapshot/snapshot-memo';
import { aBudget, aKey, aMembership, anEndUser, anOrg, aPolicy, aRequest, aTag, aTeam, aUser, KEY_HASH } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

const CACHE_POLICY: CachePolicy = {
  ttlMs: 60_000,
  refreshAfterMs: 5_000,
  negativeTtlMs: 5_000,
  maxStaleOnErrorMs: 600_000,
  maxEntries: 100,
  sharedPrefix: 'test:',
};

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A team key of a user in an organization, through the cached store on a clock the test moves. */
function setup() {
  const store = new MemoryStore();
  store.keys.set(KEY_HASH, aKey({ team_id: 't1', user_id: 'u1' }));
  store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1', max_budget: 100 }));
  store.users.set('u1', aUser({ user_id: 'u1' }));
  store.memberships.set('u1:t1', aMembership({ user_id: 'u1', team_id: 't1' }));
  store.organizations.set('o1', anOrg({ organization_id: 'o1' }));
  store.endUsers.set('cust', anEndUser({ user_id: 'cust' }));
  store.tags.set('prod', aTag({ tag_name: 'prod' }));
  let now = 1_000_000;
  const hits: string[] = [];
  const events = {
    hit: (kind: string) => hits.push(kind),
    miss: () => undefined,
    staleServed: () => undefined,
    sharedTierError: () => undefined,
    backgroundRefreshError: () => undefined,
  };
  const cached = new CachedAuthStore(store, CACHE_POLICY, NO_SHARED_CACHE, events, () => now);
  const memo = new SnapshotMemo();
  const policy = aPolicy();
  const load = (facts: RequestFacts = aRequest()): Promise<Snapshot> =>
    Promise.resolve(loadSnapshot(cached, facts, KEY_HASH, policy, undefined, memo));
  /** Loads until every entity is in memory, then clears the store's call log. */
  const warm = async (facts: RequestFacts = aRequest()): Promise<Snapshot> => {
    await load(facts);
    const snapshot = await load(facts);
    store.calls.length = 0;
    hits.length = 0;
    return snapshot;
  };
  return { store, cached, memo, load, warm, hits, advance: (ms: number) => (now += ms) };
}

describe('SnapshotMemo: the snapshot of a warm key, reused while it would be assembled the same', () => {
  it('gives the next request of a warm key the same snapshot, without a store call', async () => {
    const { store, load, warm } = setup();
    const first = await warm();
    const second = await load();
    expect(second).to.equal(first);
    expect(second.team?.team_id).to.equal('t1');
    expect(store.calls).to.deep.equal([]);
  });

  it('counts the same cache hits for a reuse as for reading every entry again', async () => {
    const withMemo = setup();
    const remembered = await withMemo.warm();
    expect(await withMemo.load()).to.equal(remembered);
    const without = setup();
    await without.warm();
    await loadSnapshot(without.cached, aRequest(), KEY_HASH, aPolicy()); // no memo: every entry read
    expect([...withMemo.hits].sort()).to.deep.equal([...without.hits].sort());
    expect(withMemo.hits).to.include.members(['key', 'team', 'user', 'membership', 'organization']);
  });

  it('assembles a new snapshot once an entry it was read from is invalidated, with the changed row', async () => {
    const { store, cached, load, warm } = setup();
    const before = await warm();
    store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1', blocked: true }));
    await cached.invalidate('team', 't1');
    const after = await load();
    expect(after).to.not.equal(before);
    expect(after.team?.blocked).to.equal(true);
    expect(store.calls).to.deep.equal(['findTeam:t1']);
  });

  it('assembles a new snapshot once a related entry is due for revalidation, and takes the refreshed row', async () => {
    const { store, load, warm, advance } = setup();
    const before = await warm();
    store.users.set('u1', aUser({ user_id: 'u1', max_budget: 7 }));
    advance(CACHE_POLICY.refreshAfterMs);
    const stale = await load(); // served stale while the entries reload in the background
    expect(stale).to.not.equal(before);
    await flush();
    const refreshed = await load();
    expect(refreshed.user?.max_budget).to.equal(7);
    expect(await load()).to.equal(refreshed);
  });

  it('assembles a new snapshot once the key itself is replaced', async () => {
    const { store, cached, load, warm } = setup();
    const before = await warm();
    store.keys.set(KEY_HASH, aKey({ team_id: 't1', user_id: 'u1', blocked: true }));
    await cached.invalidate('key', KEY_HASH);
    const after = await load();
    expect(after).to.not.equal(before);
    expect(after.key?.blocked).to.equal(true);
  });

  it('does not reuse a snapshot for a request that asks for another end user, other tags or vector stores', async () => {
    const { load, warm } = setup();
    const plain = await warm();
    const withEndUser = await load(aRequest({ endUserId: 'cust' }));
    expect(withEndUser).to.not.equal(plain);
    expect(withEndUser.endUser?.user_id).to.equal('cust');

    const tagged = await load(aRequest({ body: { model: 'gpt-4o', messages: [], tags: ['prod'] } }));
    expect(tagged.tags.map((tag) => tag.tag_name)).to.deep.equal(['prod']);
    const untagged = await load();
    expect(untagged.tags).to.deep.equal([]);

    const vectorStores = await load(aRequest({ body: { model: 'gpt-4o', messages: [], vector_store_ids: ['vs1'] } }));
    expect(vectorStores).to.not.equal(untagged);
  });

  it('reuses nothing for a snapshot whose budget spend is laid over per request', async () => {
    const { cached, warm } = setup();
    await warm();
    const memo = new SnapshotMemo();
    let overlaid = 0;
    const overlay = async (snapshot: Snapshot): Promise<Snapshot> => {
      overlaid += 1;
      return Object.freeze({ ...snapshot, team: snapshot.team === null ? null : { ...snapshot.team, spend: 42 } });
    };
    const first = await loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy(), overlay, memo);
    const second = await loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy(), overlay, memo);
    expect(overlaid).to.equal(2);
    expect(second).to.not.equal(first);
    expect(second.team?.spend).to.equal(42);
  });

  it('does not remember a snapshot that had to wait for a load', async () => {
    const { store, load } = setup();
    const cold = await load(); // every entity loaded from the store
    const next = await load();
    expect(next).to.not.equal(cold);
    store.calls.length = 0;
    expect(await load()).to.equal(next);
    expect(store.calls).to.deep.equal([]);
  });

  it('keeps a key budget of its own apart: the key budget entry is one of those it was read from', async () => {
    const { store, cached, load, warm } = setup();
    store.keys.set(KEY_HASH, aKey({ team_id: 't1', user_id: 'u1', budget_id: 'b1' }));
    store.budgets.set('b1', aBudget({ budget_id: 'b1', max_budget: 10 }));
    await cached.invalidate('key', KEY_HASH);
    await warm();
    store.budgets.set('b1', aBudget({ budget_id: 'b1', max_budget: 1 }));
    await cached.invalidate('budget', 'b1');
    expect((await load()).keyBudget?.max_budget).to.equal(1);
  });
});
