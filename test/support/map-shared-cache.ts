/**
 * The shared tier as a plain map, with Redis's semantics (RedisSharedCache): purges leave a
 * marker, writes happen only where the key still holds what the writer saw. `failing` makes
 * every command throw, as a Redis that is down does; `skipping` is the tier not tried after a failure.
 */
import { newPurgeMarker, SharedTierSkipped, type SharedCache } from '../../src/cache/shared-cache';

export class MapSharedCache implements SharedCache {
  readonly entries = new Map<string, string>();
  failing = false;
  skipping = false;
  gets = 0;
  writes = 0;

  get(key: string): Promise<string | null> {
    if (this.skipping) return Promise.reject(new SharedTierSkipped());
    if (this.failing) return Promise.reject(new Error('redis down'));
    this.gets += 1;
    return Promise.resolve(this.entries.get(key) ?? null);
  }

  reachable(): boolean {
    return !this.skipping;
  }

  setIfUnchanged(key: string, seen: string | null, value: string): Promise<boolean> {
    if (this.skipping) return Promise.resolve(false);
    if (this.failing) return Promise.reject(new Error('redis down'));
    if ((this.entries.get(key) ?? null) !== seen) return Promise.resolve(false);
    this.writes += 1;
    this.entries.set(key, value);
    return Promise.resolve(true);
  }

  purge(keys: readonly string[]): Promise<void> {
    if (this.failing) return Promise.reject(new Error('redis down'));
    for (const key of keys) this.entries.set(key, newPurgeMarker());
    return Promise.resolve();
  }

  /** The decoded entries, purge markers left out. */
  values(): unknown[] {
    return [...this.entries.values()].filter((text) => text.startsWith('{')).map((text) => JSON.parse(text) as unknown);
  }
}
