/**
 * `tollgate serve` on a Redis Cluster (TOLLGATE_REDIS_CLUSTER=true, REDIS_URL naming one node of
 * a three-master cluster the test starts): keys are allowed, a key blocked through the CLI is
 * refused as soon as the invalidation message arrives (not by the generation poll), rate limits
 * are enforced, and every key Tollgate wrote is in the one slot of the `{tollgate}:` prefix.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createClient } from 'redis';
import { hashKey } from '../../src/auth/key-hash';
import { keySlot } from '../../src/cache/hash-tag';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { uniqueId } from '../support/litellm-rows';
import type { TempSqlite } from '../support/mysql';
import { eventually } from '../support/poll';
import { ownRedisCluster, type OwnRedisCluster } from '../support/redis-cluster';
import { seededTempSqlite } from '../support/seeded-sqlite';
import { BIN, startServer, type ServerProcess } from '../support/server-process';

const run = promisify(execFile);
const MASTER_KEY = 'sk-master-redis-cluster-0002';
/** The generation poll's interval (serve.ts): a block seen sooner came through pub/sub. */
const POLL_MS = 1_000;

describe('tollgate serve on a Redis Cluster (tollgate.redis_cluster)', function () {
  this.timeout(90_000);
  const KEY = `sk-cluster-${uniqueId('k')}`;
  const LIMITED = `sk-cluster-rpm-${uniqueId('k')}`;
  let database: TempSqlite;
  let cluster: OwnRedisCluster;
  let server: ServerProcess;
  let client: Checker;
  let env: Record<string, string>;

  before(async function () {
    requireBuild();
    cluster = await ownRedisCluster(this);
    database = await seededTempSqlite(async (rows) => {
      const team = await rows.aTeam({ models: ['gpt-4o'] });
      await rows.aKey({ token: hashKey(KEY), team_id: team.team_id });
      await rows.aKey({ token: hashKey(LIMITED), team_id: team.team_id, rpm_limit: 2 });
    });
    env = { TOLLGATE_SQLITE_PATH: database.path, REDIS_URL: cluster.url, TOLLGATE_REDIS_CLUSTER: 'true' };
    server = await startServer({ env: { ...env, LITELLM_MASTER_KEY: MASTER_KEY, TOLLGATE_HTTP_ADDR: '127.0.0.1:0' } });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await cluster?.cleanup();
    database?.cleanup();
    expect(code, 'clean shutdown').to.equal(0);
  });

  const decide = async (key: string): Promise<string> => {
    const response = await client.check(anEnvoyCheck({ key, body: chat('gpt-4o') }));
    return isAllowed(response) ? 'allowed' : denialOf(response).code;
  };

  it('enforces a key rpm limit through the cluster (429 past it)', async () => {
    // Rate windows are per minute: start at the top of one if this one is about to end.
    if (Date.now() % 60_000 > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 100));
    expect([await decide(LIMITED), await decide(LIMITED), await decide(LIMITED)]).to.deep.equal(['allowed', 'allowed', '429']);
  });

  it('refuses a key blocked through the CLI as soon as the invalidation is published, before the generation poll could', async () => {
    expect(await decide(KEY)).to.equal('allowed');
    const { stderr } = await run(process.execPath, [BIN, 'key', 'block', KEY], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 });
    expect(stderr, 'the CLI used the cluster: no warning').to.equal('');
    const refused = await eventually(() => decide(KEY), (code) => code === '401', { limitMs: 5_000, everyMs: 50 });
    expect(refused).to.equal('401');
    // Had the message been lost, the poll would have cleared the cache ("counter_moved") by now.
    await new Promise((resolve) => setTimeout(resolve, 2 * POLL_MS));
    const cleared = server.logs.filter((line) => line.msg === 'cache cleared by invalidation');
    expect(cleared, 'the block came through pub/sub').to.deep.equal([]);
    expect(server.output()).not.to.include('redis unavailable').and.not.include('Redis Cluster node');
  });

  it("keeps every key it wrote in the one slot of the '{tollgate}:' prefix", async () => {
    const slot = keySlot('{tollgate}:');
    let inSlot = 0;
    let total = 0;
    for (const port of cluster.ports) {
      const node = createClient({ url: `redis://127.0.0.1:${port}` });
      node.on('error', () => undefined);
      await node.connect();
      try {
        total += await node.dbSize();
        inSlot += Number(await node.sendCommand(['CLUSTER', 'COUNTKEYSINSLOT', String(slot)]));
      } finally {
        node.destroy();
      }
    }
    expect(inSlot, 'rate windows and cached entities').to.be.greaterThan(0);
    expect(total).to.equal(inSlot);
  });
});
