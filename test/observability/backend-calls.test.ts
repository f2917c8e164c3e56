import { expect } from 'chai';
import { observedAuthStore, type BackendCallObserver } from '../../src/observability/backend-calls';
import type { AuthStore, BatchLookups } from '../../src/store/auth-store';
import { aKey } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

function recording(): { observer: BackendCallObserver; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    observer: {
      call: (backend, operation, work) => {
        calls.push(`${backend}:${operation}`);
        return work();
      },
    },
  };
}

describe('observedAuthStore (every database lookup reported as a backend call)', () => {
  it('reports single lookups and batch lookups alike, by method name', async () => {
    const key = aKey({ token: 'hash-1' });
    const batch: BatchLookups = {
      findKeys: async () => new Map([[key.token, key]]),
      findTeams: async () => new Map(),
      findUsers: async () => new Map(),
      findMemberships: async () => new Map(),
    };
    const store = new MemoryStore();
    store.keys.set(key.token, key);
    const withBatch = Object.assign(store, { batch }) as AuthStore;
    const { observer, calls } = recording();
    const observed = observedAuthStore(withBatch, observer);

    expect(await observed.findKey('hash-1')).to.equal(key);
    expect((await observed.batch?.findKeys(['hash-1']))?.get('hash-1')).to.equal(key);
    await observed.batch?.findMemberships([['u', 't']]);
    expect(observed.batch).to.equal(observed.batch); // wrapped once
    expect(calls).to.deep.equal(['db:findKey', 'db:findKeys', 'db:findMemberships']);
  });

  it('leaves a store without batch lookups without them', () => {
    const { observer } = recording();
    expect(observedAuthStore(new MemoryStore(), observer).batch).to.equal(undefined);
  });
});
