import { expect } from 'chai';
import { CachedAuthStore, ENTITY_KINDS } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { anAgent, anObjectPermission } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

const POLICY = aCachePolicy({ maxEntries: 100, sharedPrefix: 'test:' });

describe('CachedAuthStore: agents and object permissions go through their own cache kinds', () => {
  it('names both kinds for invalidation messages', () => {
    expect(ENTITY_KINDS).to.include.members(['agent', 'object_permission']);
  });

  it('loads an agent once; a warm lookup does no store call', async () => {
    const store = new MemoryStore();
    store.agents.set('a1', anAgent({ agent_id: 'a1' }));
    const cached = new CachedAuthStore(store, POLICY, NO_SHARED_CACHE);
    expect((await cached.findAgent('a1'))?.agent_id).to.equal('a1');
    expect((await cached.findAgent('a1'))?.agent_id).to.equal('a1');
    expect(store.calls).to.deep.equal(['findAgent:a1']);
  });

  it('loads the missing object permissions of one request in one batched call, then serves them warm', async () => {
    const store = new MemoryStore();
    store.objectPermissions.set('p1', anObjectPermission({ object_permission_id: 'p1', vector_stores: ['vs'] }));
    store.objectPermissions.set('p2', anObjectPermission({ object_permission_id: 'p2' }));
    const cached = new CachedAuthStore(store, POLICY, NO_SHARED_CACHE);
    const first = await cached.findObjectPermissions(['p1', 'p2', 'missing', 'p1']);
    expect(first.map((p) => p.object_permission_id)).to.deep.equal(['p1', 'p2']);
    await cached.findObjectPermissions(['p2', 'p1', 'missing']);
    expect(store.calls).to.deep.equal(['findObjectPermissions:p1,p2,missing']);
  });

  it('forgets an invalidated agent', async () => {
    const store = new MemoryStore();
    store.agents.set('a1', anAgent({ agent_id: 'a1' }));
    const cached = new CachedAuthStore(store, POLICY, NO_SHARED_CACHE);
    await cached.findAgent('a1');
    await cached.invalidate('agent', 'a1');
    await cached.findAgent('a1');
    expect(store.calls).to.deep.equal(['findAgent:a1', 'findAgent:a1']);
  });
});
