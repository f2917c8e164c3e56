/**
 * One cache per entity kind: process memory (bounded LRU) → shared tier (Redis) → loader (DB).
 *
 * - Entries are immutable values; a refresh replaces the entry, it never mutates it.
 * - Fresh for `refreshAfterMs`; after that the entry is still served while one background
 *   reload runs (stale-while-revalidate), until `ttlMs`, after which a request waits for the reload.
 * - Concurrent misses for one id share one load (single flight).
 * - Background reloads may go through their own loader, which gathers the ids that went stale
 *   within a few milliseconds into one statement (CachedAuthStore, gatheringLoader).
 * - "Not found" is cached for `negativeTtlMs` (spec README §4.2).
 * - Only a load that read the shared tier first writes to it, and only if the key still holds what
 *   it read then (shared-cache.ts): a writer's purge is never undone by a load that was in flight.
 * - When the loader fails (database down), an entry not older than `maxStaleOnErrorMs` is served;
 *   otherwise the error propagates and the caller answers "cannot decide".
 */
import { LRUCache } from 'lru-cache';
import { decodeCached, deepFreeze, encodeCached } from './codec';
import { isPurgeMarker, SharedTierSkipped, type SharedCache } from './shared-cache';

export interface EntityCacheOptions {
  /** Entity kind, used in shared-tier keys and metrics (e.g. "key", "team"). */
  readonly kind: string;
  readonly refreshAfterMs: number;
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly maxStaleOnErrorMs: number;
  readonly maxEntries: number;
  /** Prefix of shared-tier keys, e.g. "tollgate:". */
  readonly sharedPrefix: string;
}

export interface CacheEvents {
  hit(kind: string, tier: 'memory' | 'shared'): void;
  miss(kind: string): void;
  staleServed(kind: string, reason: 'revalidating' | 'loader_failed'): void;
  sharedTierError(kind: string, error: unknown): void;
  backgroundRefreshError(kind: string, error: unknown): void;
}

export const SILENT_CACHE_EVENTS: CacheEvents = {
  hit: () => undefined,
  miss: () => undefined,
  staleServed: () => undefined,
  sharedTierError: () => undefined,
  backgroundRefreshError: () => undefined,
};

interface Entry<T> {
  readonly value: T | null;
  /** When the value was read from the database (not when it was copied between tiers). */
  readonly loadedAt: number;
}

interface SharedEntry<T> {
  readonly v: T | null;
  readonly at: number;
}

/** What the shared tier held for an id: a fresh entry to serve, or what a write-back must find there still. */
interface SharedRead<T> {
  readonly entry: Entry<T> | null;
  /** The text read (null: absent); undefined when the read failed, and then nothing is written back. */
  readonly seen: string | null | undefined;
}

export type Clock = () => number;

/**
 * Purge markers live at least this long, and a load that took half of it or longer writes nothing
 * back: the writer (the CLI) and the replicas may run with different TTLs, so both sides go by
 * this constant, never by their own settings.
 */
const MIN_PURGE_MARKER_TTL_MS = 60_000;
const MAX_WRITE_BACK_LOAD_MS = MIN_PURGE_MARKER_TTL_MS / 2;

export class EntityCache<T> {
  private readonly memory: LRUCache<string, Entry<T>>;
  private readonly inFlight = new Map<string, Promise<Entry<T>>>();
  /** Bumped by invalidation so a load that started before it cannot store its older result. */
  private epoch = 0;

  constructor(
    private readonly options: EntityCacheOptions,
    private readonly loader: (id: string) => Promise<T | null>,
    private readonly shared: SharedCache,
    private readonly events: CacheEvents = SILENT_CACHE_EVENTS,
    private readonly now: Clock = Date.now,
    /** Loads for background refreshes, which nobody waits on: may gather ids (gatheringLoader). */
    private readonly refreshLoader: (id: string) => Promise<T | null> = loader,
  ) {
    // Bounded by a count of entries, but not with `max`: lru-cache allocates arrays for `max` entries
    // up front, ~1.6 MB per kind at the default 100 000, and most kinds (global spend: one entry)
    // never come near it. Counted through `maxSize` its arrays grow with the entries instead.
    this.memory = new LRUCache<string, Entry<T>>({ maxSize: options.maxEntries, sizeCalculation: () => 1 });
  }

  get kind(): string {
    return this.options.kind;
  }

  async get(id: string): Promise<T | null> {
    const entry = this.memory.get(id);
    const known = entry === undefined ? undefined : this.answerFromMemory(id, entry);
    if (known !== undefined) return known;
    this.events.miss(this.options.kind);
    try {
      return (await this.load(id, true)).value;
    } catch (error) {
      const age = entry === undefined ? -1 : this.now() - entry.loadedAt;
      if (entry !== undefined && age >= 0 && age < this.options.maxStaleOnErrorMs) {
        this.events.staleServed(this.options.kind, 'loader_failed');
        return entry.value;
      }
      throw error;
    }
  }

  /**
   * What `get` would answer from process memory without waiting: the value, null for a cached
   * "not found", or undefined when only a load can answer (then call `get`). Lets a warm request
   * be decided without a single promise.
   */
  peek(id: string): T | null | undefined {
    const entry = this.memory.get(id);
    return entry === undefined ? undefined : this.answerFromMemory(id, entry);
  }

  /** Fresh: served. Stale but within its TTL: served while one background reload runs. */
  private answerFromMemory(id: string, entry: Entry<T>): T | null | undefined {
    const age = this.now() - entry.loadedAt;
    // The clock stepped back: the entry's age is unknown, so it is loaded again, never kept.
    if (age < 0) return undefined;
    const limit = entry.value === null ? this.options.negativeTtlMs : this.options.ttlMs;
    if (age < Math.min(limit, this.options.refreshAfterMs)) {
      this.events.hit(this.options.kind, 'memory');
      return entry.value;
    }
    if (age < limit) {
      this.events.hit(this.options.kind, 'memory');
      this.events.staleServed(this.options.kind, 'revalidating');
      this.refreshInBackground(id, entry);
      return entry.value;
    }
    return undefined;
  }

  /** Drops the id from this process and from the shared tier. */
  async invalidate(id: string): Promise<void> {
    this.dropLocal(id);
    await this.shared.purge([this.sharedKey(id)], this.purgeMarkerTtlMs());
  }

  /** A load that saw the key before a purge cannot write over the marker until it expires. */
  private purgeMarkerTtlMs(): number {
    return Math.max(this.options.ttlMs, this.options.negativeTtlMs, MIN_PURGE_MARKER_TTL_MS);
  }

  /** Drops the id from this process only (another replica already purged the shared tier). */
  dropLocal(id: string): void {
    this.epoch += 1;
    this.memory.delete(id);
    // A load that started before the invalidation must not answer requests that arrive after it.
    this.inFlight.delete(id);
  }

  clearLocal(): void {
    this.epoch += 1;
    this.memory.clear();
    this.inFlight.clear();
  }

  get size(): number {
    return this.memory.size;
  }

  private refreshInBackground(id: string, current: Entry<T>): void {
    if (this.inFlight.has(id)) return;
    // Background refreshes skip the shared tier: its copy may be as old as ours.
    this.load(id, false, current).catch((error: unknown) => this.events.backgroundRefreshError(this.options.kind, error));
  }

  /** `current`: the entry a background refresh replaces (its load may be gathered with others). */
  private load(id: string, useShared: boolean, current?: Entry<T>): Promise<Entry<T>> {
    const pending = this.inFlight.get(id);
    if (pending !== undefined) return pending;
    const epochAtStart = this.epoch;
    const promise = this.loadThroughTiers(id, useShared, epochAtStart, current)
      .then((entry) => {
        if (this.epoch === epochAtStart) this.memory.set(id, entry);
        return entry;
      })
      .finally(() => {
        if (this.inFlight.get(id) === promise) this.inFlight.delete(id);
      });
    this.inFlight.set(id, promise);
    return promise;
  }

  private async loadThroughTiers(id: string, useShared: boolean, epochAtStart: number, current?: Entry<T>): Promise<Entry<T>> {
    const startedAt = this.now();
    const shared = useShared ? await this.readShared(id) : null;
    if (shared?.entry) {
      this.events.hit(this.options.kind, 'shared');
      return shared.entry;
    }
    const value = deepFreeze(await (current === undefined ? this.loader(id) : this.refreshLoader(id)));
    // Aged from before the database read: the row may predate anything that happened during it.
    const entry: Entry<T> = { value, loadedAt: startedAt };
    // Background refreshes (no shared read before the database) write nothing: with nothing seen,
    // a write could not tell whether a purge came in between. Nor does a load an invalidation
    // overtook: its row may be the one invalidated, and the purge marker that would stop it may
    // be gone (Redis restarted or failed over). Other replicas take a shared copy only while it is
    // younger than the refresh window, and load from the database after that.
    const overtaken = this.epoch !== epochAtStart;
    if (shared !== null && shared.seen !== undefined && !overtaken) void this.writeShared(id, entry, shared.seen, startedAt);
    return entry;
  }

  private async readShared(id: string): Promise<SharedRead<T>> {
    let text: string | null;
    try {
      text = await this.shared.get(this.sharedKey(id));
    } catch (error) {
      if (!(error instanceof SharedTierSkipped)) this.events.sharedTierError(this.options.kind, error);
      return { entry: null, seen: undefined };
    }
    if (text === null || isPurgeMarker(text)) return { entry: null, seen: text };
    try {
      const stored = decodeCached<SharedEntry<T>>(text);
      const age = this.now() - stored.at;
      const limit = stored.v === null ? this.options.negativeTtlMs : this.options.refreshAfterMs;
      // Only a fresh shared copy is worth taking; an older one would just be refreshed again at once.
      const fresh = age >= 0 && age < limit;
      return { entry: fresh ? { value: stored.v, loadedAt: stored.at } : null, seen: text };
    } catch (error) {
      // Unreadable (another version's format, corrupted): replaced by the database's row.
      this.events.sharedTierError(this.options.kind, error);
      return { entry: null, seen: text };
    }
  }

  private async writeShared(id: string, entry: Entry<T>, seen: string | null, startedAt: number): Promise<void> {
    const ttl = entry.value === null ? this.options.negativeTtlMs : this.options.ttlMs;
    if (ttl <= 0) return;
    // A purge marker that expired while this load ran would no longer stop the write.
    if (this.now() - startedAt >= MAX_WRITE_BACK_LOAD_MS) return;
    try {
      const shared: SharedEntry<T> = { v: entry.value, at: entry.loadedAt };
      await this.shared.setIfUnchanged(this.sharedKey(id), seen, encodeCached(shared), ttl);
    } catch (error) {
      this.events.sharedTierError(this.options.kind, error);
    }
  }

  private sharedKey(id: string): string {
    return `${this.options.sharedPrefix}${this.options.kind}:${id}`;
  }
}
