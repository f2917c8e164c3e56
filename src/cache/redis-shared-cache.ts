/**
 * Redis as the shared cache tier and the invalidation channel.
 *
 * The offline queue is disabled so that, while Redis is down, commands fail at once instead of
 * piling up in memory; every command also carries a timeout. Callers treat failures as misses.
 */
import { createClient } from 'redis';
import { withTimeout } from '../util/timeout';
import type { SharedCache } from './shared-cache';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly onError: (error: unknown) => void;
}

export function createRedisClient(options: RedisOptions): RedisClient {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.max(options.commandTimeoutMs, 1000),
      // Keep retrying in the background with a capped back-off; the process must outlive Redis outages.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  client.on('error', options.onError);
  return client;
}

export class RedisSharedCache implements SharedCache {
  constructor(
    private readonly client: RedisClient,
    private readonly timeoutMs: number,
  ) {}

  async get(key: string): Promise<string | null> {
    if (!this.client.isReady) return null;
    const value = await withTimeout(this.client.get(key), this.timeoutMs, 'redis GET');
    return typeof value === 'string' ? value : null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!this.client.isReady) return;
    await withTimeout(
      this.client.set(key, value, { expiration: { type: 'PX', value: Math.max(1, Math.round(ttlMs)) } }),
      this.timeoutMs,
      'redis SET',
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    // Unlike reads, a purge that cannot happen must be reported: the writer has to know.
    if (!this.client.isReady) throw new Error('Redis is not connected');
    await withTimeout(this.client.del([...keys]), this.timeoutMs, 'redis DEL');
  }
}
