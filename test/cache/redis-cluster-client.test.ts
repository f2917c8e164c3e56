/**
 * Tollgate's client to a Redis Cluster, against a real three-master cluster the test starts: every
 * command goes to the master of the prefix's hash-tag slot, the shared cache tier and the
 * invalidation bus work as on a standalone Redis, and a cluster that cannot be reached is an
 * outage (commands fail at once, connecting goes on) rather than a crash.
 */
import { once } from 'node:events';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { expect } from 'chai';
import { createClient } from 'redis';
import { hashTagOf, keySlot } from '../../src/cache/hash-tag';
import { invalidationChannel } from '../../src/cache/invalidation';
import { LuaScript } from '../../src/cache/lua-script';
import { RedisMessageBus } from '../../src/cache/redis-bus';
import { explainedClusterError, RedisClusterClient } from '../../src/cache/redis-cluster-client';
import { reconnectDelayMs, RedisSharedCache, type RedisClient } from '../../src/cache/redis-shared-cache';
import { isPurgeMarker } from '../../src/cache/shared-cache';
import { closeRedis } from '../../src/server/runtime';
import { ownRedis, sparePort } from '../support/own-redis';
import { eventually } from '../support/poll';
import { masterOfSlot, ownRedisCluster, type OwnRedisCluster } from '../support/redis-cluster';

const CONNECTION = { disableOfflineQueue: true, commandsQueueMaxLength: 1000, socket: { connectTimeout: 1000, reconnectStrategy: reconnectDelayMs } };

describe('cache: hash tags and slots', () => {
  it("reads the hash tag as Redis does: between the first '{' and the first '}' after it, when not empty", () => {
    expect(hashTagOf('{tollgate}:spend:c:key:x')).to.equal('tollgate');
    expect(hashTagOf('gw-{eu}:x{y}')).to.equal('eu');
    expect(hashTagOf('tollgate:x')).to.equal(null);
    expect(hashTagOf('{}:{tollgate}')).to.equal(null);
    expect(hashTagOf('}{x')).to.equal(null);
  });
});

describe('cache: Redis Cluster client', function () {
  this.timeout(60_000);
  let cluster: OwnRedisCluster;
  const prefix = '{tollgate-test}:';
  const clients: RedisClient[] = [];
  const open = async (): Promise<RedisClient> => {
    const client = new RedisClusterClient({ url: cluster.url, keyPrefix: prefix, connection: CONNECTION });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };

  before(async function () {
    cluster = await ownRedisCluster(this);
  });

  after(async () => {
    for (const client of clients) if (client.isOpen) client.destroy();
    await cluster?.cleanup();
  });

  it('computes the slot Redis computes (CLUSTER KEYSLOT), hash tag or not', async () => {
    const node = createClient({ url: cluster.url });
    node.on('error', () => undefined);
    await node.connect();
    try {
      for (const key of ['{tollgate}:', '{tollgate}:spend:c:team:t1', 'tollgate:x', 'gw-{é}:y', 'a']) {
        expect(keySlot(key), key).to.equal(await node.sendCommand<number>(['CLUSTER', 'KEYSLOT', key]));
      }
    } finally {
      node.destroy();
    }
  });

  it("is ready once connected through one node's URL, and sends every command to the master of the prefix's slot", async () => {
    const client = await open();
    expect(client.isReady).to.equal(true);
    await client.set(`${prefix}a`, '1', { expiration: { type: 'PX', value: 60_000 } });
    expect(await client.get(`${prefix}a`)).to.equal('1');
    expect(await client.mGet([`${prefix}a`, `${prefix}b`])).to.deep.equal(['1', null]);
    // A keyless command lands on the same master: its keyspace holds the key just written.
    expect(await client.sendCommand(['EXISTS', `${prefix}a`])).to.equal(1);
    expect(await client.info('keyspace')).to.match(/keys=\d+/);
  });

  it('runs the shared cache tier: a conditional write, a read, a purge', async () => {
    const cache = new RedisSharedCache(await open(), 1000);
    const key = `${prefix}key:k1`;
    expect(await cache.setIfUnchanged(key, null, 'v1', 60_000)).to.equal(true);
    expect(await cache.setIfUnchanged(key, null, 'v2', 60_000), 'someone wrote it meanwhile').to.equal(false);
    expect(await cache.setIfUnchanged(key, 'v1', 'v2', 60_000)).to.equal(true);
    expect(await cache.get(key)).to.equal('v2');
    await cache.purge([key], 60_000);
    expect(isPurgeMarker((await cache.get(key)) ?? '')).to.equal(true);
  });

  it('carries invalidations from one client to another through pub/sub (subscribed from a client of its own)', async () => {
    const channel = invalidationChannel(prefix);
    const publisher = new RedisMessageBus(await open(), channel, 1000);
    const listener = new RedisMessageBus(await open(), channel, 1000);
    const heard: string[] = [];
    await listener.subscribe((message) => heard.push(message));
    try {
      const message = JSON.stringify({ kind: 'key', id: 'k1', generation: 7 });
      const received = await eventually(
        async () => {
          await publisher.publish(message);
          return heard;
        },
        (messages) => messages.length > 0,
        { limitMs: 5_000, everyMs: 100 },
      );
      expect(received[0]).to.equal(message);
    } finally {
      await listener.unsubscribe();
    }
  });

  it('treats a cluster it cannot reach as an outage: not ready, commands refused at once, connecting retried until closed', async () => {
    const client = new RedisClusterClient({ url: `redis://127.0.0.1:${await sparePort()}`, keyPrefix: prefix, connection: CONNECTION });
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    const connecting = client.connect();
    const outcome = connecting.then(
      () => 'connected',
      () => 'gave up',
    );
    await eventually(() => Promise.resolve(errors.length), (n) => n >= 2, { limitMs: 5_000, everyMs: 20 });
    expect(client.isReady).to.equal(false);
    const started = Date.now();
    await client.get(`${prefix}a`).then(
      () => expect.fail('answered without a cluster'),
      () => undefined,
    );
    expect(Date.now() - started).to.be.below(100);
    client.destroy();
    expect(await outcome).to.equal('gave up');
  });

  it('counts as open while it keeps trying to reach the cluster, so that closing it then (closeRedis) ends the trying, the subscriber\'s too', async () => {
    const port = await sparePort();
    const client = new RedisClusterClient({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, connection: CONNECTION });
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    const outcome = client.connect().then(
      () => 'connected',
      () => 'gave up',
    );
    const bus = new RedisMessageBus(client, invalidationChannel(prefix), 200);
    await bus.subscribe(() => undefined).catch(() => undefined); // nothing answers: it goes on in the background
    await eventually(() => Promise.resolve(errors.length), (n) => n >= 2, { limitMs: 5_000, everyMs: 20 });
    expect(client.isOpen, 'open while reconnecting, as a standalone client is').to.equal(true);
    await closeRedis({ client, bus });
    expect(client.isOpen).to.equal(false);
    expect(await outcome).to.equal('gave up');
    // Had either client gone on trying, it would knock within its longest back-off (2 s).
    const server = createServer((socket) => socket.destroy());
    let knocks = 0;
    server.on('connection', () => (knocks += 1));
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    try {
      await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(Infinity) + 500));
    } finally {
      server.close();
    }
    expect(knocks, 'connection attempts after closeRedis').to.equal(0);
  });
});

describe('cache: Redis Cluster client through a failover', function () {
  this.timeout(90_000);
  let cluster: OwnRedisCluster;
  const prefix = '{tollgate-test}:';

  before(async function () {
    cluster = await ownRedisCluster(this, { replicas: 1, nodeTimeoutMs: 1000 });
  });

  after(async () => {
    await cluster?.cleanup();
  });

  it("is back on the promoted replica soon after the cluster promotes it, the master of Tollgate's slot having crashed, and runs the scripts it had cached there", async () => {
    const client = new RedisClusterClient({ url: cluster.url, keyPrefix: prefix, connection: CONNECTION });
    client.on('error', () => undefined);
    await client.connect();
    let evals = 0;
    const evalOf = client.eval.bind(client);
    client.eval = (script, options) => {
      evals += 1;
      return evalOf(script, options);
    };
    const script = new LuaScript('count', "return redis.call('INCR', KEYS[1])");
    try {
      await client.set(`${prefix}a`, '1', { expiration: { type: 'PX', value: 60_000 } });
      await script.run(client, [`${prefix}n`], [], 1000);
      await script.run(client, [`${prefix}n`], [], 1000);
      expect(evals, 'cached on the master by its first EVAL').to.equal(1);
      const slot = keySlot(prefix);
      const master = await masterOfSlot(cluster.ports[0], slot);
      if (master === null) throw new Error('no master serves the slot');
      const survivor = cluster.ports.find((port) => port !== master) ?? 0;
      await cluster.kill(master);
      await eventually(() => Promise.resolve(client.isReady), (ready) => !ready, { limitMs: 5_000, everyMs: 20 });
      const promoted = await eventually(() => masterOfSlot(survivor, slot), (port) => port !== null && port !== master, { limitMs: 30_000, everyMs: 50 });
      expect(promoted).to.not.equal(null);
      const since = Date.now();
      const answered = await eventually(
        () => client.get(`${prefix}b`).then(() => true, () => false),
        Boolean,
        { limitMs: 10_000, everyMs: 50 },
      );
      expect(answered, 'commands answered again').to.equal(true);
      expect(client.isReady).to.equal(true);
      expect(Date.now() - since, 'found within a reconnection interval of the promotion').to.be.below(3_000);
      // The promoted replica's script cache is empty (scripts replicate as their effects): NOSCRIPT, then EVAL.
      expect(await script.run(client, [`${prefix}n`], [], 1000)).to.be.a('number');
      expect(evals, 'sent again with EVAL').to.equal(2);
    } finally {
      client.destroy();
    }
  });
});

describe('cache: Redis Cluster invalidations through the crash of the node the subscriber listens on', function () {
  this.timeout(90_000);
  let cluster: OwnRedisCluster;
  const prefix = '{tollgate-test}:';
  const channel = invalidationChannel(prefix);

  before(async function () {
    cluster = await ownRedisCluster(this, { replicas: 1, nodeTimeoutMs: 1000 });
  });

  after(async () => {
    await cluster?.cleanup();
  });

  /** Subscribers to the channel on one node: classic pub/sub is counted where the subscription was made. */
  const subscribersOn = async (port: number): Promise<number> => {
    const node = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    node.on('error', () => undefined);
    try {
      await node.connect();
      const reply = await node.sendCommand<unknown[]>(['PUBSUB', 'NUMSUB', channel]);
      return Number(reply[1]);
    } catch {
      return 0;
    } finally {
      if (node.isOpen) node.destroy();
    }
  };

  it('subscribes again on another node once the cluster replaces the crashed one, and hears what is published', async () => {
    const client = new RedisClusterClient({ url: cluster.url, keyPrefix: prefix, connection: CONNECTION });
    client.on('error', () => undefined);
    await client.connect();
    const bus = new RedisMessageBus(client, channel, 1000);
    const heard: string[] = [];
    await bus.subscribe((message) => heard.push(message));
    try {
      const counts = await Promise.all(cluster.ports.map(subscribersOn));
      const listenedOn = cluster.ports[counts.indexOf(1)];
      expect(counts.filter((n) => n === 1), 'one subscription, on one node').to.have.length(1);
      await cluster.kill(listenedOn);
      const survivors = cluster.ports.filter((port) => port !== listenedOn);
      const moved = await eventually(async () => (await Promise.all(survivors.map(subscribersOn))).some((n) => n === 1), Boolean, {
        limitMs: 30_000,
        everyMs: 100,
      });
      expect(moved, 'subscribed again on a live node').to.equal(true);
      const received = await eventually(
        async () => {
          await bus.publish('after the crash').catch(() => undefined);
          return heard;
        },
        (messages) => messages.length > 0,
        { limitMs: 10_000, everyMs: 100 },
      );
      expect(received).to.include('after the crash');
    } finally {
      await bus.unsubscribe();
      client.destroy();
    }
  });
});

describe('cache: a Redis Cluster that comes back at other addresses', function () {
  this.timeout(90_000);
  const prefix = '{tollgate-test}:';
  const clusters: OwnRedisCluster[] = [];
  const sockets = new Set<Socket>();
  /** REDIS_URL's node: a name (a configuration endpoint, a Service) that leads wherever `target` says. */
  let target = 0;
  const entry = createServer((socket) => {
    const upstream = connectTcp(target, '127.0.0.1');
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.on('error', () => undefined).on('close', () => {
        sockets.delete(end);
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });

  before(async () => {
    entry.listen(0, '127.0.0.1');
    await once(entry, 'listening');
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    entry.close();
    for (const cluster of clusters) await cluster.cleanup();
  });

  it("asks REDIS_URL's node again once no node it knew of answers, and so finds the cluster's new nodes", async function () {
    const first = await ownRedisCluster(this);
    clusters.push(first);
    target = first.ports[0];
    const address = entry.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const client = new RedisClusterClient({ url: `redis://127.0.0.1:${address.port}`, keyPrefix: prefix, connection: CONNECTION });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.set(`${prefix}a`, '1', { expiration: { type: 'PX', value: 60_000 } });
      // Every node replaced at once (all pods of a StatefulSet rescheduled): none of the old addresses answers.
      await first.cleanup();
      await eventually(() => Promise.resolve(client.isReady), (ready) => !ready, { limitMs: 5_000, everyMs: 20 });
      const second = await ownRedisCluster(this);
      clusters.push(second);
      target = second.ports[0];
      const since = Date.now();
      const answered = await eventually(
        () => client.get(`${prefix}a`).then(() => true, () => false),
        Boolean,
        { limitMs: 10_000, everyMs: 50 },
      );
      expect(answered, 'commands answered by the new nodes').to.equal(true);
      expect(client.isReady).to.equal(true);
      expect(Date.now() - since, 'within a reconnection interval or two').to.be.below(5_000);
    } finally {
      client.destroy();
    }
  });
});

describe('cache: Redis Cluster client pointed at a standalone Redis', function () {
  this.timeout(30_000);

  it('says which setting is wrong, not only that cluster support is disabled, and keeps retrying as for an outage', async function () {
    const standalone = await ownRedis(this);
    await standalone.start();
    const client = new RedisClusterClient({ url: standalone.url, keyPrefix: '{t}:', connection: CONNECTION });
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    try {
      void client.connect().catch(() => undefined);
      await eventually(() => Promise.resolve(errors.length), (n) => n >= 2, { limitMs: 10_000, everyMs: 20 });
      expect(client.isReady).to.equal(false);
      const message = String((errors[0] as Error).message);
      expect(message).to.match(/^REDIS_URL names a Redis that is not a cluster node, but tollgate\.redis_cluster \/ TOLLGATE_REDIS_CLUSTER is on/);
      expect(message).to.include('cluster support disabled');
    } finally {
      client.destroy();
      await standalone.cleanup();
    }
  });

  it('passes every other error on as it came', () => {
    const other = new Error('ECONNREFUSED');
    expect(explainedClusterError(other)).to.equal(other);
    expect(explainedClusterError('text')).to.equal('text');
  });
});
