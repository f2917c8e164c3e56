import { expect } from 'chai';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import {
  CacheInvalidationListener,
  CacheInvalidationPublisher,
  parseInvalidation,
  type GenerationCounter,
  type MessageBus,
} from '../../src/cache/invalidation';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import type { AuthStore } from '../../src/store/auth-store';
import type { VirtualKey } from '../../src/domain/entities';

const POLICY = aCachePolicy();

/** A store whose key rows we can change behind the cache's back, counting reads. */
function fakeStore(): { store: AuthStore; blocked: Map<string, boolean>; reads: () => number } {
  const blocked = new Map<string, boolean>();
  let reads = 0;
  const none = () => Promise.resolve(null);
  const store: AuthStore = {
    findKey: (hash) => {
      reads += 1;
      return Promise.resolve({ token: hash, blocked: blocked.get(hash) ?? false } as unknown as VirtualKey);
    },
    findTeam: none,
    findMembership: none,
    findUser: none,
    findEndUser: none,
    findUserIdByEmail: none,
    findOrganization: none,
    findProject: none,
    findTags: () => Promise.resolve([]),
    findAccessGroups: () => Promise.resolve([]),
    findBudget: none,
    findObjectPermissions: () => Promise.resolve([]),
    findAgent: none,
    globalSpend: () => Promise.resolve(0),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { store, blocked, reads: () => reads };
}

class MemoryCounter implements GenerationCounter {
  value = 0;
  failing = false;
  async current(): Promise<number> {
    return this.value;
  }
  async bump(): Promise<number> {
    if (this.failing) throw new Error('database down');
    this.value += 1;
    return this.value;
  }
}

class MemoryBus implements MessageBus {
  private listeners: Array<(m: string) => void> = [];
  delivering = true;
  async publish(message: string): Promise<void> {
    if (this.delivering) for (const l of this.listeners) l(message);
  }
  async subscribe(onMessage: (m: string) => void): Promise<void> {
    this.listeners.push(onMessage);
  }
  async unsubscribe(): Promise<void> {
    this.listeners = [];
  }
}

const silent = { dropped: () => undefined, clearedAll: () => undefined, pollFailed: () => undefined };

async function twoReplicas() {
  const db = fakeStore();
  const counter = new MemoryCounter();
  const bus = new MemoryBus();
  const writer = new CachedAuthStore(db.store, POLICY, NO_SHARED_CACHE);
  const replica = new CachedAuthStore(db.store, POLICY, NO_SHARED_CACHE);
  const publisher = new CacheInvalidationPublisher(writer, counter, bus);
  const listener = new CacheInvalidationListener(replica, counter, bus, 60_000, silent);
  await listener.start();
  return { db, counter, bus, replica, publisher, listener };
}

describe('cache invalidation across replicas', () => {
  it('drops the entry on another replica as soon as the message arrives', async () => {
    const { db, replica, publisher, listener } = await twoReplicas();
    expect((await replica.findKey('h1'))?.blocked).to.equal(false);
    db.blocked.set('h1', true);
    await publisher.invalidate('key', 'h1');
    expect((await replica.findKey('h1'))?.blocked).to.equal(true);
    await listener.stop();
  });

  it('catches a lost message with the generation poll', async () => {
    const { db, bus, replica, publisher, listener } = await twoReplicas();
    await replica.findKey('h1');
    bus.delivering = false;
    db.blocked.set('h1', true);
    await publisher.invalidate('key', 'h1');
    expect((await replica.findKey('h1'))?.blocked).to.equal(false, 'still cached before the poll');
    await listener.poll();
    expect((await replica.findKey('h1'))?.blocked).to.equal(true);
    await listener.stop();
  });

  it('clears everything when a generation gap shows messages were missed', async () => {
    const { db, bus, counter, replica, listener } = await twoReplicas();
    await replica.findKey('h1');
    await replica.findKey('h2');
    db.blocked.set('h2', true);
    counter.value = 5; // four writes whose messages never arrived
    await bus.publish(JSON.stringify({ kind: 'key', id: 'h1', generation: 6 }));
    expect((await replica.findKey('h2'))?.blocked).to.equal(true);
    await listener.stop();
  });

  it('does not clear everything when a message overtakes the poll that read the generation before it', async () => {
    const { db, counter, replica, publisher, listener } = await twoReplicas();
    const cleared: string[] = [];
    const watched = new CacheInvalidationListener(replica, counter, null, 60_000, { ...silent, clearedAll: (reason) => cleared.push(reason) });
    await watched.start();
    await replica.findKey('h2');
    const readsBefore = db.reads();
    // The poll reads generation 0; before its answer is back, the write's message (generation 1) arrives.
    const realCurrent = counter.current.bind(counter);
    let answer: (value: number) => void = () => undefined;
    counter.current = () => new Promise<number>((resolve) => (answer = resolve));
    const polling = watched.poll();
    await publisher.invalidate('key', 'h1');
    watched.onMessage(JSON.stringify({ kind: 'key', id: 'h1', generation: 1 }));
    answer(0);
    await polling;
    counter.current = realCurrent;
    await watched.poll();
    expect(cleared, 'a generation between the one before and the one after is no change').to.deep.equal([]);
    await replica.findKey('h2');
    expect(db.reads(), 'h2 stayed cached').to.equal(readsBefore);
    await watched.stop();
    await listener.stop();
  });

  it('clears everything when the counter went back (a restored database)', async () => {
    const { counter, replica, listener } = await twoReplicas();
    const cleared: string[] = [];
    counter.value = 7;
    const watched = new CacheInvalidationListener(replica, counter, null, 60_000, { ...silent, clearedAll: (reason) => cleared.push(reason) });
    await watched.start();
    counter.value = 2;
    await watched.poll();
    expect(cleared).to.deep.equal(['counter_reset']);
    await watched.stop();
    await listener.stop();
  });

  it('leaves other entries cached when messages arrive in sequence', async () => {
    const { db, replica, publisher, listener } = await twoReplicas();
    await replica.findKey('h1');
    await replica.findKey('h2');
    const readsBefore = db.reads();
    await publisher.invalidate('key', 'h1');
    await replica.findKey('h2');
    expect(db.reads()).to.equal(readsBefore);
    await listener.stop();
  });

  it('ignores malformed messages', () => {
    expect(parseInvalidation('not json')).to.equal(null);
    expect(parseInvalidation(JSON.stringify({ kind: 'nope', id: 'x', generation: 1 }))).to.equal(null);
    expect(parseInvalidation(JSON.stringify({ kind: 'key', id: 5, generation: 1 }))).to.equal(null);
    expect(parseInvalidation(JSON.stringify({ kind: 'team', id: 't', generation: 2 }))).to.deep.equal({
      kind: 'team',
      id: 't',
      generation: 2,
    });
  });
  it('still announces a write whose generation bump failed, without a gap or a move of the last generation seen', async () => {
    const { db, counter, replica, publisher, listener } = await twoReplicas();
    await replica.findKey('h1');
    await replica.findKey('h2');
    db.blocked.set('h1', true);
    db.blocked.set('h2', true);
    counter.failing = true;
    let error: unknown = null;
    await publisher.invalidate('key', 'h1').catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/database down/, 'the writer is told');
    expect((await replica.findKey('h1'))?.blocked).to.equal(true, 'the message dropped it');
    expect((await replica.findKey('h2'))?.blocked).to.equal(false, 'no gap: nothing else cleared');
    counter.failing = false;
    await publisher.invalidate('key', 'h2');
    expect((await replica.findKey('h2'))?.blocked).to.equal(true);
    await listener.stop();
  });
});
