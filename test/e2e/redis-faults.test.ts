/**
 * Redis faults against a redis-server the test owns (its own port and directory, behind a proxy
 * the test controls; the machine's shared Redis is never touched). The database is the embedded
 * one: it is not the subject here (database faults: database-faults.test.ts, deadline.test.ts). Redis is an optimisation:
 * whatever it does — absent at startup, killed, restarted empty, hanging — Checks are decided
 * from the process cache and the database, the process stays up, and Redis is used again once
 * it is back.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createClient } from 'redis';
import { hashKey } from '../../src/auth/key-hash';
import { withAdminSession } from '../../src/cli/admin-session';
import { settingsFrom } from '../../src/config/settings';
import type { CheckResponse } from '../../src/envoy/messages';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { leakedSecrets } from '../support/leak-scan';
import { uniqueId } from '../support/litellm-rows';
import type { TempSqlite } from '../support/mysql';
import { ownRedis, type OwnRedis } from '../support/own-redis';
import { eventually, settle } from '../support/poll';
import { seededTempSqlite } from '../support/seeded-sqlite';
import { startServer, type ServerProcess } from '../support/server-process';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const MASTER_KEY = 'sk-master-redis-faults-0001';
/** Long enough that a hanging Redis command outlives the Envoy deadlines used below. */
const REDIS_TIMEOUT_MS = 3000;
const PREFIX = 'tollgate:';

/** Valid team keys, handed out one at a time so that each use is a cold lookup. */
const COLD_KEYS = Array.from({ length: 60 }, () => `sk-redis-${uniqueId('k')}`);
const BLOCK_ME = [`sk-block1-${uniqueId('k')}`, `sk-block2-${uniqueId('k')}`];
const BLOCKED = `sk-blocked-${uniqueId('k')}`;

describe('Redis faults (own redis-server behind a controlled proxy)', function () {
  this.timeout(60_000);
  let database: TempSqlite;
  let redis: OwnRedis;
  let proxy: TcpProxy;
  let config: TempConfig;
  let server: ServerProcess;
  let client: Checker;
  let next = 0;
  const coldKey = (): string => {
    const key = COLD_KEYS[next];
    next += 1;
    if (key === undefined) throw new Error('seed more cold keys');
    return key;
  };
  const check = (key: string, timeoutMs = 3000): Promise<CheckResponse> =>
    client.check(anEnvoyCheck({ key, body: chat('gpt-4o') }), timeoutMs);

  /** Keys Tollgate has written to its own Redis (read directly, not through the proxy). */
  async function sharedTierHas(rawKey: string): Promise<boolean> {
    const direct = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
    direct.on('error', () => undefined);
    try {
      await direct.connect();
      return (await direct.exists(`${PREFIX}key:${hashKey(rawKey)}`)) === 1;
    } catch {
      return false;
    } finally {
      if (direct.isOpen) direct.destroy();
    }
  }

  /** Polls with fresh cold keys until one lands in Redis: the server has reconnected and writes again. */
  async function redisUsedAgain(): Promise<boolean> {
    const landed = await eventually(
      async () => {
        const key = coldKey();
        expect(isAllowed(await check(key))).to.equal(true);
        return eventually(() => sharedTierHas(key), Boolean, { limitMs: 500, everyMs: 50 });
      },
      Boolean,
      { limitMs: 12_000, everyMs: 300 },
    );
    return landed;
  }

  /** What `tollgate key block` does (write, purge, bump, publish), in process: the CLI's startup is slow. */
  async function blockAsTheCliDoes(rawKey: string): Promise<void> {
    const settings = settingsFrom({}, { TOLLGATE_SQLITE_PATH: database.path, REDIS_URL: redis.url });
    await withAdminSession(settings, async (session) => {
      expect(await session.admin.setKeyBlocked(hashKey(rawKey), true)).to.not.equal(null);
      await session.invalidate('key', hashKey(rawKey));
    });
  }

  before(async function () {
    requireBuild();
    redis = await ownRedis(this);
    database = await seededTempSqlite(async (rows) => {
      const team = await rows.aTeam({ models: ['gpt-4o'] });
      for (const key of [...COLD_KEYS, ...BLOCK_ME]) await rows.aKey({ token: hashKey(key), team_id: team.team_id });
      await rows.aKey({ token: hashKey(BLOCKED), team_id: team.team_id, blocked: true });
    });
    // Redis is not started yet: the proxy forwards to a port where nothing listens.
    proxy = await startTcpProxy('127.0.0.1', redis.port);
    config = writeConfig(`tollgate:\n  redis_timeout_ms: ${REDIS_TIMEOUT_MS}\n`);
    server = await startServer({
      env: {
        TOLLGATE_SQLITE_PATH: database.path,
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        LITELLM_MASTER_KEY: MASTER_KEY,
        TOLLGATE_CONFIG: config.path,
        TOLLGATE_HTTP_ADDR: '127.0.0.1:0',
      },
    });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await proxy?.close();
    await redis?.cleanup();
    config?.cleanup();
    database?.cleanup();
    expect(code, 'clean shutdown').to.equal(0);
  });

  afterEach(function () {
    expect(server.child.exitCode, 'the server process is still running').to.equal(null);
    expect(leakedSecrets(server.output(), [...COLD_KEYS, ...BLOCK_ME, BLOCKED, MASTER_KEY])).to.deep.equal([]);
  });

  it('with Redis unreachable at startup: reports SERVING and decides from the process cache and the database', async () => {
    expect(await client.health()).to.equal('SERVING');
    const warm = coldKey();
    expect(isAllowed(await check(warm))).to.equal(true);
    expect(isAllowed(await check(warm))).to.equal(true);
    expect(denialOf(await check(BLOCKED)).message).to.match(/Key is blocked/);
    expect(denialOf(await check(`sk-unknown-${uniqueId('k')}`)).code).to.equal('401');
  });

  it('uses Redis once it comes up: the shared tier is written and a block reaches the server', async () => {
    await redis.start();
    expect(await redisUsedAgain(), 'a cold lookup was written to Redis').to.equal(true);
    const target = BLOCK_ME[0] as string;
    expect(isAllowed(await check(target))).to.equal(true);
    await blockAsTheCliDoes(target);
    const after = await eventually(() => check(target), (r) => !isAllowed(r), { limitMs: 5000 });
    expect(denialOf(after).message).to.match(/Key is blocked/);
  });

  it('when Redis is killed: keeps deciding warm and cold keys without errors', async () => {
    const warm = coldKey();
    expect(isAllowed(await check(warm))).to.equal(true);
    await redis.kill();
    expect(isAllowed(await check(warm))).to.equal(true);
    for (let i = 0; i < 5; i += 1) expect(isAllowed(await check(coldKey()))).to.equal(true);
    expect(denialOf(await check(BLOCKED)).message).to.match(/Key is blocked/);
    expect(await client.health()).to.equal('SERVING');
  });

  it('when Redis restarts empty: reconnects, writes the shared tier again, and invalidations arrive', async () => {
    await redis.start();
    expect(await redisUsedAgain()).to.equal(true);
    const target = BLOCK_ME[1] as string;
    expect(isAllowed(await check(target))).to.equal(true);
    await blockAsTheCliDoes(target);
    const after = await eventually(() => check(target), (r) => !isAllowed(r), { limitMs: 5000 });
    expect(denialOf(after).message).to.match(/Key is blocked/);
  });

  it('when Redis hangs: warm keys answer at once and cold keys are decided from the database within Envoy deadlines shorter than the Redis timeout', async () => {
    const warm = coldKey();
    expect(isAllowed(await check(warm))).to.equal(true);
    proxy.stall();
    expect(isAllowed(await check(warm, REDIS_TIMEOUT_MS / 2))).to.equal(true);
    // The first cold lookups wait on Redis until its timeout (longer than this deadline: cannot decide);
    // after a Redis failure Tollgate skips Redis for a while, so cold keys are decided from the database.
    const deadlineMs = REDIS_TIMEOUT_MS / 2;
    const outcome = await eventually(
      () => settle(check(coldKey(), deadlineMs)),
      (result) => 'value' in result,
      { limitMs: 20_000, everyMs: 50 },
    );
    if ('error' in outcome) throw new Error(`cold keys never decided during a Redis hang: ${outcome.error.message}`);
    expect(isAllowed(outcome.value)).to.equal(true);
  });

  it('after the hang: cold keys are never refused with an error, and Redis is used again', async () => {
    proxy.heal();
    const answer = await settle(check(coldKey()));
    if ('error' in answer) expect(answer.error.code).to.not.equal(GrpcStatus.INTERNAL);
    expect(await redisUsedAgain()).to.equal(true);
  });
});
