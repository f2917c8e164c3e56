/**
 * A Redis Cluster the test owns: three masters on spare ports, no replicas, no persistence, in a
 * temporary directory removed afterwards. Never the machine's shared Redis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { createRedisClient, type RedisClient } from '../../src/cache/redis-shared-cache';
import { redisServerInstalled, sparePort } from './own-redis';
import { requireRedis, type TestRedis } from './redis';

export interface OwnRedisCluster {
  readonly ports: readonly number[];
  /** A URL naming one node (what REDIS_URL would name). */
  readonly url: string;
  /** SIGKILL of one node: a crash, which its replica (if any) takes over after the node timeout. */
  kill(port: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ClusterShape {
  /** Replicas per master (0: three nodes; 1: six, three of them replicas). */
  readonly replicas: 0 | 1;
  /** cluster-node-timeout: how long a silent master stands before its replica is promoted. */
  readonly nodeTimeoutMs: number;
}

const THREE_MASTERS: ClusterShape = { replicas: 0, nodeTimeoutMs: 15_000 };

/** A cluster node also listens on its port + 10000 (the cluster bus); a node without it never starts. */
const CLUSTER_BUS_OFFSET = 10_000;

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

/**
 * Ports for `count` nodes whose bus ports exist (at most 65535: the kernel's spare ports reach
 * 60999 on Linux, 65535 elsewhere), are free, and are no other node's port.
 */
export async function spareClusterPorts(count: number, pick: () => Promise<number> = sparePort, isFree: (port: number) => Promise<boolean> = portIsFree): Promise<number[]> {
  const ports: number[] = [];
  const taken = new Set<number>();
  for (let attempt = 0; ports.length < count; attempt += 1) {
    if (attempt >= 100 * count) throw new Error(`redis cluster: no ${count} spare ports with spare cluster bus ports`);
    const port = await pick();
    const bus = port + CLUSTER_BUS_OFFSET;
    if (bus > 65535 || taken.has(port) || taken.has(bus) || !(await isFree(bus))) continue;
    ports.push(port);
    taken.add(port).add(bus);
  }
  return ports;
}

function clusterToolsInstalled(): boolean {
  return redisServerInstalled() && spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function clusterCommand(port: number, args: string[]): Promise<string> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.sendCommand(['CLUSTER', ...args]);
  } catch {
    return '';
  } finally {
    if (client.isOpen) client.destroy();
  }
}

async function nodeInfo(port: number, section: string): Promise<string> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.info(section);
  } catch {
    return '';
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function clusterInfo(port: number): Promise<string> {
  return clusterCommand(port, ['INFO']);
}

/** The port of the master serving a slot, as the node asked sees the cluster (null: none it knows of). */
export async function masterOfSlot(askedPort: number, slot: number): Promise<number | null> {
  for (const line of (await clusterCommand(askedPort, ['NODES'])).split('\n')) {
    const [, address, flags, , , , , state, ...ranges] = line.split(' ');
    if (address === undefined || !flags.split(',').includes('master') || flags.includes('fail') || state !== 'connected') continue;
    const serves = ranges.some((range) => {
      const [from, to = from] = range.split('-').map(Number);
      return slot >= from && slot <= to;
    });
    if (serves) return Number(address.split('@')[0].split(':')[1]);
  }
  return null;
}

async function waitFor(what: string, test: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    if (await test()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis cluster: ${what} did not happen in time`);
}

/** Started and ready (`cluster_state:ok` on every node). In CI missing tools fail; locally the suite is skipped. */
export async function ownRedisCluster(ctx: Mocha.Context, shape: ClusterShape = THREE_MASTERS): Promise<OwnRedisCluster> {
  if (!clusterToolsInstalled()) {
    const reason = 'redis-server / redis-cli are not installed (the Redis Cluster tests start their own cluster)';
    if (process.env.CI) throw new Error(`${reason} (CI requires them)`);
    console.warn(`      skipped: ${reason}`);
    ctx.skip();
  }
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  // A run that ends without cleanup (a before hook timed out, then mocha's --exit) must not leave nodes behind.
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  const cleanup = async (): Promise<void> => {
    process.removeListener('exit', killAll);
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    ports.push(...(await spareClusterPorts(3 * (1 + shape.replicas))));
    for (const port of ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)];
      const rest = ['--cluster-node-timeout', String(shape.nodeTimeoutMs), '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
      children.push(spawn('redis-server', [...args, ...rest], { stdio: 'ignore' }));
    }
    for (const port of ports) await waitFor(`node ${port} answering`, async () => (await clusterInfo(port)) !== '');
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', String(shape.replicas), '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) await waitFor(`cluster_state:ok on ${port}`, async () => /^cluster_state:ok\s*$/m.test(await clusterInfo(port)));
    // A replica that never synced with its master is not promoted (its data is too old): wait for the links.
    for (const port of ports) await waitFor(`replication on ${port}`, async () => /^(role:master|master_link_status:up)\s*$/m.test(await nodeInfo(port, 'replication')));
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    ports,
    url: `redis://127.0.0.1:${ports[0]}`,
    kill: async (port) => {
      const child = children[ports.indexOf(port)];
      if (child !== undefined) await stop(child);
    },
    cleanup,
  };
}

/** Where a suite parameterised over both runs: the shared standalone Redis, or a cluster of its own. */
export type RedisBackendKind = 'standalone' | 'cluster';
export const REDIS_BACKENDS: readonly RedisBackendKind[] = ['standalone', 'cluster'];

export interface RedisBackend extends TestRedis {
  readonly kind: RedisBackendKind;
  /** Tollgate's client to it, built as `tollgate serve` builds it (not yet connected). */
  client(commandTimeoutMs?: number): RedisClient;
}

/** A cluster's prefix holds a hash tag, as settings require there. */
export async function requireRedisBackend(ctx: Mocha.Context, kind: RedisBackendKind): Promise<RedisBackend> {
  if (kind === 'standalone') {
    const shared = await requireRedis(ctx);
    return { ...shared, kind, client: (commandTimeoutMs = 1000) => createRedisClient({ url: shared.url, commandTimeoutMs, onError: () => undefined }) };
  }
  const cluster = await ownRedisCluster(ctx);
  const prefix = `{tollgate-test-${randomBytes(6).toString('hex')}}:`;
  return {
    kind,
    url: cluster.url,
    prefix,
    cleanup: () => cluster.cleanup(),
    client: (commandTimeoutMs = 1000) => createRedisClient({ url: cluster.url, commandTimeoutMs, onError: () => undefined, clusterKeyPrefix: prefix }),
  };
}
