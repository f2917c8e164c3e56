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
import { RedisClusterClient } from './redis-cluster-client';
import { newPurgeMarker, SharedTierSkipped, type SharedCache } from './shared-cache';

// Loading node-redis puts every string method of the process on V8's slow path; this takes them
// back (string-prototype.ts). Here, where the import happens, so no entry point can forget it.
restoreFastStringMethods();

export interface ScriptCall {
  readonly keys: string[];
  readonly arguments: string[];
}

/**
 * The commands Tollgate sends. A standalone node-redis client is one as it is (nothing wraps the
 * standalone path); a Redis Cluster is reached through RedisClusterClient (redis-cluster-client.ts).
 */
export interface RedisClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  mGet(keys: string[]): Promise<unknown[]>;
  xLen(key: string): Promise<number>;
  evalSha(sha1: string, options: ScriptCall): Promise<unknown>;
  eval(script: string, options: ScriptCall): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  info(section: string): Promise<string>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** A client of its own to the same Redis (subscribing takes a connection over). */
  duplicate(): RedisClient;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  once(event: 'ready', listener: () => void): unknown;
}

/** Commands sent but unanswered beyond this are refused at once (a miss), not queued. */
const MAX_QUEUED_COMMANDS = 1000;
/** After a failure, reads and writes skip Redis this long, so at most one Check per interval waits on a hung Redis. */
const SKIP_AFTER_FAILURE_MS = 1000;

export interface RedisOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly onError: (error: unknown) => void;
  /** Set for a Redis Cluster (`tollgate.redis_cluster`): the key prefix, whose hash tag names Tollgate's one slot. */
  readonly clusterKeyPrefix?: string;
}

/** Keep retrying in the background with a capped back-off; the process must outlive Redis outages. */
export function reconnectDelayMs(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000);
}

/** node-redis's standalone client, with every command it has (tests read Redis through more than Tollgate sends). */
export type StandaloneRedisClient = ReturnType<typeof createClient>;

export function createRedisClient(options: RedisOptions & { readonly clusterKeyPrefix?: undefined }): StandaloneRedisClient;
export function createRedisClient(options: RedisOptions): RedisClient;
export function createRedisClient(options: RedisOptions): RedisClient {
  const connection = {
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    socket: { connectTimeout: Math.max(options.commandTimeoutMs, 1000), reconnectStrategy: reconnectDelayMs },
  } as const;
  const client: RedisClient =
    options.clusterKeyPrefix === undefined
      ? createClient({ url: options.url, ...connection })
      : new RedisClusterClient({ url: options.url, keyPrefix: options.clusterKeyPrefix, connection });
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
