/**
 * Deadlines against a slow, hung and restarted MariaDB (behind a proxy the test controls; the
 * shared server is never touched). Every database call is bounded by tollgate.db_timeout_ms and
 * every answer comes before the deadline Envoy sent: a Check that cannot be decided in time gets
 * UNAVAILABLE (the client would otherwise report DEADLINE_EXCEEDED), never a late or wrong answer.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { withAdminSession } from '../../src/cli/admin-session';
import { settingsFrom } from '../../src/config/settings';
import type { CheckResponse } from '../../src/envoy/messages';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { leakedSecrets } from '../support/leak-scan';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { eventually, settle } from '../support/poll';
import { startServer, type ServerProcess } from '../support/server-process';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const MASTER_KEY = 'sk-master-deadline-0001';
/** Generous, so that a loaded machine still sends a burst well within one timeout. */
const DB_TIMEOUT_MS = 2500;
/** Added to every reply from the database while "slow". */
const DB_LATENCY_MS = 600;
/** Shorter than one slow database reply. */
const SHORT_DEADLINE_MS = DB_LATENCY_MS / 2;
const WARM = `sk-warm-${uniqueId('k')}`;
const COLD = Array.from({ length: 12 }, () => `sk-cold-${uniqueId('k')}`);
const MAX_IN_FLIGHT = 4;
/** Distinct cold keys sent at once while the database hangs, each holding its slot until the DB timeout. */
const BURST = Array.from({ length: 12 }, () => `sk-burst-${uniqueId('k')}`);

function expectUnavailable(result: Awaited<ReturnType<typeof settle<CheckResponse>>>, details: RegExp): void {
  if ('value' in result) throw new Error(`expected UNAVAILABLE, got a CheckResponse (allowed: ${isAllowed(result.value)})`);
  const error = result.error as ServiceError;
  expect(error.code, error.message).to.equal(GrpcStatus.UNAVAILABLE);
  expect(error.details).to.match(details);
}

describe('deadlines and overload: slow, hung and restarted database (MariaDB behind a controlled proxy)', function () {
  this.timeout(60_000);
  let database: TestMysqlDatabase;
  let proxy: TcpProxy;
  let config: TempConfig;
  let server: ServerProcess;
  let client: Checker;
  const check = (key: string, timeoutMs: number): Promise<CheckResponse> =>
    client.check(anEnvoyCheck({ key, body: chat('gpt-4o') }), timeoutMs);
  let cold = 0;
  const coldKey = (): string => {
    const key = COLD[cold];
    cold += 1;
    if (key === undefined) throw new Error('seed more cold keys');
    return key;
  };

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    const dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
      const rows = new LiteLlmRows(dataSource);
      const team = await rows.aTeam({ models: ['gpt-4o'] });
      for (const key of [WARM, ...COLD, ...BURST]) await rows.aKey({ token: hashKey(key), team_id: team.team_id });
    } finally {
      await dataSource.destroy();
    }
    const url = new URL(database.url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 3306));
    url.host = `127.0.0.1:${proxy.port}`;
    config = writeConfig(`tollgate:\n  db_timeout_ms: ${DB_TIMEOUT_MS}\n  max_in_flight: ${MAX_IN_FLIGHT}\n`);
    server = await startServer({
      env: {
        DATABASE_URL: url.toString(),
        LITELLM_MASTER_KEY: MASTER_KEY,
        TOLLGATE_CONFIG: config.path,
        TOLLGATE_HTTP_ADDR: '127.0.0.1:0',
      },
    });
    client = connect(server.address);
    expect(isAllowed(await check(WARM, 5000))).to.equal(true);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await proxy?.close();
    config?.cleanup();
    await database?.drop();
    expect(code, 'clean shutdown').to.equal(0);
  });

  afterEach(() => {
    expect(server.child.exitCode, 'the server process is still running').to.equal(null);
    expect(leakedSecrets(server.output(), [WARM, ...COLD, ...BURST, MASTER_KEY])).to.deep.equal([]);
  });

  it('slow database, deadline with room: a cold key is decided (allowed), just later', async () => {
    proxy.slow(DB_LATENCY_MS);
    expect(isAllowed(await check(coldKey(), 5000))).to.equal(true);
  });

  it('Envoy deadline shorter than a database call: UNAVAILABLE before the deadline, and the late result still warms the cache', async () => {
    // DEADLINE_EXCEEDED would mean Tollgate answered after the deadline (or not at all). A starved
    // test machine can make that happen once; five fresh cold keys in a row cannot all be unlucky.
    let key = coldKey();
    let answer = await settle(check(key, SHORT_DEADLINE_MS));
    for (let attempt = 1; attempt < 5 && 'error' in answer && answer.error.code === GrpcStatus.DEADLINE_EXCEEDED; attempt += 1) {
      key = coldKey();
      answer = await settle(check(key, SHORT_DEADLINE_MS));
    }
    expectUnavailable(answer, /deadline/);
    const later = await eventually(() => settle(check(key, SHORT_DEADLINE_MS)), (r) => 'value' in r, { limitMs: 10_000 });
    if (!('value' in later)) throw later.error;
    expect(isAllowed(later.value)).to.equal(true);
  });

  it('hung database: a cold key gets UNAVAILABLE at tollgate.db_timeout_ms, well before a longer Envoy deadline', async () => {
    proxy.stall();
    // The details tell the two bounds apart: the database timeout fired, not the 10 s deadline.
    expectUnavailable(await settle(check(coldKey(), 10_000)), /store unavailable/);
  });

  it('hung database: a warm key is still answered from memory within a short deadline', async () => {
    // Far shorter than the database timeout: the answer cannot have waited on the hung database.
    expect(isAllowed(await check(WARM, DB_TIMEOUT_MS / 2))).to.equal(true);
  });

  it('overload while the database hangs: Checks beyond tollgate.max_in_flight get UNAVAILABLE at once, not a queue', async () => {
    const answers = await Promise.all(BURST.map((key) => settle(check(key, 10_000))));
    const details = answers.map((a) => ('error' in a ? String(a.error.details) : 'a CheckResponse'));
    const overloaded = details.filter((d) => /overloaded/.test(d)).length;
    const timedOut = details.filter((d) => /store unavailable/.test(d)).length;
    expect(overloaded + timedOut, details.join('; ')).to.equal(BURST.length);
    expect(timedOut, 'at most max_in_flight Checks waited on the database').to.be.at.most(MAX_IN_FLIGHT);
    expect(overloaded).to.be.at.least(BURST.length - MAX_IN_FLIGHT);
    // Slots come back as the database calls time out: a warm key is served again.
    const warm = await eventually(() => settle(check(WARM, 1000)), (r) => 'value' in r, { limitMs: 5000 });
    expect('value' in warm && isAllowed(warm.value)).to.equal(true);
    expect(await client.health()).to.equal('SERVING');
  });

  it('restarted database (connections reset): recovers by itself, and a block written meanwhile takes effect', async () => {
    proxy.cut();
    expect(isAllowed(await check(WARM, 1000)), 'stale entry served while the database is away').to.equal(true);
    expectUnavailable(await settle(check(coldKey(), 5000)), /store unavailable/);
    // An operator blocks the warm key directly in the database while Tollgate cannot reach it.
    const direct = settingsFrom({}, { DATABASE_URL: database.url });
    await withAdminSession(direct, async (session) => {
      await session.admin.setKeyBlocked(hashKey(WARM), true);
      await session.invalidate('key', hashKey(WARM));
    });
    proxy.heal();
    const denied = await eventually(() => settle(check(WARM, 1000)), (r) => 'value' in r && !isAllowed(r.value), {
      limitMs: 15_000,
      everyMs: 200,
    });
    if (!('value' in denied)) throw denied.error;
    expect(denialOf(denied.value).message).to.match(/Key is blocked/);
    expect(isAllowed(await check(coldKey(), 5000)), 'cold keys are looked up again').to.equal(true);
  });
});
