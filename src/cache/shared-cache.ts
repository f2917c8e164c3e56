/**
 * The shared second cache tier (Redis). Every replica reads through it before the database,
 * so a cold replica or a restarted process does not stampede MySQL.
 *
 * It is an optimisation, never a source of truth: every failure (Redis down, slow, evicted)
 * degrades to "miss" and the caller goes to the database.
 *
 * It must never undo a writer's purge (LiteLLM #25553: an update's older copy put back into the
 * cache by a request in flight). A load that read the database before a block was committed may
 * finish after the writer purged the shared copy; a plain SET would then store the unblocked row
 * for every replica. So a purge leaves a marker of its own, and a load writes only if the key
 * still holds what the load saw there before it read the database: a purge in between, or any
 * other write, makes the write a no-op.
 */
import { randomUUID } from 'node:crypto';

export interface SharedCache {
  /**
   * The stored text, a purge marker (see isPurgeMarker), or null when the key is absent. Rejects
   * when the key could not be read, with SharedTierSkipped when it was not even tried (Redis known
   * to be unreachable): "absent" would let a later write-back succeed over a purge it never saw.
   */
  get(key: string): Promise<string | null>;
  /** False while the tier is known to be unreachable and is not tried: reads reject with SharedTierSkipped. */
  reachable(): boolean;
  /**
   * Stores `value` only if the key still holds `seen` (null: still absent), as read by `get`
   * before the caller read the database. Resolves whether it stored.
   */
  setIfUnchanged(key: string, seen: string | null, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Replaces each key by a purge marker, distinct on every purge, kept `markerTtlMs`: a load that
   * saw the key before the purge cannot write it until then. Failures are reported: the writer
   * has to know when running servers may lag.
   */
  purge(keys: readonly string[], markerTtlMs: number): Promise<void>;
}

/** The tier was not read because it is known to be unreachable: a miss, not a fault to report. */
export class SharedTierSkipped extends Error {
  override readonly name = 'SharedTierSkipped';

  constructor() {
    super('shared cache tier skipped while Redis is unreachable');
  }
}

const PURGE_MARKER_PREFIX = 'purged:';

/** Never valid cached JSON, and unique, so that a purge always changes what the key holds. */
export function newPurgeMarker(): string {
  return `${PURGE_MARKER_PREFIX}${randomUUID()}`;
}

export function isPurgeMarker(text: string): boolean {
  return text.startsWith(PURGE_MARKER_PREFIX);
}

/** Used when REDIS_URL is unset: every read misses, every write is dropped. */
export const NO_SHARED_CACHE: SharedCache = {
  get: () => Promise.resolve(null),
  reachable: () => true,
  setIfUnchanged: () => Promise.resolve(false),
  purge: () => Promise.resolve(),
};
