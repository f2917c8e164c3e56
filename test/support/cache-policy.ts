/**
 * The entity caches' policy for tests that run Checks through a CachedAuthStore: entries live a
 * minute and refresh after five seconds, "not found" answers five seconds, a failing store is
 * answered from stale entries for ten minutes. Each suite overrides what it exercises.
 */
import type { CachePolicy } from '../../src/cache/cached-auth-store';

export function aCachePolicy(overrides: Partial<CachePolicy> = {}): CachePolicy {
  return {
    ttlMs: 60_000,
    refreshAfterMs: 5_000,
    negativeTtlMs: 5_000,
    maxStaleOnErrorMs: 600_000,
    maxEntries: 1000,
    sharedPrefix: 't:',
    ...overrides,
  };
}
