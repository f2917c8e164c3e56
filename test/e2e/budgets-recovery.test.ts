/**
 * A replica killed in the middle of a flush loses no spend and counts none twice: its queue
 * entries stay pending in the consumer group, another replica takes them over after
 * spend_claim_idle_ms and replays them, and the database write is idempotent per request id.
 * The pauses come from tollgate.spend_flush_drill, which exists for exactly this drill.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, isAllowed, metadataOf } from '../support/envoy-requests';
import { anOpenAiStream, anUpstreamExchange, connectExtProc } from '../support/ext-proc';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';
import { startServer, type ServerProcess } from '../support/server-process';
import {
  counterOf,
  openRedisClient,
  queuedEntries,
  spendColumn,
  spendLogCount,
  stopIfRunning,
  waitFor,
  type TestRedisClient,
} from '../support/spend';

const COST = 0.1;

function config(tollgate: string): TempConfig {
  return writeConfig(
    [
      'model_list:',
      '  - model_name: gpt-4o',
      '    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.00001, output_cost_per_token: 0.0001 }',
      'tollgate:',
      '  metering: true',
      '  spend_flush_interval_ms: 200',
      tollgate,
    ].join('\n'),
  );
}

describe('budgets end to end: a replica killed mid-flush', function () {
  this.timeout(90_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let dataSource: DataSource;
  let peek: TestRedisClient;
  const configs: TempConfig[] = [];
  const servers: ServerProcess[] = [];

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    redis = await requireRedis(this);
    dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 5000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    peek = await openRedisClient();
  });

  after(async () => {
    await Promise.all(servers.map(stopIfRunning));
    configs.forEach((c) => c.cleanup());
    if (peek?.isOpen) peek.destroy();
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
    await redis?.cleanup();
  });

  async function start(tollgate: string): Promise<ServerProcess> {
    const file = config(tollgate);
    configs.push(file);
    const server = await startServer({
      env: { DATABASE_URL: database.url, REDIS_URL: redis.url, TOLLGATE_REDIS_PREFIX: redis.prefix, TOLLGATE_CONFIG: file.path, LITELLM_MASTER_KEY: 'sk-master-recovery-0123' },
      startupTimeoutMs: 60_000,
    });
    servers.push(server);
    return server;
  }

  async function meterRequests(server: ServerProcess, key: string, count: number): Promise<void> {
    const checker = connect(server.address);
    const meter = connectExtProc(server.address);
    try {
      for (let i = 0; i < count; i += 1) {
        const requestId = uniqueId('req');
        const check = await checker.check(anEnvoyCheck({ key, body: chat('gpt-4o'), headers: { 'x-request-id': requestId } }));
        expect(isAllowed(check)).to.equal(true);
        await meter.exchange(anUpstreamExchange({ requestId, chunks: anOpenAiStream({ prompt: 1000, completion: 900 }, 5), authzMetadata: metadataOf(check) }));
      }
    } finally {
      checker.close();
      meter.close();
    }
  }

  /** SIGKILL: no shutdown, no final flush, exactly a crash. */
  async function crash(server: ServerProcess): Promise<void> {
    servers.splice(servers.indexOf(server), 1);
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGKILL');
    await exited;
  }

  function waitForLog(server: ServerProcess, message: string): Promise<unknown> {
    return waitFor(`"${message}" in the log`, async () => server.logs.some((line) => line.msg === message), (seen) => seen);
  }

  it('after the commit and before the acknowledgement, or before the commit: nothing lost, nothing counted twice', async () => {
    const raw = `sk-crash-${uniqueId('k')}`;
    await new LiteLlmRows(dataSource).aKey({ token: hashKey(raw), max_budget: 1000 });
    const target = { kind: 'key' as const, id: hashKey(raw) };

    // Replica A commits its first batch, then is killed before acknowledging it.
    const a = await start('  spend_flush_drill: { pause_before_ack_ms: 60000 }');
    await meterRequests(a, raw, 6);
    await waitForLog(a, 'spend batch committed');
    await crash(a);
    const committed = await spendLogCount(dataSource);
    expect(committed, 'rows committed by the killed replica').to.be.greaterThan(0);

    // Replica C reads a batch, then is killed before committing it (it never takes over others' entries).
    const c = await start('  spend_claim_idle_ms: 600000\n  spend_flush_drill: { pause_before_commit_ms: 60000 }');
    await meterRequests(c, raw, 4);
    await waitForLog(c, 'spend batch read');
    await crash(c);
    expect(await queuedEntries(peek, redis.prefix), 'entries left pending').to.be.greaterThan(0);

    // Replica B takes over whatever is pending and replays it.
    await start('  spend_claim_idle_ms: 1000');
    await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0, 30_000);
    expect(await spendLogCount(dataSource)).to.equal(10);
    expect(await spendColumn(dataSource, 'LiteLLM_VerificationToken', { token: hashKey(raw) })).to.be.closeTo(10 * COST, 1e-9);
    const counter = await counterOf(peek, redis.prefix, target);
    expect(counter?.spend).to.be.closeTo(10 * COST, 1e-9);
    expect(counter?.queued, 'every queued event acknowledged once').to.equal(0);
    console.log(`      measured: ${committed} rows committed before the kill, 10 after recovery, spend ${counter?.spend.toFixed(2)} = 10 × ${COST}`);
  });
});
