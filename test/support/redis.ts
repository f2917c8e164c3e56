/**
 * Each test run gets its own Redis key prefix on the machine's shared Redis, removed afterwards
 * with SCAN + DEL of that prefix only (never FLUSH: the service is shared).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

export const TEST_REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  readonly url: string;
  readonly prefix: string;
  cleanup(): Promise<void>;
}

export async function redisAvailable(url = TEST_REDIS_URL): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** In CI a missing Redis fails the run; locally the suite is skipped with a clear reason. */
export async function requireRedis(ctx: Mocha.Context): Promise<TestRedis> {
  if (!(await redisAvailable())) {
    const reason = `Redis is not reachable at ${TEST_REDIS_URL}`;
    if (process.env.CI) throw new Error(`${reason} (CI requires it)`);
    console.warn(`      skipped: ${reason}`);
    ctx.skip();
  }
  const prefix = `tollgate-test-${randomBytes(6).toString('hex')}:`;
  return {
    url: TEST_REDIS_URL,
    prefix,
    async cleanup(): Promise<void> {
      const client = createClient({ url: TEST_REDIS_URL });
      client.on('error', () => undefined);
      await client.connect();
      try {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await client.del(keys);
        }
      } finally {
        client.destroy();
      }
    },
  };
}
