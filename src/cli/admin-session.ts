/**
 * What a management command needs: the admin store for writes and the cache invalidation
 * publisher, so that every write reaches running servers (pub/sub at once, generation poll always).
 */
import type { Settings } from '../config/settings';
import type { EntityKind } from '../cache/cached-auth-store';
import { isClusterNode } from '../cache/redis-mode';
import { CLUSTER_NODE_REFUSED, closeRedis, openRedis, openStore } from '../server/runtime';
import { createLogger } from '../observability/logger';
import { AdminStore } from '../store/admin-store';
import { TypeOrmAuthStore } from '../store/typeorm-auth-store';
import { SpendKeys } from '../spend/redis-keys';
import { budgetWindowOf, overrideCounterSpend, type CounterOverride, type OverridableKind } from '../spend/spend-override';

export interface AdminSession {
  readonly admin: AdminStore;
  /** Purges and announces a changed entity; failures are reported, never fatal: the write is done. */
  invalidate(kind: EntityKind, id: string): Promise<void>;
  /**
   * Puts a spend just written to the database into the entity's shared counter (spend-override.ts).
   * Null without Redis (no counters); throws when Redis cannot be written.
   */
  overrideSpendCounter(kind: OverridableKind, id: string, spend: number): Promise<CounterOverride | null>;
}

const REDIS_READY_TIMEOUT_MS = 2_000;

export async function withAdminSession<T>(settings: Settings, work: (session: AdminSession) => Promise<T>): Promise<T> {
  const logger = createLogger('silent');
  let redis = openRedis(settings, logger);
  if (redis !== null) {
    await waitUntilReady(redis.client.isReady ? Promise.resolve() : onceReady(redis.client));
    // Asked here rather than left to the client's own check, so that nothing is sent to such a node
    // and the reason is printed (this logger is silent).
    if (!settings.redisCluster && (await isClusterNode(redis.client, REDIS_READY_TIMEOUT_MS))) {
      console.error(
        `warning: ${CLUSTER_NODE_REFUSED}: going on without Redis ` +
          "(running servers see the change through the database's generation counter, within about a second)",
      );
      await closeRedis(redis);
      redis = null;
    }
  }
  const runtime = await openStore(settings, redis);
  try {
    const admin = new AdminStore(runtime.dataSource, settings);
    return await work({
      admin,
      async invalidate(kind, id) {
        try {
          await runtime.publisher.invalidate(kind, id);
        } catch (error) {
          console.error(
            `warning: written, but running servers could not be notified (${error instanceof Error ? error.message : String(error)}); ` +
              `they will see the change within ${settings.cache.ttlSeconds}s`,
          );
        }
      },
      async overrideSpendCounter(kind, id, spend) {
        if (redis === null) return null;
        if (!redis.client.isReady) throw new Error('Redis is not connected');
        // Read past every cache: the window must come from the row as it is now.
        const window = await budgetWindowOf(new TypeOrmAuthStore(runtime.dataSource, settings), settings.config, kind, id);
        return overrideCounterSpend(redis.client, new SpendKeys(settings.cache.redisKeyPrefix), { kind, id }, spend, window, Date.now(), {
          create: settings.metering.enabled,
          idleMs: settings.metering.counterIdleMs,
          timeoutMs: Math.max(settings.redisTimeoutMs, 1000),
        });
      },
    });
  } finally {
    await runtime.dataSource.destroy();
    await closeRedis(redis);
  }
}

function onceReady(client: { once(event: 'ready', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

async function waitUntilReady(ready: Promise<void>): Promise<void> {
  await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, REDIS_READY_TIMEOUT_MS).unref())]);
}
