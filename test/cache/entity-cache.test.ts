import { expect } from 'chai';
import { EntityCache, SILENT_CACHE_EVENTS, type EntityCacheOptions } from '../../src/cache/entity-cache';
import type { SharedCache } from '../../src/cache/shared-cache';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { MapSharedCache } from '../support/map-shared-cache';

const OPTIONS: EntityCacheOptions = {
  kind: 'key',
  refreshAfterMs: 5_000,
  ttlMs: 60_000,
  negativeTtlMs: 5_000,
  maxStaleOnErrorMs: 600_000,
  maxEntries: 100,
  sharedPrefix: 'test:',
};

interface Row {
  readonly id: string;
  readonly version: number;
  readonly tags?: string[];
}

class FakeDb {
  calls = 0;
  version = 1;
  failing = false;
  missing = new Set<string>();
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = null;
  }
  load = async (id: string): Promise<Row | null> => {
    this.calls += 1;
    if (this.gate !== null) await this.gate;
    if (this.failing) throw new Error('db down');
    return this.missing.has(id) ? null : { id, version: this.version, tags: ['a'] };
  };
}

function setup(shared: SharedCache = NO_SHARED_CACHE) {
  const db = new FakeDb();
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const cache = new EntityCache<Row>(OPTIONS, db.load, shared, undefined, () => now);
  return { db, cache, clock };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('EntityCache', () => {
  it('serves a warm entry from memory without calling the loader', async () => {
    const { db, cache } = setup();
    await cache.get('k1');
    await cache.get('k1');
    await cache.get('k1');
    expect(db.calls).to.equal(1);
  });

  it('peek answers from memory only: undefined before a load, the value after, a background refresh when stale, undefined past the TTL', async () => {
    const { db, cache, clock } = setup();
    expect(cache.peek('k1')).to.equal(undefined);
    expect(db.calls).to.equal(0);
    await cache.get('k1');
    expect(cache.peek('k1')).to.deep.include({ id: 'k1', version: 1 });
    db.version = 2;
    clock.advance(OPTIONS.refreshAfterMs + 1);
    expect(cache.peek('k1')).to.deep.include({ version: 1 }); // stale, served while it reloads
    await flush();
    expect(db.calls).to.equal(2);
    expect(cache.peek('k1')).to.deep.include({ version: 2 });
    clock.advance(OPTIONS.ttlMs + 1);
    expect(cache.peek('k1')).to.equal(undefined);
  });

  it('peek returns null for a cached "not found"', async () => {
    const { db, cache } = setup();
    db.missing.add('gone');
    expect(await cache.get('gone')).to.equal(null);
    expect(cache.peek('gone')).to.equal(null);
  });

  it('coalesces concurrent misses of one id into a single load', async () => {
    const { db, cache } = setup();
    db.hold();
    const pending = Array.from({ length: 25 }, () => cache.get('k1'));
    db.release();
    const rows = await Promise.all(pending);
    expect(db.calls).to.equal(1);
    expect(new Set(rows).size).to.equal(1);
  });

  it('returns frozen values that cannot be mutated by a caller', async () => {
    const { cache } = setup();
    const row = await cache.get('k1');
    expect(Object.isFrozen(row)).to.equal(true);
    expect(Object.isFrozen(row?.tags)).to.equal(true);
  });

  it('caches "not found" for the negative TTL, then looks again', async () => {
    const { db, cache, clock } = setup();
    db.missing.add('ghost');
    expect(await cache.get('ghost')).to.equal(null);
    expect(await cache.get('ghost')).to.equal(null);
    expect(db.calls).to.equal(1);
    clock.advance(OPTIONS.negativeTtlMs + 1);
    db.missing.delete('ghost');
    expect((await cache.get('ghost'))?.id).to.equal('ghost');
    expect(db.calls).to.equal(2);
  });

  it('serves a stale entry while one background refresh runs, then the new value', async () => {
    const { db, cache, clock } = setup();
    await cache.get('k1');
    db.version = 2;
    clock.advance(OPTIONS.refreshAfterMs + 1);
    expect((await cache.get('k1'))?.version).to.equal(1);
    expect((await cache.get('k1'))?.version).to.equal(1);
    await flush();
    expect(db.calls).to.equal(2);
    expect((await cache.get('k1'))?.version).to.equal(2);
  });

  it('refreshes in the background through the refresh loader (gathered), and loads misses through the loader', async () => {
    const db = new FakeDb();
    const refreshed: string[] = [];
    let now = 1_000_000;
    const refresh = async (id: string): Promise<Row | null> => {
      refreshed.push(id);
      return { id, version: 7 };
    };
    const cache = new EntityCache<Row>(OPTIONS, db.load, NO_SHARED_CACHE, undefined, () => now, refresh);
    await cache.get('k1');
    expect([db.calls, refreshed.length]).to.deep.equal([1, 0]);
    now += OPTIONS.refreshAfterMs + 1;
    expect(cache.peek('k1')?.version).to.equal(1); // stale, served while refreshing
    await flush();
    expect([db.calls, refreshed]).to.deep.equal([1, ['k1']]);
    expect(cache.peek('k1')?.version).to.equal(7);
    now += OPTIONS.ttlMs + 1;
    expect((await cache.get('k1'))?.version).to.equal(1); // past the TTL: a miss, through the loader
    expect(db.calls).to.equal(2);
  });

  it('does not store a gathered refresh that an invalidation overtook while it waited', async () => {
    const db = new FakeDb();
    let now = 1_000_000;
    let release: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (release = resolve));
    const refresh = async (id: string): Promise<Row | null> => {
      await waiting;
      return { id, version: 99 };
    };
    const cache = new EntityCache<Row>(OPTIONS, db.load, NO_SHARED_CACHE, undefined, () => now, refresh);
    await cache.get('k1');
    now += OPTIONS.refreshAfterMs + 1;
    cache.peek('k1'); // starts the refresh, which waits to be gathered
    cache.dropLocal('k1');
    db.version = 2;
    release();
    await flush();
    expect((await cache.get('k1'))?.version).to.equal(2);
  });

  it('waits for a reload once the entry is older than the TTL', async () => {
    const { db, cache, clock } = setup();
    await cache.get('k1');
    db.version = 2;
    clock.advance(OPTIONS.ttlMs + 1);
    expect((await cache.get('k1'))?.version).to.equal(2);
  });

  it('keeps serving a known entry while the database is down, within maxStaleOnError', async () => {
    const { db, cache, clock } = setup();
    await cache.get('k1');
    db.failing = true;
    clock.advance(OPTIONS.ttlMs + 1);
    expect((await cache.get('k1'))?.version).to.equal(1);
    clock.advance(OPTIONS.maxStaleOnErrorMs);
    let failed = false;
    await cache.get('k1').catch(() => (failed = true));
    expect(failed).to.equal(true);
  });

  it('propagates the failure for an id it has never seen', async () => {
    const { db, cache } = setup();
    db.failing = true;
    let error: unknown = null;
    await cache.get('cold').catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(Error);
  });

  it('does not let a load that started before an invalidation answer after it', async () => {
    const { db, cache } = setup();
    db.hold();
    const before = cache.get('k1');
    cache.dropLocal('k1');
    db.version = 2;
    db.release();
    await before;
    expect((await cache.get('k1'))?.version).to.equal(2);
  });

  it('reads a fresh copy from the shared tier before the database', async () => {
    const shared = new MapSharedCache();
    const first = setup(shared);
    await first.cache.get('k1');
    expect(shared.values()).to.have.length(1);
    const second = setup(shared);
    const row = await second.cache.get('k1');
    expect(second.db.calls).to.equal(0);
    expect(row?.version).to.equal(1);
  });

  it('ignores a shared copy older than the refresh window, and replaces it with the row it loads', async () => {
    const shared = new MapSharedCache();
    const first = setup(shared);
    await first.cache.get('k1');
    const second = setup(shared);
    second.db.version = 2;
    second.clock.advance(OPTIONS.refreshAfterMs + 1);
    await second.cache.get('k1');
    expect(second.db.calls).to.equal(1);
    expect(shared.values()).to.deep.equal([{ v: { id: 'k1', version: 2, tags: ['a'] }, at: 1_000_000 + OPTIONS.refreshAfterMs + 1 }]);
  });

  it('writes nothing to the shared tier from a background refresh, changed row or not', async () => {
    const shared = new MapSharedCache();
    const { db, cache, clock } = setup(shared);
    await cache.get('k1');
    expect(shared.writes).to.equal(1);
    clock.advance(OPTIONS.refreshAfterMs + 1);
    await cache.get('k1'); // stale: refreshed in the background, same row
    await flush();
    db.version = 2;
    clock.advance(OPTIONS.refreshAfterMs + 1);
    await cache.get('k1'); // refreshed again, the row changed
    await flush();
    expect(db.calls).to.equal(3);
    expect(cache.peek('k1')?.version).to.equal(2);
    expect(shared.writes).to.equal(1);
    expect(shared.gets).to.equal(1);
  });

  it('invalidate() leaves a purge marker in the shared tier, which the next load reads as a miss and replaces', async () => {
    const shared = new MapSharedCache();
    const writer = setup(shared);
    await writer.cache.get('k1');
    await writer.cache.invalidate('k1');
    expect(shared.values()).to.deep.equal([]);
    expect(shared.entries.size).to.equal(1);
    const replica = setup(shared);
    replica.db.version = 2;
    expect((await replica.cache.get('k1'))?.version).to.equal(2);
    expect(replica.db.calls).to.equal(1);
    expect(shared.values()).to.have.length(1);
  });

  it('does not write back a row read before a purge that came while the load was in flight', async () => {
    const shared = new MapSharedCache();
    const loading = setup(shared);
    const writer = setup(shared);
    loading.db.hold();
    const inFlight = loading.cache.get('k1');
    await flush(); // the shared tier has been read (a miss) and the row is being loaded
    await writer.cache.invalidate('k1');
    loading.db.release();
    expect((await inFlight)?.version).to.equal(1);
    expect(shared.writes).to.equal(0);
    expect(shared.values()).to.deep.equal([]);
  });

  it('writes nothing back from a load an invalidation overtook, even when the purge marker is gone (Redis restarted)', async () => {
    const shared = new MapSharedCache();
    const loading = setup(shared);
    loading.db.hold();
    const inFlight = loading.cache.get('k1');
    await flush(); // the shared tier has been read (a miss) and the row is being loaded
    loading.cache.dropLocal('k1'); // the block's message; its marker did not survive
    loading.db.release();
    await inFlight;
    expect(shared.writes).to.equal(0);
    expect(shared.values()).to.deep.equal([]);
  });

  it('ages a loaded row from before the database read', async () => {
    const { db, cache, clock } = setup();
    db.hold();
    const loading = cache.get('k1');
    await flush();
    clock.advance(OPTIONS.ttlMs - 1_000); // a slow read
    db.release();
    await loading;
    db.version = 2;
    clock.advance(1_001);
    expect((await cache.get('k1'))?.version, 'past the TTL counted from the read, not from its end').to.equal(2);
  });

  it('loads again after the clock stepped back, instead of serving an entry of unknown age', async () => {
    const { db, cache, clock } = setup();
    await cache.get('k1');
    db.version = 2;
    clock.advance(-3_600_000);
    expect(cache.peek('k1')).to.equal(undefined);
    expect((await cache.get('k1'))?.version).to.equal(2);
    db.failing = true;
    clock.advance(-60_000);
    let failed = false;
    await cache.get('k1').catch(() => (failed = true));
    expect(failed, 'nor is such an entry served as stale while the database is down').to.equal(true);
  });

  it('writes nothing back after a load of 30 s or more, half the shortest purge marker lifetime, whatever its own TTL', async () => {
    const shared = new MapSharedCache();
    const db = new FakeDb();
    let now = 1_000_000;
    const cache = new EntityCache<Row>({ ...OPTIONS, ttlMs: 600_000 }, db.load, shared, undefined, () => now);
    db.hold();
    const slow = cache.get('k1');
    await flush();
    now += 30_000;
    db.release();
    await slow;
    expect(shared.writes).to.equal(0);
    const { cache: quick } = setup(shared);
    await quick.get('k2');
    expect(shared.writes).to.equal(1);
  });

  it('writes nothing back after a read the shared tier skipped, even once the tier is back, and reports no fault', async () => {
    const shared = new MapSharedCache();
    let faults = 0;
    const db = new FakeDb();
    const events = { ...SILENT_CACHE_EVENTS, sharedTierError: () => (faults += 1) };
    const cache = new EntityCache<Row>(OPTIONS, db.load, shared, events, () => 1_000_000);
    shared.skipping = true;
    db.hold();
    const loading = cache.get('k1');
    await flush();
    shared.skipping = false; // Redis is back; a purge made meanwhile may have failed
    db.release();
    expect((await loading)?.version).to.equal(1);
    expect(shared.writes).to.equal(0);
    expect(faults).to.equal(0);
  });

  it('bounds memory with the LRU limit', async () => {
    const { cache } = setup();
    for (let i = 0; i < OPTIONS.maxEntries * 2; i += 1) await cache.get(`k${i}`);
    expect(cache.size).to.equal(OPTIONS.maxEntries);
  });

  it('evicts the least recently used entry, not the oldest', async () => {
    const { db, cache } = setup();
    for (let i = 0; i < OPTIONS.maxEntries; i += 1) await cache.get(`k${i}`);
    expect(cache.peek('k0')?.id).to.equal('k0'); // k0 is now the most recently used
    await cache.get('one-more');
    expect(cache.size).to.equal(OPTIONS.maxEntries);
    expect(cache.peek('k0')?.id).to.equal('k0');
    expect(cache.peek('k1')).to.equal(undefined);
    const loads = db.calls;
    await cache.get('k1');
    expect(db.calls).to.equal(loads + 1);
  });

  it('treats a shared-tier failure as a miss', async () => {
    const broken = new MapSharedCache();
    broken.failing = true;
    const { db, cache } = setup(broken);
    expect((await cache.get('k1'))?.id).to.equal('k1');
    expect(db.calls).to.equal(1);
  });
});
