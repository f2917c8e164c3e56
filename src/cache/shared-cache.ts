/**
 * The shared second cache tier (Redis). Every replica reads through it before the database,
 * so a cold replica or a restarted process does not stampede MySQL.
 *
 * It is an optimisation, never a source of truth: every failure (Redis down, slow, evicted)
 * degrades to "miss" and the caller goes to the database.
 */
export interface SharedCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
}

/** Used when REDIS_URL is unset: every read misses, every write is dropped. */
export const NO_SHARED_CACHE: SharedCache = {
  get: () => Promise.resolve(null),
  set: () => Promise.resolve(),
  delete: () => Promise.resolve(),
};
