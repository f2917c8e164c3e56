/**
 * Cache coherence across replicas (field-notes §3): a key blocked through the CLI is refused by
 * every running `tollgate serve` process — the one that hears the pub/sub message, one that never
 * hears it (another channel), and one whose Redis is gone altogether (both caught by the
 * database generation poll). docs/performance.md states the bounds; these tests check the
 * behaviour with a generous limit and never fail on timing alone.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';
import { BIN, startServer, type ServerProcess } from '../support/server-process';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const run = promisify(execFile);
const MASTER_KEY = 'sk-master-replicas';
const KEY = `sk-replicas-${uniqueId('k')}`;
/** Far above the documented bounds (1 s with pub/sub lost, ~5 s with a split shared tier). */
const LIMIT_MS = 30_000;

interface Replica {
  readonly server: ServerProcess;
  readonly client: Checker;
}

describe('replicas: a key blocked through the CLI is refused everywhere', function () {
  this.timeout(90_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let otherRedis: TestRedis;
  let proxy: TcpProxy;
  let env: Record<string, string>;
  let first: Replica;
  let second: Replica;
  let deaf: Replica;
  let isolated: Replica;

  async function replica(overrides: Record<string, string>): Promise<Replica> {
    const server = await startServer({ env: { ...env, ...overrides } });
    return { server, client: connect(server.address) };
  }

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    redis = await requireRedis(this);
    otherRedis = await requireRedis(this);
    const dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'] });
    await rows.aKey({ token: hashKey(KEY), team_id: team.team_id });
    await dataSource.destroy();

    env = { DATABASE_URL: database.url, REDIS_URL: redis.url, TOLLGATE_REDIS_PREFIX: redis.prefix, LITELLM_MASTER_KEY: MASTER_KEY };
    const redisUrl = new URL(redis.url);
    proxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    [first, second, deaf, isolated] = await Promise.all([
      replica({}),
      replica({}),
      // Another prefix is another channel: this replica never hears the block announced.
      replica({ TOLLGATE_REDIS_PREFIX: otherRedis.prefix }),
      replica({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` }),
    ]);
    for (const { client } of [first, second, deaf, isolated]) {
      expect(isAllowed(await client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') })))).to.equal(true);
    }
    proxy.cut(); // the isolated replica loses Redis entirely: no shared tier, no pub/sub

    await run(process.execPath, [BIN, 'key', 'block', KEY], { env: { PATH: process.env.PATH ?? '', ...env } });
  });

  after(async () => {
    const codes: Array<number | null> = [];
    for (const r of [first, second, deaf, isolated]) {
      r?.client.close();
      if (r !== undefined) codes.push(await r.server.stop());
    }
    await proxy?.close();
    await database?.drop();
    await redis?.cleanup();
    await otherRedis?.cleanup();
    expect(codes.every((code) => code === 0)).to.equal(true);
  });

  /** Polls until the replica refuses the key; returns the refusal (or null past the limit). */
  async function refusalFrom(r: Replica): Promise<ReturnType<typeof denialOf> | null> {
    const deadline = Date.now() + LIMIT_MS;
    while (Date.now() < deadline) {
      const response = await r.client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') })).catch(() => null);
      if (response !== null && !isAllowed(response)) return denialOf(response);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return null;
  }

  it('is refused by the replica the CLI shares Redis with', async () => {
    expect((await refusalFrom(first))?.message).to.match(/Key is blocked/);
  });

  it('is refused by a second serve process that hears the invalidation message', async () => {
    expect((await refusalFrom(second))?.message).to.match(/Key is blocked/);
  });

  it('is refused by a replica that never hears the message, once its generation poll sees the bump', async () => {
    expect((await refusalFrom(deaf))?.message).to.match(/Key is blocked/);
    const cleared = deaf.server.logs.filter((line) => line.msg === 'cache cleared by invalidation');
    expect(cleared.map((line) => line.reason)).to.include('counter_moved');
  });

  it('is refused by a replica whose Redis is unreachable, through the database generation poll', async () => {
    expect((await refusalFrom(isolated))?.message).to.match(/Key is blocked/);
    const cleared = isolated.server.logs.filter((line) => line.msg === 'cache cleared by invalidation');
    expect(cleared.map((line) => line.reason)).to.include('counter_moved');
  });
});
