/**
 * A load that read the database before a block was committed must not put its older copy back
 * into Redis after the writer purged it (LiteLLM #25553: the pre-update key resurrected in the
 * cache). Real Redis; the database is a stand-in whose reads can be held between reading the row
 * and returning it, which is the window the race needs.
 */
import { expect } from 'chai';
import { EntityCache, type EntityCacheOptions } from '../../src/cache/entity-cache';
import { createRedisClient, RedisSharedCache, type StandaloneRedisClient } from '../../src/cache/redis-shared-cache';
import { isPurgeMarker, type SharedCache } from '../../src/cache/shared-cache';
import { requireRedis, type TestRedis } from '../support/redis';

interface KeyRow {
  readonly id: string;
  readonly blocked: boolean;
}

/** The key table: a read takes the row as it is now, and can be held before it returns. */
class HeldTable {
  blocked = false;
  private gate: Promise<void> | null = null;
  private open: () => void = () => undefined;
  private reading: () => void = () => undefined;
  /** Resolves when a held read has taken its row. */
  readonly readStarted = new Promise<void>((resolve) => (this.reading = resolve));

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
    this.gate = null;
  }
  load = async (id: string): Promise<KeyRow> => {
    const row = { id, blocked: this.blocked };
    this.reading();
    if (this.gate !== null) await this.gate;
    return row;
  };
}

/** Passes every command through and keeps each write's promise, so a test can wait for fire-and-forget writes. */
class WatchedShared implements SharedCache {
  readonly writes: Promise<unknown>[] = [];
  constructor(private readonly inner: SharedCache) {}
  get(key: string): Promise<string | null> {
    return this.inner.get(key);
  }
  reachable(): boolean {
    return this.inner.reachable();
  }
  setIfUnchanged(key: string, seen: string | null, value: string, ttlMs: number): Promise<boolean> {
    const write = this.inner.setIfUnchanged(key, seen, value, ttlMs);
    this.writes.push(write.catch(() => undefined));
    return write;
  }
  purge(keys: readonly string[], markerTtlMs: number): Promise<void> {
    return this.inner.purge(keys, markerTtlMs);
  }
  async settled(): Promise<void> {
    await Promise.all(this.writes);
  }
}

describe('the shared tier after a purge', function () {
  this.timeout(20_000);
  let redis: TestRedis;
  let client: StandaloneRedisClient;

  before(async function () {
    redis = await requireRedis(this);
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  function options(): EntityCacheOptions {
    return {
      kind: 'key',
      refreshAfterMs: 5_000,
      ttlMs: 60_000,
      negativeTtlMs: 5_000,
      maxStaleOnErrorMs: 600_000,
      maxEntries: 100,
      sharedPrefix: `${redis.prefix}${Math.random().toString(36).slice(2)}:`,
    };
  }

  it('keeps a block made while a replica was loading the key: no replica is served the older copy afterwards', async () => {
    const table = new HeldTable();
    const shared = new WatchedShared(new RedisSharedCache(client, 1000));
    const cacheOptions = options();
    const loading = new EntityCache<KeyRow>(cacheOptions, table.load, shared);
    const writer = new EntityCache<KeyRow>(cacheOptions, table.load, shared);

    table.hold();
    const inFlight = loading.get('k1'); // reads the row while the key is still unblocked
    await table.readStarted;
    table.blocked = true; // the block is committed…
    await writer.invalidate('k1'); // …and the shared copy purged, as the CLI does
    table.release();
    expect((await inFlight)?.blocked).to.equal(false); // that Check was decided before the block
    await shared.settled();

    loading.dropLocal('k1'); // the invalidation message reaches the loading replica
    expect((await loading.get('k1'))?.blocked).to.equal(true);
    const another = new EntityCache<KeyRow>(cacheOptions, table.load, shared);
    expect((await another.get('k1'))?.blocked).to.equal(true);
  });

  describe('on Redis', () => {
    let key: string;
    let shared: RedisSharedCache;

    beforeEach(() => {
      key = `${redis.prefix}${Math.random().toString(36).slice(2)}`;
      shared = new RedisSharedCache(client, 1000);
    });

    it('writes where the key is still absent, and not where another write came first', async () => {
      expect(await shared.setIfUnchanged(key, null, '{"v":1}', 10_000)).to.equal(true);
      expect(await shared.get(key)).to.equal('{"v":1}');
      expect(await shared.setIfUnchanged(key, null, '{"v":2}', 10_000)).to.equal(false);
      expect(await shared.get(key)).to.equal('{"v":1}');
      const ttl = await client.pTTL(key);
      expect(ttl).to.be.greaterThan(0).and.at.most(10_000);
    });

    it('replaces the copy it saw, and not one that changed since', async () => {
      await shared.setIfUnchanged(key, null, '{"v":1}', 10_000);
      expect(await shared.setIfUnchanged(key, '{"v":1}', '{"v":2}', 10_000)).to.equal(true);
      expect(await shared.setIfUnchanged(key, '{"v":1}', '{"v":3}', 10_000)).to.equal(false);
      expect(await shared.get(key)).to.equal('{"v":2}');
    });

    it('purges with a marker of its own each time, kept for the time asked, which no earlier reader can write over', async () => {
      await shared.setIfUnchanged(key, null, '{"v":1}', 10_000);
      await shared.purge([key], 30_000);
      const marker = await shared.get(key);
      expect(marker !== null && isPurgeMarker(marker)).to.equal(true);
      const ttl = await client.pTTL(key);
      expect(ttl).to.be.greaterThan(10_000).and.at.most(30_000);
      expect(await shared.setIfUnchanged(key, '{"v":1}', '{"v":old}', 10_000)).to.equal(false);
      expect(await shared.setIfUnchanged(key, null, '{"v":old}', 10_000)).to.equal(false);

      await shared.purge([key], 30_000);
      const second = await shared.get(key);
      expect(second).to.not.equal(marker);
      expect(await shared.setIfUnchanged(key, marker, '{"v":old}', 10_000)).to.equal(false);
      expect(await shared.setIfUnchanged(key, second, '{"v":2}', 10_000)).to.equal(true);
      expect(await shared.get(key)).to.equal('{"v":2}');
    });

    it('purges an absent key too, so that a reader who saw it absent cannot write', async () => {
      await shared.purge([key], 30_000);
      expect(await shared.setIfUnchanged(key, null, '{"v":old}', 10_000)).to.equal(false);
    });
  });
});
