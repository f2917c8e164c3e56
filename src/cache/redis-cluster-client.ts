/**
 * A Redis Cluster as Tollgate's shared Redis. Every key Tollgate writes starts with the key prefix,
 * whose hash tag (`{tollgate}:`) puts them all in one slot (settings refuse a prefix without one),
 * so the scripts that touch several keys at once run on one node, as on a standalone Redis. Every
 * command is therefore sent to the master of that slot, named by the prefix itself: the routing
 * does not hang on which argument of a command is its first key (EVALSHA, XREADGROUP), and PUBLISH
 * goes to a node that is up whenever Tollgate's keys can be read. Classic pub/sub is broadcast to
 * every node, so a subscriber on any node hears it.
 *
 * One slot means one shard carries Tollgate's keys: a cluster gives Tollgate failover, not sharding.
 */
import { EventEmitter } from 'node:events';
import { createCluster, type RedisClusterType } from 'redis';
import { keySlot } from './hash-tag';
import type { RedisClient, ScriptCall } from './redis-shared-cache';

/** The per-node settings of the standalone client: no offline queue, capped queue, back-off. */
export interface ClusterConnectionOptions {
  readonly disableOfflineQueue: boolean;
  readonly commandsQueueMaxLength: number;
  readonly socket: { readonly connectTimeout: number; readonly reconnectStrategy: (retries: number) => number };
}

export interface ClusterClientOptions {
  /** One node of the cluster (REDIS_URL); the others are found from it. */
  readonly url: string;
  readonly keyPrefix: string;
  readonly connection: ClusterConnectionOptions;
}

/** After a node stops answering, the topology is asked again at most this often (failover). */
const REDISCOVER_INTERVAL_MS = 1000;

export class RedisClusterClient extends EventEmitter implements RedisClient {
  private readonly cluster: RedisClusterType;
  private readonly slot: number;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private lastRediscovery = 0;

  constructor(private readonly options: ClusterClientOptions) {
    super();
    this.slot = keySlot(options.keyPrefix);
    const { username, password, protocol } = new URL(options.url);
    this.cluster = createCluster({
      rootNodes: [{ url: options.url }],
      // The nodes found from the first are reached as it is: same credentials, same settings.
      defaults: {
        ...options.connection,
        ...(username === '' ? {} : { username: decodeURIComponent(username) }),
        ...(password === '' ? {} : { password: decodeURIComponent(password) }),
        socket: { ...options.connection.socket, ...(protocol === 'rediss:' ? { tls: true } : {}) },
      },
    });
    this.cluster.on('error', (error: unknown) => this.emit('error', explainedClusterError(error)));
    this.cluster.on('node-error', (error: unknown) => this.emit('error', error));
    // A master that fails over leaves its connection retrying a dead address, and no command sent
    // to it ever comes back MOVED: so while a node is lost, ask a live one for the slots again.
    this.cluster.on('node-reconnecting', () => this.rediscover());
  }

  /** Whether the master of Tollgate's slot is connected: what a command needs, as isReady says of a standalone client. */
  get isReady(): boolean {
    return this.cluster.slots[this.slot]?.master.client?.isReady === true;
  }

  /**
   * From connect() until close() or destroy(), as a standalone client is open while it reconnects:
   * callers close an open client only (closeRedis, the bus), and one still trying to reach the
   * cluster must be closed too, or it goes on trying, and connects, after shutdown.
   */
  get isOpen(): boolean {
    return !this.closed && (this.connecting !== null || this.cluster.isOpen);
  }

  get(key: string): Promise<unknown> {
    return this.send(['GET', key]);
  }

  set(key: string, value: string, options: { expiration: { type: 'PX'; value: number } }): Promise<unknown> {
    return this.send(['SET', key, value, options.expiration.type, String(options.expiration.value)]);
  }

  async mGet(keys: string[]): Promise<unknown[]> {
    const reply = await this.send(['MGET', ...keys]);
    if (!Array.isArray(reply)) throw new Error('expected an array reply to MGET');
    return reply as unknown[];
  }

  async xLen(key: string): Promise<number> {
    return Number(await this.send(['XLEN', key]));
  }

  evalSha(sha1: string, options: ScriptCall): Promise<unknown> {
    return this.send(['EVALSHA', sha1, String(options.keys.length), ...options.keys, ...options.arguments]);
  }

  eval(script: string, options: ScriptCall): Promise<unknown> {
    return this.send(['EVAL', script, String(options.keys.length), ...options.keys, ...options.arguments]);
  }

  sendCommand(args: string[]): Promise<unknown> {
    return this.send(args);
  }

  publish(channel: string, message: string): Promise<unknown> {
    return this.send(['PUBLISH', channel, message]);
  }

  async info(section: string): Promise<string> {
    return String(await this.send(['INFO', section]));
  }

  subscribe(channel: string, listener: (message: string) => void): Promise<unknown> {
    return this.cluster.subscribe(channel, listener);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.cluster.unsubscribe(channel);
  }

  duplicate(): RedisClient {
    return new RedisClusterClient(this.options);
  }

  /**
   * Settles once the cluster's topology is read and its nodes connected. node-redis gives up on a
   * cluster none of whose root nodes answers; a standalone client keeps retrying, so this does too.
   */
  connect(): Promise<void> {
    this.connecting ??= this.connectUntilOpen();
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.cluster.isOpen) await this.cluster.close();
  }

  destroy(): void {
    this.closed = true;
    if (this.cluster.isOpen) this.cluster.destroy();
  }

  private send(args: string[]): Promise<unknown> {
    return this.cluster.sendCommand(this.options.keyPrefix, false, args);
  }

  private async connectUntilOpen(): Promise<void> {
    for (let retries = 0; ; retries += 1) {
      if (this.closed) throw new Error('Redis Cluster client closed');
      try {
        await this.cluster.connect();
        if (this.closed) {
          this.cluster.destroy();
          throw new Error('Redis Cluster client closed');
        }
        this.emit('ready');
        return;
      } catch (error) {
        if (this.closed) throw error;
        // The cause was already reported through the cluster's 'error' event.
        const delayMs = this.options.connection.socket.reconnectStrategy(retries);
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  private rediscover(): void {
    const now = Date.now();
    if (this.closed || !this.cluster.isOpen || now - this.lastRediscovery < REDISCOVER_INTERVAL_MS) return;
    // With no node left answering, a lost one is asked: node-redis then falls back to REDIS_URL's
    // node, whose name (a configuration endpoint, a Service) may now lead to nodes at new addresses.
    const masters = this.cluster.masters;
    const from = (masters.find((master) => master.client?.isReady === true) ?? masters[0])?.client;
    if (from === undefined) return;
    this.lastRediscovery = now;
    this.cluster._slots.rediscover(from).catch(() => undefined);
  }
}

/**
 * A standalone Redis answers the topology question with "cluster support disabled", every retry:
 * said alone it does not tell the operator which of their settings is wrong.
 */
export function explainedClusterError(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.includes('cluster support disabled')) return error;
  return new Error(
    `REDIS_URL names a Redis that is not a cluster node, but tollgate.redis_cluster / TOLLGATE_REDIS_CLUSTER is on: turn it off for a standalone Redis (${error.message})`,
  );
}
