import { expect } from 'chai';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import type { WindowSpend } from '../../src/domain/entities';
import type { WindowOfBudget } from '../../src/store/auth-store';
import { windowSpendId, type WindowEntity } from '../../src/spend/window-limits';
import { MemoryStore } from '../support/memory-store';
import { MapSharedCache } from '../support/map-shared-cache';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { windowSpendTotal } from '../../src/spend/window-spend';

const POLICY = aCachePolicy({ negativeTtlMs: 60_000, sharedPrefix: 'ws:' });

const WINDOW: WindowOfBudget = { budget_duration: '30d', reset_at: null };

/** A store that keeps window spend incrementally: each refresh adds 1 to the settled part of what it is given. */
class IncrementalStore extends MemoryStore {
  readonly previous: (WindowSpend | null)[] = [];

  refreshWindowSpend(_entity: WindowEntity, _entityId: string, _window: WindowOfBudget, previous: WindowSpend | null): Promise<WindowSpend | null> {
    this.previous.push(previous);
    const at = (previous?.at ?? 0) + 1;
    const next = previous === null ? { start: 0, settledEnd: 0, settled: 10, settledRows: 1, tail: 0.5, at, fullAt: at } : { ...previous, settled: previous.settled + 1, at };
    return Promise.resolve(next);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('CachedAuthStore: window spend continued from the state it last held', () => {
  it('sums in full first, then hands each refresh the state the cache holds; a Check reads settled + tail', async () => {
    const database = new IncrementalStore();
    let now = 1_000_000;
    const cached = new CachedAuthStore(database, POLICY, new MapSharedCache(), undefined, () => now);
    expect(await cached.windowSpend('key', 'k', WINDOW)).to.equal(10.5);
    expect(database.previous).to.deep.equal([null]);
    now += POLICY.refreshAfterMs;
    expect(windowSpendTotal(cached.memory.windowSpend?.('key', 'k', WINDOW)), 'stale, served while it refreshes').to.equal(10.5);
    await settle();
    expect(database.previous[1]).to.include({ settled: 10, tail: 0.5 });
    expect(windowSpendTotal(cached.memory.windowSpend?.('key', 'k', WINDOW))).to.equal(11.5);
    now += POLICY.refreshAfterMs;
    cached.memory.windowSpend?.('key', 'k', WINDOW);
    await settle();
    expect(database.previous[2]).to.include({ settled: 11 });
  });

  it("continues another replica's state taken from the shared tier", async () => {
    const shared = new MapSharedCache();
    let now = 1_000_000;
    const first = new CachedAuthStore(new IncrementalStore(), POLICY, shared, undefined, () => now);
    await first.windowSpend('team', 't', WINDOW);
    const database = new IncrementalStore();
    const second = new CachedAuthStore(database, POLICY, shared, undefined, () => now);
    expect(await second.windowSpend('team', 't', WINDOW)).to.equal(10.5);
    expect(database.previous, 'taken from the shared tier, not summed').to.deep.equal([]);
    now += POLICY.refreshAfterMs;
    second.memory.windowSpend?.('team', 't', WINDOW);
    await settle();
    expect(database.previous).to.deep.equal([{ start: 0, settledEnd: 0, settled: 10, settledRows: 1, tail: 0.5, at: 1, fullAt: 1 }]);
  });

  it('reads an older version\'s bare number in the shared tier as the spend, and sums in full from it', async () => {
    const shared = new MapSharedCache();
    let now = 1_000_000;
    const id = windowSpendId('key', 'k', WINDOW);
    shared.entries.set(`${POLICY.sharedPrefix}window_spend:${id}`, JSON.stringify({ v: 7, at: now }));
    const database = new IncrementalStore();
    const cached = new CachedAuthStore(database, POLICY, shared, undefined, () => now);
    expect(await cached.windowSpend('key', 'k', WINDOW)).to.equal(7);
    expect(windowSpendTotal(cached.memory.windowSpend?.('key', 'k', WINDOW))).to.equal(7);
    now += POLICY.refreshAfterMs;
    cached.memory.windowSpend?.('key', 'k', WINDOW);
    await settle();
    // The store is handed what the cache holds, and sums in full from what is no state (window-spend.test.ts).
    expect(database.previous).to.deep.equal([7]);
  });

  it('forgets the state with the entry: after clearLocal the next load sums in full', async () => {
    const database = new IncrementalStore();
    const cached = new CachedAuthStore(database, POLICY, NO_SHARED_CACHE, undefined, () => 1_000_000);
    await cached.windowSpend('key', 'k', WINDOW);
    cached.clearLocal();
    await cached.windowSpend('key', 'k', WINDOW);
    cached.dropLocal('window_spend', windowSpendId('key', 'k', WINDOW));
    await cached.windowSpend('key', 'k', WINDOW);
    expect(database.previous).to.deep.equal([null, null, null]);
  });

  it('forgets a state whose load was in flight when the entry was dropped: the next load sums in full', async () => {
    let release = (): void => undefined;
    class GatedStore extends IncrementalStore {
      gated = true;
      override async refreshWindowSpend(entity: WindowEntity, entityId: string, window: WindowOfBudget, previous: WindowSpend | null): Promise<WindowSpend | null> {
        if (this.gated) await new Promise<void>((resolve) => (release = resolve));
        return super.refreshWindowSpend(entity, entityId, window, previous);
      }
    }
    for (const drop of [
      (cached: CachedAuthStore) => cached.clearLocal(),
      (cached: CachedAuthStore) => cached.dropLocal('window_spend', windowSpendId('key', 'k', WINDOW)),
      (cached: CachedAuthStore) => void cached.invalidate('window_spend', windowSpendId('key', 'k', WINDOW)),
    ]) {
      const database = new GatedStore();
      const cached = new CachedAuthStore(database, POLICY, NO_SHARED_CACHE, undefined, () => 1_000_000);
      const inFlight = cached.windowSpend('key', 'k', WINDOW);
      await settle();
      drop(cached);
      release();
      await inFlight;
      database.gated = false;
      await cached.windowSpend('key', 'k', WINDOW);
      expect(database.previous).to.deep.equal([null, null]);
    }
  });

  it('asks a store that sums only in full for the whole window every time', async () => {
    const database = new MemoryStore();
    database.windowSpends.set(windowSpendId('key', 'k', WINDOW), 3);
    let now = 1_000_000;
    const cached = new CachedAuthStore(database, POLICY, new MapSharedCache(), undefined, () => now);
    expect(await cached.windowSpend('key', 'k', WINDOW)).to.equal(3);
    database.windowSpends.set(windowSpendId('key', 'k', WINDOW), 4);
    now += POLICY.refreshAfterMs;
    cached.memory.windowSpend?.('key', 'k', WINDOW);
    await settle();
    expect(windowSpendTotal(cached.memory.windowSpend?.('key', 'k', WINDOW))).to.equal(4);
  });
});
