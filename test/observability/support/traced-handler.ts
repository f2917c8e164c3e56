/**
 * The real Check handler, authorizer and cache over an in-memory store, with every telemetry
 * seam wired as `tollgate serve` wires it: for tracing and metrics tests without a process.
 */
import type { ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import { Authorizer } from '../../../src/authorize/authorize';
import { CachedAuthStore } from '../../../src/cache/cached-auth-store';
import type { CacheEvents } from '../../../src/cache/entity-cache';
import { settingsFrom, type Settings } from '../../../src/config/settings';
import type { CheckRequest, CheckResponse } from '../../../src/envoy/messages';
import { DIRECT_CALLS, observedAuthStore, observedSharedCache, type BackendCallObserver } from '../../../src/observability/backend-calls';
import type { Instrumentation } from '../../../src/observability/instrumentation';
import { createLogger } from '../../../src/observability/logger';
import { createCheckHandler } from '../../../src/server/check-handler';
import { cachePolicyFrom } from '../../../src/server/runtime';
import { MapSharedCache } from '../../support/map-shared-cache';
import { MemoryStore } from '../../support/memory-store';

export interface Answer {
  readonly error: ServiceError | null;
  readonly response: CheckResponse | undefined;
}

export interface Harness {
  readonly store: MemoryStore;
  readonly shared: MapSharedCache;
  readonly settings: Settings;
  check(request: CheckRequest): Promise<Answer>;
}

export const MASTER_KEY = 'sk-master-telemetry-0123456789';

export function aHarness(telemetry: {
  instrumentation: Instrumentation;
  calls?: BackendCallObserver;
  cacheEvents?: CacheEvents;
}): Harness {
  const settings = settingsFrom({}, { LITELLM_MASTER_KEY: MASTER_KEY });
  const store = new MemoryStore();
  const shared = new MapSharedCache();
  const calls = telemetry.calls ?? DIRECT_CALLS;
  const cached = new CachedAuthStore(
    observedAuthStore(store, calls),
    cachePolicyFrom(settings),
    observedSharedCache(shared, calls),
    telemetry.cacheEvents,
  );
  const authorizer = new Authorizer({ store: cached, policy: settings.policy, masterKey: settings.masterKey });
  const handler = createCheckHandler({
    settings,
    authorizer,
    logger: createLogger('silent'),
    instrumentation: telemetry.instrumentation,
  });
  return {
    store,
    shared,
    settings,
    check: (request) =>
      new Promise((resolve) => {
        const call = { request, getDeadline: () => Infinity } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
        handler(call, (error, response) => resolve({ error: (error as ServiceError | null) ?? null, response: response ?? undefined }));
      }),
  };
}
