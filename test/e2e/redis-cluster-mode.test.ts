/**
 * A REDIS_URL naming a Redis Cluster node: Tollgate's multi-key scripts cannot run there, so the
 * server says so once and runs as it does without Redis, deciding from the process cache and the
 * database, instead of half-working (cache reads answered, every admission script refused).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createClient } from 'redis';
import { hashKey } from '../../src/auth/key-hash';
import { isClusterInfo, refuseClusterNodes } from '../../src/cache/redis-mode';
import { createRedisClient } from '../../src/cache/redis-shared-cache';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { uniqueId } from '../support/litellm-rows';
import type { TempSqlite } from '../support/mysql';
import { ownRedis, type OwnRedis } from '../support/own-redis';
import { eventually } from '../support/poll';
import { requireRedis, type TestRedis } from '../support/redis';
import { seededTempSqlite } from '../support/seeded-sqlite';
import { BIN, startServer, type ServerProcess } from '../support/server-process';

const CLUSTER_ARGS = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];

describe('Redis: a cluster-mode node is refused, not half-used', function () {
  this.timeout(60_000);

  it('reads cluster_enabled from INFO cluster', () => {
    expect(isClusterInfo('# Cluster\r\ncluster_enabled:1\r\n')).to.equal(true);
    expect(isClusterInfo('# Cluster\r\ncluster_enabled:0\r\n')).to.equal(false);
    expect(isClusterInfo('')).to.equal(false);
  });

  it('keeps a client to a standalone Redis open', async function () {
    const shared: TestRedis = await requireRedis(this);
    const client = createRedisClient({ url: shared.url, commandTimeoutMs: 1000, onError: () => undefined });
    let refused = false;
    refuseClusterNodes(client, 1000, () => (refused = true));
    try {
      await client.connect();
      await client.info('cluster'); // answered after the check's own INFO
      expect(refused).to.equal(false);
      expect(client.isReady).to.equal(true);
    } finally {
      if (client.isOpen) client.destroy();
      await shared.cleanup();
    }
  });

  describe('tollgate serve pointed at a cluster node', () => {
    const MASTER_KEY = 'sk-master-redis-cluster-0001';
    const KEY = `sk-cluster-${uniqueId('k')}`;
    const BLOCKED = `sk-cluster-blocked-${uniqueId('k')}`;
    let database: TempSqlite;
    let redis: OwnRedis;
    let server: ServerProcess;
    let client: Checker;

    before(async function () {
      requireBuild();
      redis = await ownRedis(this, CLUSTER_ARGS);
      await redis.start();
      database = await seededTempSqlite(async (rows) => {
        const team = await rows.aTeam({ models: ['gpt-4o'] });
        await rows.aKey({ token: hashKey(KEY), team_id: team.team_id });
        await rows.aKey({ token: hashKey(BLOCKED), team_id: team.team_id, blocked: true });
      });
      server = await startServer({
        env: { TOLLGATE_SQLITE_PATH: database.path, REDIS_URL: redis.url, LITELLM_MASTER_KEY: MASTER_KEY, TOLLGATE_HTTP_ADDR: '127.0.0.1:0' },
      });
      client = connect(server.address);
    });

    after(async () => {
      client?.close();
      const code = await server?.stop();
      await redis?.cleanup();
      database?.cleanup();
      expect(code, 'clean shutdown').to.equal(0);
    });

    it('says once that the cluster node needs tollgate.redis_cluster, and closes its connections, the subscriber\'s included', async () => {
      const said = await eventually(() => Promise.resolve(server.output().includes('tollgate.redis_cluster')), Boolean, { limitMs: 10_000, everyMs: 50 });
      expect(said, server.output()).to.equal(true);
      expect(server.output().split('tollgate.redis_cluster (TOLLGATE_REDIS_CLUSTER) is not set').length - 1).to.equal(1);
      const direct = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
      direct.on('error', () => undefined);
      await direct.connect();
      try {
        // The server is SERVING, so its invalidation listener has started; a subscriber it made
        // would have connected within this pause. None of its connections may be left on the
        // node, this test's own aside.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const others = async (): Promise<string[]> => (await direct.clientList()).map((c) => c.cmd).filter((cmd) => cmd !== 'client|list');
        const left = await eventually(others, (cmds) => cmds.length === 0, { limitMs: 5_000, everyMs: 50 });
        expect(left).to.deep.equal([]);
      } finally {
        direct.destroy();
      }
    });

    it('the CLI writes to the database, says why it goes on without Redis, and the server sees the block', async () => {
      const run = promisify(execFile);
      const { stderr } = await run(process.execPath, [BIN, 'key', 'block', KEY], {
        env: { PATH: process.env.PATH ?? '', TOLLGATE_SQLITE_PATH: database.path, REDIS_URL: redis.url },
        timeout: 30_000,
      });
      expect(stderr).to.include('Redis Cluster node').and.include('TOLLGATE_REDIS_CLUSTER').and.not.include('could not be notified');
      const refused = await eventually(
        async () => {
          const response = await client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') }));
          return isAllowed(response) ? 'allowed' : denialOf(response).code;
        },
        (code) => code === '401',
        { limitMs: 5_000, everyMs: 100 },
      );
      expect(refused).to.equal('401');
      await run(process.execPath, [BIN, 'key', 'unblock', KEY], { env: { PATH: process.env.PATH ?? '', TOLLGATE_SQLITE_PATH: database.path, REDIS_URL: redis.url } });
      expect(await eventually(async () => isAllowed(await client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') }))), Boolean, { limitMs: 5_000, everyMs: 100 })).to.equal(true);
    });

    it('decides from the database as without Redis: a valid key allowed, a blocked key refused', async () => {
      expect(isAllowed(await client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') })))).to.equal(true);
      const denial = denialOf(await client.check(anEnvoyCheck({ key: BLOCKED, body: chat('gpt-4o') })));
      expect([denial.code, denial.type]).to.deep.equal(['401', 'auth_error']);
      expect(server.child.exitCode).to.equal(null);
    });
  });
});
