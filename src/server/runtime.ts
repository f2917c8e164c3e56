/**
 * Builds the object graph from settings: database → store → Redis → caches → invalidation.
 * Shared by `tollgate serve` (reads) and the CLI (writes + invalidation).
 */
import type { DataSource } from 'typeorm';
import { CachedAuthStore, type CachePolicy } from '../cache/cached-auth-store';
import { DbGenerationCounter } from '../cache/db-generation-counter';
import type { CacheEvents } from '../cache/entity-cache';
import { CacheInvalidationPublisher, invalidationChannel, type GenerationCounter, type MessageBus } from '../cache/invalidation';
import { RedisMessageBus } from '../cache/redis-bus';
import { refuseClusterNodes } from '../cache/redis-mode';
import { createRedisClient, RedisSharedCache, type RedisClient } from '../cache/redis-shared-cache';
import { NO_SHARED_CACHE } from '../cache/shared-cache';
import type { Settings } from '../config/settings';
import { DIRECT_CALLS, observedAuthStore, observedSharedCache, type BackendCallObserver } from '../observability/backend-calls';
import type { Logger } from '../observability/logger';
import { safeUrl } from '../observability/logger';
import { createDataSource } from '../store/data-source';
import { TypeOrmAuthStore } from '../store/typeorm-auth-store';
import { inTransaction } from '../store/transactions';
import { runMigrations } from '../store/migrations';

/** While the database is down, entries this young are still served (warm keys keep working). */
const MAX_STALE_ON_ERROR_MS = 10 * 60_000;

export function cachePolicyFrom(settings: Settings): CachePolicy {
  const ttlMs = settings.cache.ttlSeconds * 1000;
  return {
    ttlMs,
    // Background revalidation starts this long after a load (bounded by the TTL).
    refreshAfterMs: Math.min(settings.cache.refreshSeconds * 1000, ttlMs),
    negativeTtlMs: settings.cache.negativeTtlSeconds * 1000,
    maxStaleOnErrorMs: Math.max(MAX_STALE_ON_ERROR_MS, ttlMs),
    maxEntries: settings.cache.maxEntries,
    sharedPrefix: settings.cache.redisKeyPrefix,
    ...(settings.jwt.virtualKeyMapping === null ? {} : { jwtKeyMappingTtlMs: settings.jwt.virtualKeyMapping.cacheTtlMs }),
  };
}

export interface Redis {
  readonly client: RedisClient;
  readonly bus: MessageBus;
}

/** Why a cluster node named without `tollgate.redis_cluster` is not used (redis-mode.ts); the CLI says it too. */
export const CLUSTER_NODE_REFUSED =
  'REDIS_URL names a Redis Cluster node, and tollgate.redis_cluster (TOLLGATE_REDIS_CLUSTER) is not set: Tollgate\'s scripts use several keys at once, which only a cluster with every key under one hash-tagged prefix can run';

export function openRedis(settings: Settings, logger: Logger): Redis | null {
  if (settings.redisUrl === null) return null;
  let lastReported = 0;
  const client = createRedisClient({
    url: settings.redisUrl,
    commandTimeoutMs: settings.redisTimeoutMs,
    ...(settings.redisCluster ? { clusterKeyPrefix: settings.cache.redisKeyPrefix } : {}),
    onError: (error: unknown) => {
      // A down Redis reports an error on every reconnect attempt; one line every 10 s is enough.
      if (Date.now() - lastReported > 10_000) {
        lastReported = Date.now();
        logger.warn({ redis: safeUrl(settings.redisUrl ?? ''), err: String(error) }, 'redis unavailable');
      }
    },
  });
  const bus = new RefusableBus(new RedisMessageBus(client, invalidationChannel(settings.cache.redisKeyPrefix), settings.redisTimeoutMs));
  if (!settings.redisCluster) {
    refuseClusterNodes(client, Math.max(settings.redisTimeoutMs, 1000), () => {
      logger.error({ redis: safeUrl(settings.redisUrl ?? '') }, `${CLUSTER_NODE_REFUSED}: running as while Redis is down`);
      bus.refuse();
    });
  }
  client.connect().catch(() => undefined); // retried by the reconnect strategy
  return { client, bus };
}

/**
 * The invalidation bus of a Redis that may be refused (redis-mode.ts). The subscriber is a
 * connection of its own, made from the client whenever the listener starts, before or after the
 * refusal: left alone it would stay on the refused node, reconnecting to it for ever, while the
 * log says Tollgate no longer uses it. Refused, the bus closes it and subscribes no more;
 * publishing fails as with Redis down (the main client is closed), and the poll carries on.
 */
class RefusableBus implements MessageBus {
  private refused = false;

  constructor(private readonly inner: MessageBus) {}

  publish(message: string): Promise<void> {
    return this.inner.publish(message);
  }

  async subscribe(onMessage: (message: string) => void): Promise<void> {
    if (this.refused) return;
    try {
      await this.inner.subscribe(onMessage);
    } catch (error) {
      // Its connection closed by refuse() while it was being made: not an outage to report.
      if (!this.refused) throw error;
    }
  }

  unsubscribe(): Promise<void> {
    return this.inner.unsubscribe();
  }

  refuse(): void {
    this.refused = true;
    this.inner.unsubscribe().catch(() => undefined);
  }
}

export async function closeRedis(redis: Redis | null): Promise<void> {
  if (redis === null) return;
  await redis.bus.unsubscribe();
  if (redis.client.isOpen) await redis.client.close().catch(() => redis.client.destroy());
}

export interface StoreRuntime {
  readonly dataSource: DataSource;
  readonly store: CachedAuthStore;
  readonly counter: GenerationCounter;
  readonly publisher: CacheInvalidationPublisher;
}

export async function openStore(
  settings: Settings,
  redis: Redis | null,
  events?: CacheEvents,
  /** Sees every database lookup and Redis command behind the cache (metrics, trace spans). */
  calls: BackendCallObserver = DIRECT_CALLS,
): Promise<StoreRuntime> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  // The embedded store creates its own tables so `npm start` works on a fresh machine;
  // MySQL schemas change only through `tollgate migrate` (a deliberate, reviewable step).
  if (settings.databaseUrl === null) {
    try {
      await runMigrations(dataSource);
    } catch (error) {
      await dataSource.destroy().catch(() => undefined);
      throw error;
    }
  }
  const base = observedAuthStore(new TypeOrmAuthStore(dataSource, settings), calls);
  const shared =
    redis === null ? NO_SHARED_CACHE : observedSharedCache(new RedisSharedCache(redis.client, settings.redisTimeoutMs), calls);
  const store = new CachedAuthStore(base, cachePolicyFrom(settings), shared, events);
  // The generation lives in the database even when Redis is configured: every writer and every
  // replica already depends on the database, so a write is seen within one poll when pub/sub is
  // lost or Redis is down altogether (docs/performance.md, "Revocation delay"). One tiny
  // primary-key read per second per replica is the price.
  const counter = new DbGenerationCounter(
    (sql, params) => dataSource.query(sql, [...params]),
    (work) => inTransaction(dataSource, (manager) => work((sql, params) => manager.query(sql, [...params]))),
    settings.dbTimeoutMs,
  );
  return {
    dataSource,
    store,
    counter,
    publisher: new CacheInvalidationPublisher(store, counter, redis?.bus ?? null),
  };
}
