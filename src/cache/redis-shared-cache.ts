/**
 * Redis as the shared cache tier and the invalidation channel.
 *
 * The offline queue is disabled so that, while Redis is down, commands fail at once instead of
 * piling up in memory; every command also carries a timeout. Callers treat failures as misses.
 * A Redis that hangs (connection open, no replies) is worse than one that is down: each command
 * waits for its timeout. So after a failed read or write the cache tier is skipped for a moment,
 * and the client's command queue is capped (a hung connection keeps every command it was sent).
 */
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { withTimeout } from '../util/timeout';
import { restoreFastStringMethods } from '../util/string-prototype';
import { LuaScript } from './lua-script';
import { newPurgeMarker, SharedTierSkipped, type SharedCache } from './shared-cache';

// Loading node-redis puts every string method of the process on V8's slow path; this takes them
// back (string-prototype.ts). Here, where the import happens, so no entry point can forget it.
restoreFastStringMethods();

export type RedisClient = ReturnType<typeof createClient>;

/** Commands sent but unanswered beyond this are refused at once (a miss), not queued. */
const MAX_QUEUED_COMMANDS = 1000;
/** After a failure, reads and writes skip Redis this long, so at most one Check per interval waits on a hung Redis. */
const SKIP_AFTER_FAILURE_MS = 1000;

export interface RedisOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly onError: (error: unknown) => void;
}

export function createRedisClient(options: RedisOptions): RedisClient {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    socket: {
      connectTimeout: Math.max(options.commandTimeoutMs, 1000),
      // Keep retrying in the background with a capped back-off; the process must outlive Redis outages.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  client.on('error', options.onError);
  return client;
}

/**
 * SET only if the key holds what the caller saw: ARGV[1] is the SHA-1 of that text, or empty when
 * the key was absent (compared by digest so the old copy is not sent back over the wire).
 */
const SET_IF_UNCHANGED = new LuaScript(
  'set_if_unchanged',
  `local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return 0 end
elseif not current or redis.sha1hex(current) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`,
);

export class RedisSharedCache implements SharedCache {
  private skipUntil = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<string | null> {
    if (!this.reachable()) throw new SharedTierSkipped();
    const value = await this.guarded(() => withTimeout(this.client.get(key), this.timeoutMs, 'redis GET'));
    return typeof value === 'string' ? value : null;
  }

  async setIfUnchanged(key: string, seen: string | null, value: string, ttlMs: number): Promise<boolean> {
    if (!this.reachable()) return false;
    const seenDigest = seen === null ? '' : createHash('sha1').update(seen, 'utf8').digest('hex');
    const args = [seenDigest, value, String(Math.max(1, Math.round(ttlMs)))];
    const stored = await this.guarded(() => SET_IF_UNCHANGED.run(this.client, [key], args, this.timeoutMs));
    return stored === 1;
  }

  async purge(keys: readonly string[], markerTtlMs: number): Promise<void> {
    if (keys.length === 0) return;
    // Unlike reads, a purge that cannot happen must be reported: the writer has to know.
    if (!this.client.isReady) throw new Error('Redis is not connected');
    const expiration = { type: 'PX', value: Math.max(1, Math.round(markerTtlMs)) } as const;
    const purges = keys.map((key) => this.client.set(key, newPurgeMarker(), { expiration }));
    await withTimeout(Promise.all(purges), this.timeoutMs, 'redis purge');
  }

  reachable(): boolean {
    return this.client.isReady && this.now() >= this.skipUntil;
  }

  private async guarded<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      this.skipUntil = this.now() + SKIP_AFTER_FAILURE_MS;
      throw error;
    }
  }
}
