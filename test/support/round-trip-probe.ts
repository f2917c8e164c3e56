/**
 * Counts the MySQL statements and Redis commands one test causes, from the drivers' diagnostics
 * channels (as src/server/round-trips.ts does), filtered to the test's own database and Redis key
 * prefix, so that work left running by other tests in the same process is never counted.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

export interface RoundTripProbe {
  readonly mysql: number;
  readonly redis: number;
  close(): void;
}

interface MysqlContext {
  readonly database?: string;
}

interface RedisContext {
  readonly args?: readonly string[];
}

export function probeRoundTrips(scope: { database: string; redisPrefix: string }): RoundTripProbe {
  const counts = { mysql: 0, redis: 0 };
  const onMysql = (message: unknown): void => {
    if ((message as MysqlContext).database === scope.database) counts.mysql += 1;
  };
  const onRedis = (message: unknown): void => {
    if ((message as RedisContext).args?.some((arg) => arg.startsWith(scope.redisPrefix))) counts.redis += 1;
  };
  subscribe('tracing:mysql2:query:start', onMysql);
  subscribe('tracing:mysql2:execute:start', onMysql);
  subscribe('tracing:node-redis:command:start', onRedis);
  return {
    get mysql() {
      return counts.mysql;
    },
    get redis() {
      return counts.redis;
    },
    close() {
      unsubscribe('tracing:mysql2:query:start', onMysql);
      unsubscribe('tracing:mysql2:execute:start', onMysql);
      unsubscribe('tracing:node-redis:command:start', onRedis);
    },
  };
}
