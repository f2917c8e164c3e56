/**
 * Telemetry around calls that leave the process: database lookups behind the cache and
 * shared-tier (Redis) commands. The wrappers sit at the store/cache boundary (runtime.ts builds
 * them), so a warm request that never leaves memory pays nothing here.
 */
import type { SharedCache } from '../cache/shared-cache';
import type { AuthStore, BatchLookups } from '../store/auth-store';

export type Backend = 'db' | 'redis';

export interface BackendCallObserver {
  /** Runs `work` as one call to `backend`; `operation` is a stable low-cardinality label. */
  call<T>(backend: Backend, operation: string, work: () => Promise<T>): Promise<T>;
}

export const DIRECT_CALLS: BackendCallObserver = {
  call: (_backend, _operation, work) => work(),
};

/** Nests observers: the first one sees the call outermost. */
export function combineObservers(observers: readonly BackendCallObserver[]): BackendCallObserver {
  if (observers.length === 0) return DIRECT_CALLS;
  if (observers.length === 1) return observers[0] as BackendCallObserver;
  const nest = <T>(index: number, backend: Backend, operation: string, work: () => Promise<T>): Promise<T> => {
    const observer = observers[index];
    return observer === undefined ? work() : observer.call(backend, operation, () => nest(index + 1, backend, operation, work));
  };
  return { call: (backend, operation, work) => nest(0, backend, operation, work) };
}

/**
 * Every lookup of `store` as a `db` call named after the method (findKey, findTeam, …, and the
 * batch lookups findKeys, findTeams, …).
 * A proxy rather than a hand-written wrapper so that a lookup added to AuthStore is observed
 * without anyone remembering to come here.
 */
export function observedAuthStore(store: AuthStore, observer: BackendCallObserver): AuthStore {
  if (observer === DIRECT_CALLS) return store;
  let batch: BatchLookups | undefined;
  return observedMethods(store, observer, (target, property) => {
    // The batch lookups are methods of a member object: observed the same way, once.
    if (property !== 'batch' || target.batch === undefined) return undefined;
    batch ??= observedMethods(target.batch, observer, () => undefined);
    return batch;
  });
}

/** `target` with every method call reported as a `db` call named after the method. */
function observedMethods<T extends object>(
  target: T,
  observer: BackendCallObserver,
  special: (target: T, property: string) => unknown,
): T {
  const wrapped = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(target, {
    get(object, property, receiver) {
      if (typeof property === 'string') {
        const replaced = special(object, property);
        if (replaced !== undefined) return replaced;
      }
      const value: unknown = Reflect.get(object, property, receiver);
      // Closing is not a lookup: it would only add a meaningless sample at shutdown.
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'close') return value;
      let method = wrapped.get(property);
      if (method === undefined) {
        const original = value as (...args: unknown[]) => Promise<unknown>;
        method = (...args) => observer.call('db', property, () => original.apply(object, args));
        wrapped.set(property, method);
      }
      return method;
    },
  });
}

/** Every shared-tier command as a `redis` call (GET / SET / DEL). */
export function observedSharedCache(shared: SharedCache, observer: BackendCallObserver): SharedCache {
  if (observer === DIRECT_CALLS) return shared;
  return {
    // A read the tier skips sends no command: nothing to time or count.
    get: (key) => (shared.reachable() ? observer.call('redis', 'GET', () => shared.get(key)) : shared.get(key)),
    reachable: () => shared.reachable(),
    setIfUnchanged: (key, seen, text, ttlMs) => observer.call('redis', 'SET_IF_UNCHANGED', () => shared.setIfUnchanged(key, seen, text, ttlMs)),
    purge: (keys, markerTtlMs) => observer.call('redis', 'PURGE', () => shared.purge(keys, markerTtlMs)),
  };
}
