/**
 * Budgets end to end with two `tollgate serve` processes sharing one MariaDB database and one
 * Redis prefix, as two gateway replicas would: Envoy's Check on one replica, its ext_proc stream
 * on the other, spend in shared counters and flushed into LiteLLM's columns.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { hashKey } from '../../src/auth/key-hash';
import { SpendKeys } from '../../src/spend/redis-keys';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed, metadataOf } from '../support/envoy-requests';
import { anOpenAiStream, anUpstreamExchange, connectExtProc, type ExtProcClient } from '../support/ext-proc';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';
import { BIN, startServer, type ServerProcess } from '../support/server-process';
import {
  chargeRecorded,
  counterOf,
  OF_X_REQUEST_ID,
  openRedisClient,
  queuedEntries,
  spendColumn,
  spendLogCount,
  stopIfRunning,
  waitFor,
  type TestRedisClient,
} from '../support/spend';

const MASTER_KEY = 'sk-master-budgets-0123456789';
/** 1 000 prompt + 900 completion tokens at these prices cost exactly 0.1. */
const PRICES = 'input_cost_per_token: 0.00001, output_cost_per_token: 0.0001';
const COST = 0.1;
const USAGE = { prompt: 1000, completion: 900 };

function configYaml(tollgate: Record<string, unknown>): string {
  return [
    'model_list:',
    `  - model_name: gpt-4o`,
    `    litellm_params: { model: openai/gpt-4o, ${PRICES} }`,
    'tollgate:',
    ...Object.entries(tollgate).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  ].join('\n');
}

interface Replicas {
  readonly servers: ServerProcess[];
  readonly checkers: Checker[];
  readonly meters: ExtProcClient[];
  readonly config: TempConfig;
  /** What the replicas run with: the CLI pointed at the same database, Redis and config. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

async function startReplicas(database: TestMysqlDatabase, redis: TestRedis, tollgate: Record<string, unknown>): Promise<Replicas> {
  const config = writeConfig(configYaml(tollgate));
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    TOLLGATE_REDIS_PREFIX: redis.prefix,
    LITELLM_MASTER_KEY: MASTER_KEY,
    TOLLGATE_CONFIG: config.path,
    LOG_LEVEL: 'info',
  };
  const started = await Promise.allSettled([startServer({ env, startupTimeoutMs: 60_000 }), startServer({ env, startupTimeoutMs: 60_000 })]);
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) {
    // Never leave the replica that did start running behind a failed hook.
    await Promise.all(servers.map(stopIfRunning));
    config.cleanup();
    throw failed.reason;
  }
  const checkers = servers.map((s) => connect(s.address));
  const meters = servers.map((s) => connectExtProc(s.address));
  return {
    servers,
    checkers,
    meters,
    config,
    env,
    async stop() {
      checkers.forEach((c) => c.close());
      meters.forEach((m) => m.close());
      await Promise.all(servers.map(stopIfRunning));
      config.cleanup();
    },
  };
}

/** One request through "Envoy": Check on one replica, the response metered on another. */
async function callThrough(
  replicas: Replicas,
  checkOn: number,
  meterOn: number,
  key: string,
  options: {
    body?: Record<string, unknown>;
    status?: number;
    usage?: { prompt: number; completion: number };
    upstreamMs?: number;
    /** The client's own x-request-id (Envoy keeps it for internal peers); a fresh one by default. */
    requestId?: string;
  } = {},
): Promise<{ allowed: boolean; requestId: string; chargeId: string; denialType?: string }> {
  const requestId = options.requestId ?? uniqueId('req');
  const responseId = uniqueId('chatcmpl');
  const chargeId = `${requestId}:${responseId}`;
  const response = await replicas.checkers[checkOn].check(
    anEnvoyCheck({ key, body: options.body ?? chat('gpt-4o'), headers: { 'x-request-id': requestId } }),
  );
  if (!isAllowed(response)) return { allowed: false, requestId, chargeId, denialType: denialOf(response).type };
  if (options.upstreamMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.upstreamMs));
  await replicas.meters[meterOn].exchange(
    anUpstreamExchange({
      requestId,
      status: options.status ?? 200,
      chunks:
        options.status !== undefined && options.status >= 400
          ? ['{"error":{"message":"upstream failed"}}']
          : anOpenAiStream(options.usage ?? USAGE, 4, responseId),
      contentType: options.status !== undefined && options.status >= 400 ? 'application/json' : 'text/event-stream',
      authzMetadata: metadataOf(response),
    }),
  );
  return { allowed: true, requestId, chargeId };
}

async function migratedDataSource(database: TestMysqlDatabase): Promise<DataSource> {
  const dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 5000 });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return dataSource;
}

describe('budgets end to end: two replicas sharing MariaDB + Redis', function () {
  this.timeout(60_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let dataSource: DataSource;
  let rows: LiteLlmRows;
  let peek: TestRedisClient;
  let replicas: Replicas | undefined;

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    redis = await requireRedis(this);
    dataSource = await migratedDataSource(database);
    rows = new LiteLlmRows(dataSource);
    peek = await openRedisClient();
  });

  after(async function () {
    await replicas?.stop();
    if (peek?.isOpen) peek.destroy();
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
    await redis?.cleanup();
  });

  describe('metering without reservations', () => {
    before(async function () {
      replicas = await startReplicas(database, redis, {
        metering: true,
        rate_limit_metadata: true,
        // The shared test machine can be very loaded; a Redis answer slower than this is a fault.
        redis_timeout_ms: 2000,
        spend_flush_interval_ms: 100,
        spend_claim_idle_ms: 1000,
      });
    });

    after(async () => {
      await replicas?.stop();
      replicas = undefined;
    });

    it('charges a streamed response to every entity Check resolved, on the other replica, into LiteLLM columns', async () => {
      const budget = await rows.aBudget({ max_budget: 100 });
      const org = await rows.anOrganization({ budget_id: budget.budget_id });
      const team = await rows.aTeam({ organization_id: org.organization_id, max_budget: 100 });
      const user = await rows.aUser({ max_budget: 100 });
      await rows.aTeamMembership({ user_id: user.user_id, team_id: team.team_id });
      const project = await rows.aProject({ team_id: team.team_id });
      const tag = await rows.aTag();
      const raw = `sk-rec-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), team_id: team.team_id, user_id: user.user_id, project_id: project.project_id, max_budget: 100 });
      const endUser = uniqueId('customer');

      const unknownTag = uniqueId('no-row');
      const body = chat('gpt-4o', { user: endUser, metadata: { tags: [tag.tag_name, unknownTag] } });
      const { allowed, requestId, chargeId } = await callThrough(replicas!, 0, 1, raw, { body });
      expect(allowed).to.equal(true);

      const counter = await counterOf(peek, redis.prefix, { kind: 'key', id: hashKey(raw) });
      expect(counter?.spend).to.be.closeTo(COST, 1e-12);

      await waitFor('the flush', () => spendLogCount(dataSource, OF_X_REQUEST_ID, [requestId]), (n) => n === 1);
      const expected: Array<[string, Record<string, string>]> = [
        ['LiteLLM_VerificationToken', { token: hashKey(raw) }],
        ['LiteLLM_TeamTable', { team_id: team.team_id }],
        ['LiteLLM_UserTable', { user_id: user.user_id }],
        ['LiteLLM_TeamMembership', { user_id: user.user_id, team_id: team.team_id }],
        ['LiteLLM_OrganizationTable', { organization_id: org.organization_id }],
        ['LiteLLM_ProjectTable', { project_id: project.project_id }],
        ['LiteLLM_TagTable', { tag_name: tag.tag_name }],
        ['LiteLLM_EndUserTable', { user_id: endUser }],
      ];
      for (const [table, where] of expected) {
        expect(await spendColumn(dataSource, table, where), table).to.be.closeTo(COST, 1e-12);
      }
      const [log] = await dataSource.query(`SELECT * FROM \`LiteLLM_SpendLogs\` WHERE ${OF_X_REQUEST_ID}`, [requestId]);
      expect(log).to.include({
        request_id: chargeId,
        api_key: hashKey(raw),
        call_type: 'acompletion',
        team_id: team.team_id,
        organization_id: org.organization_id,
        end_user: endUser,
        user: user.user_id,
        model_group: 'gpt-4o',
        prompt_tokens: 1000,
        completion_tokens: 900,
        total_tokens: 1900,
      });
      expect(Number(log.spend)).to.be.closeTo(COST, 1e-12);
      const tags = typeof log.request_tags === 'string' ? JSON.parse(log.request_tags) : log.request_tags;
      expect(tags, 'logged as sent').to.deep.equal([tag.tag_name, unknownTag]);
      expect(await counterOf(peek, redis.prefix, { kind: 'tag', id: unknownTag }), 'no counter for a tag without a row').to.equal(null);
      await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0);
    });

    it('counts a replayed response once (idempotent per x-request-id and response id)', async () => {
      const raw = `sk-replay-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 100 });
      const requestId = uniqueId('req');
      const check = await replicas!.checkers[0].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o'), headers: { 'x-request-id': requestId } }));
      const exchange = anUpstreamExchange({ requestId, chunks: anOpenAiStream(USAGE), authzMetadata: metadataOf(check) });
      await Promise.all([replicas!.meters[0].exchange(exchange), replicas!.meters[1].exchange(exchange), replicas!.meters[1].exchange(exchange)]);
      await waitFor('the flush', () => spendLogCount(dataSource, OF_X_REQUEST_ID, [requestId]), (n) => n === 1);
      await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0);
      expect((await counterOf(peek, redis.prefix, { kind: 'key', id: hashKey(raw) }))?.spend).to.be.closeTo(COST, 1e-12);
      expect(await spendColumn(dataSource, 'LiteLLM_VerificationToken', { token: hashKey(raw) })).to.be.closeTo(COST, 1e-12);
    });

    it('charges every response sent under one client-chosen x-request-id (each has its own response id)', async () => {
      const raw = `sk-sameid-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 100 });
      const requestId = uniqueId('client-chosen');
      const first = await callThrough(replicas!, 0, 1, raw, { requestId });
      const second = await callThrough(replicas!, 1, 0, raw, { requestId });
      expect([first.allowed, second.allowed]).to.deep.equal([true, true]);
      // Waits on the spend itself, not on markers: a second response taken for a replay leaves it at 1 × COST.
      const target = { kind: 'key' as const, id: hashKey(raw) };
      const counter = await waitFor('both charges', () => counterOf(peek, redis.prefix, target), (c) => Math.abs((c?.spend ?? 0) - 2 * COST) < 1e-12);
      expect(counter?.spend).to.be.closeTo(2 * COST, 1e-12);
      await waitFor('the flush', () => spendLogCount(dataSource, OF_X_REQUEST_ID, [requestId]), (n) => n === 2);
      await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0);
      expect(await spendColumn(dataSource, 'LiteLLM_VerificationToken', { token: hashKey(raw) })).to.be.closeTo(2 * COST, 1e-12);
    });

    it('charges a stream without include_usage (the SDK default) an estimate: the request length and the text streamed, marked in SpendLogs', async () => {
      const raw = `sk-no-usage-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 100 });
      const requestId = uniqueId('req');
      const check = await replicas!.checkers[0].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o'), headers: { 'x-request-id': requestId } }));
      expect(isAllowed(check)).to.equal(true);
      // 4 000 bytes of request and 3 600 of generated text: 1 000 + 900 tokens at four bytes a token, as USAGE.
      const deltas = Array.from({ length: 36 }, () => `data: {"id":"chatcmpl-est","choices":[{"delta":{"content":"${'x'.repeat(100)}"}}]}\n\n`);
      await replicas!.meters[1].exchange(
        anUpstreamExchange({ requestId, requestHeaders: { 'content-length': '4000' }, chunks: [...deltas, 'data: [DONE]\n\n'], authzMetadata: metadataOf(check) }),
      );
      await waitFor('the flush', () => spendLogCount(dataSource, OF_X_REQUEST_ID, [requestId]), (n) => n === 1);
      const [log] = await dataSource.query(`SELECT * FROM \`LiteLLM_SpendLogs\` WHERE ${OF_X_REQUEST_ID}`, [requestId]);
      expect(log).to.include({ request_id: `${requestId}:chatcmpl-est`, prompt_tokens: 1000, completion_tokens: 900, api_key: hashKey(raw) });
      expect(Number(log.spend)).to.be.closeTo(COST, 1e-12);
      const metadata = typeof log.metadata === 'string' ? JSON.parse(log.metadata) : log.metadata;
      expect(metadata).to.include({ usage_estimated: true });
      expect((await counterOf(peek, redis.prefix, { kind: 'key', id: hashKey(raw) }))?.spend).to.be.closeTo(COST, 1e-12);
      await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0);
    });

    it("counts a new end user's first charge once: its counter, created by that charge, is seeded without it", async () => {
      const raw = `sk-new-customer-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 100 });
      const endUser = uniqueId('customer');
      const body = chat('gpt-4o', { user: endUser });
      // No row yet: Check resolves no end user, so the charge creates the counter, unseeded.
      expect((await callThrough(replicas!, 0, 1, raw, { body })).allowed).to.equal(true);
      const target = { kind: 'end_user' as const, id: endUser };
      await waitFor('the end user row', () => spendColumn(dataSource, 'LiteLLM_EndUserTable', { user_id: endUser }), (spend) => spend !== null && Math.abs(spend - COST) < 1e-12);
      await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0);
      // Once the "no such end user" answer expires, a Check reads the row (spend 0.1, the charge) and seeds the counter.
      const seeded = await waitFor(
        'a Check to seed the counter',
        async () => {
          await replicas!.checkers[1].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o', { user: endUser }) }));
          return counterOf(peek, redis.prefix, target);
        },
        (counter) => counter?.seeded === true,
      );
      expect(seeded?.spend, 'the charge counted once, not once more from the database').to.be.closeTo(COST, 1e-12);
    });

    it('refuses on every replica once one replica has metered the budget away (no cache wait)', async () => {
      const raw = `sk-shared-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 0.25 });
      for (let i = 0; i < 3; i += 1) {
        const { allowed, chargeId } = await callThrough(replicas!, 0, 0, raw);
        expect(allowed, `request ${i}`).to.equal(true);
        await chargeRecorded(peek, redis.prefix, chargeId);
      }
      // Replica 1 cached nothing for this key and replica 0's cached row still says spend 0.
      for (const replica of [0, 1]) {
        const response = await replicas!.checkers[replica].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
        expect(denialOf(response).type, `replica ${replica}`).to.equal('budget_exceeded');
        expect(denialOf(response).message).to.equal('Budget has been exceeded! Current cost: 0.3, Max budget: 0.25');
      }
    });

    it('admits again on every replica at the next Check once `tollgate spend set` lowers the spend (the counter is set too)', async () => {
      const raw = `sk-set-${uniqueId('k')}`;
      const token = hashKey(raw);
      await rows.aKey({ token, max_budget: 0.25 });
      for (let i = 0; i < 3; i += 1) expect((await callThrough(replicas!, 0, 1, raw)).allowed, `request ${i}`).to.equal(true);
      await waitFor('the queue to drain', () => queuedEntries(peek, redis.prefix), (n) => n === 0);
      const refused = await replicas!.checkers[1].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
      expect(denialOf(refused).type).to.equal('budget_exceeded');

      const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'spend', 'set', '--key', token, '0.1'], {
        env: { PATH: process.env.PATH ?? '', ...replicas!.env },
        timeout: 20_000,
      });
      expect(stdout).to.include(`key hash ${token}: spend = 0.1`);
      // No wait: the counter, which every Check reads, already holds the new spend.
      for (const replica of [0, 1]) {
        const response = await replicas!.checkers[replica].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
        expect(isAllowed(response), `replica ${replica}`).to.equal(true);
      }
      expect((await counterOf(peek, redis.prefix, { kind: 'key', id: token }))?.spend).to.equal(0.1);
      expect(await spendColumn(dataSource, 'LiteLLM_VerificationToken', { token })).to.be.closeTo(0.1, 1e-12);
    });

    it("answers LiteLLM's 429 past a key's rpm limit, counted across replicas", async () => {
      const raw = `sk-rpm-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), rpm_limit: 3 });
      // Only the LLM routes count and are limited, as LiteLLM's limiter runs as their pre-call hook.
      const listModels = (replica: number) => replicas!.checkers[replica].check(anEnvoyCheck({ key: raw, method: 'GET', path: '/v1/models' }));
      for (let i = 0; i < 4; i += 1) expect(isAllowed(await listModels(i % 2)), 'GET /v1/models is not counted').to.equal(true);
      const keyInfo = await replicas!.checkers[0].check(anEnvoyCheck({ key: raw, method: 'GET', path: '/key/info' }));
      expect(isAllowed(keyInfo), 'nor is /key/info').to.equal(true);
      const answers = [];
      for (let i = 0; i < 4; i += 1) answers.push(await replicas!.checkers[i % 2].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') })));
      expect(answers.slice(0, 3).every(isAllowed)).to.equal(true);
      expect(isAllowed(await listModels(0)), 'nor refused past the limit').to.equal(true);
      const denial = denialOf(answers[3]);
      expect(denial).to.include({ httpStatus: 'TooManyRequests', type: 'None', param: 'None', code: '429' });
      expect(denial.message).to.match(/^LiteLLM Rate Limit Handler for rate limit type = key\. Crossed TPM \/ RPM \/ Max Parallel Request Limit\. current rpm: 3, rpm limit: 3,/);
      // 3 of 3 used this minute: room again 20 s into the next one (3 × 2/3 + 1 <= 3), at most 80 s from now.
      const retryAfter = answers[3].denied_response?.headers?.find((h) => h.header?.key === 'retry-after')?.header?.value;
      expect(retryAfter).to.match(/^\d+$/);
      expect(Number(retryAfter)).to.be.within(1, 80);
    });

    it('refuses past a tpm limit once metered tokens reach it, and tells Envoy AI Gateway the limit', async () => {
      const raw = `sk-tpm-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), tpm_limit: 1500, rpm_limit: 100 });
      const first = await replicas!.checkers[0].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
      expect(metadataOf(first)).to.include({ rate_limit: '1500/MINUTE' });
      const metered = await callThrough(replicas!, 0, 1, raw);
      expect(metered.allowed).to.equal(true);
      await chargeRecorded(peek, redis.prefix, metered.chargeId);
      // The first Check still holds the tokens it reserved (its response never came); the metered
      // one's reservation gave way to its 1900 tokens.
      const held = Number(await peek.hGet(new SpendKeys(redis.prefix).reservation(String(metadataOf(first).admission_id)), 't'));
      expect(held).to.be.above(0);
      const after = await replicas!.checkers[1].check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
      expect(denialOf(after)).to.include({ code: '429' });
      expect(denialOf(after).message).to.include(`current tpm: ${1900 + held}, tpm limit: 1500`);
      // The two requests admitted before it, as LiteLLM prints the crossed entity's other count
      // (1 when a minute ended between them and the window weighs the earlier one down).
      expect(denialOf(after).message).to.match(/current rpm: [12], rpm limit: 100,/);
    });

    it('bounds overshoot under concurrency by the requests in flight: measured', async () => {
      const raw = `sk-race-${uniqueId('k')}`;
      const maxBudget = 1;
      await rows.aKey({ token: hashKey(raw), max_budget: maxBudget });
      const workers = 8;
      let admitted = 0;
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          for (let i = 0; ; i += 1) {
            const result = await callThrough(replicas!, (w + i) % 2, (w + i + 1) % 2, raw, { upstreamMs: 40 });
            if (!result.allowed) {
              expect(result.denialType).to.equal('budget_exceeded');
              return;
            }
            admitted += 1;
          }
        }),
      );
      const counter = await counterOf(peek, redis.prefix, { kind: 'key', id: hashKey(raw) });
      const overshoot = (counter?.spend ?? 0) - maxBudget;
      console.log(`      measured: ${admitted} admitted, spend ${counter?.spend.toFixed(2)} of ${maxBudget}, overshoot ${overshoot.toFixed(2)} (bound ${workers} in flight × ${COST} = ${(workers * COST).toFixed(2)})`);
      expect(counter?.spend).to.be.closeTo(admitted * COST, 1e-9);
      expect(overshoot).to.be.lessThan(workers * COST);
      await waitFor('the database to match the counter', () => spendColumn(dataSource, 'LiteLLM_VerificationToken', { token: hashKey(raw) }), (s) => Math.abs((s ?? 0) - admitted * COST) < 1e-9);
    });
  });

  describe('with budget_reservation', () => {
    before(async function () {
      replicas = await startReplicas(database, redis, {
        metering: true,
        budget_reservation: true,
        // Longer than any exchange here, even on a loaded machine (expiry itself: test/spend/counter-scripts.test.ts).
        reservation_ttl_seconds: 60,
        redis_timeout_ms: 2000,
        spend_flush_interval_ms: 100,
      });
    });

    after(async () => {
      await replicas?.stop();
      replicas = undefined;
    });

    /** max_tokens 900: the estimate (prompt chars / 4 at the input price + 900 output) covers the actual cost. */
    const boundedBody = (): Record<string, unknown> => chat('gpt-4o', { max_tokens: 900 });
    const smallPrompt = { prompt: 10, completion: 900 };

    it('keeps spend within the budget under concurrency when estimates cover the cost: measured', async () => {
      const raw = `sk-reserve-${uniqueId('k')}`;
      const maxBudget = 1;
      await rows.aKey({ token: hashKey(raw), max_budget: maxBudget });
      const workers = 8;
      let admitted = 0;
      await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          for (let i = 0; ; i += 1) {
            const result = await callThrough(replicas!, (w + i) % 2, (w + i + 1) % 2, raw, { body: boundedBody(), usage: smallPrompt, upstreamMs: 40 });
            if (!result.allowed) return;
            admitted += 1;
          }
        }),
      );
      // Metering settles after it answers (Envoy never waits on it): the last charges land moments later.
      const counter = await waitFor('the last reservations to settle', () => counterOf(peek, redis.prefix, { kind: 'key', id: hashKey(raw) }), (c) => c?.reserved === 0);
      console.log(`      measured: ${admitted} admitted, spend ${counter?.spend.toFixed(4)} of ${maxBudget} (reserved left ${counter?.reserved})`);
      expect(counter?.spend).to.be.at.most(maxBudget);
      expect(counter?.reserved).to.equal(0);
    });

    it('releases the reservation when the upstream fails, and charges nothing', async () => {
      const raw = `sk-upfail-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 0.1 });
      const target = { kind: 'key' as const, id: hashKey(raw) };
      const requestId = uniqueId('req');
      const check = await replicas!.checkers[0].check(anEnvoyCheck({ key: raw, body: boundedBody(), headers: { 'x-request-id': requestId } }));
      expect(isAllowed(check)).to.equal(true);
      expect((await counterOf(peek, redis.prefix, target))?.reserved).to.be.greaterThan(0.09);
      // A second request does not fit next to the first one's reservation.
      const second = await replicas!.checkers[1].check(anEnvoyCheck({ key: raw, body: boundedBody() }));
      expect(denialOf(second).type).to.equal('budget_exceeded');

      await replicas!.meters[1].exchange(
        anUpstreamExchange({ requestId, status: 503, contentType: 'application/json', chunks: ['{"error":{}}'], authzMetadata: metadataOf(check) }),
      );
      // Metering settles after it answers (Envoy never waits on it): the release lands moments later.
      const released = await waitFor('the reservation to be released', () => counterOf(peek, redis.prefix, target), (c) => c?.reserved === 0);
      expect(released).to.deep.include({ spend: 0, reserved: 0 });
      const third = await replicas!.checkers[1].check(anEnvoyCheck({ key: raw, body: boundedBody() }));
      expect(isAllowed(third)).to.equal(true);
    });

    it('reserves for each of two requests under one client-chosen x-request-id, and gives back each reservation with its own response', async () => {
      const raw = `sk-samerid-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), max_budget: 10 });
      const target = { kind: 'key' as const, id: hashKey(raw) };
      const requestId = uniqueId('client-chosen');
      const checkOf = (replica: number) => replicas!.checkers[replica].check(anEnvoyCheck({ key: raw, body: boundedBody(), headers: { 'x-request-id': requestId } }));
      const failed = (check: Awaited<ReturnType<typeof checkOf>>) =>
        anUpstreamExchange({ requestId, status: 503, contentType: 'application/json', chunks: ['{"error":{}}'], authzMetadata: metadataOf(check) });
      const first = await checkOf(0);
      const one = (await counterOf(peek, redis.prefix, target))?.reserved ?? 0;
      expect(one).to.be.greaterThan(0);
      const second = await checkOf(1);
      expect([isAllowed(first), isAllowed(second)]).to.deep.equal([true, true]);
      expect((await counterOf(peek, redis.prefix, target))?.reserved, 'a reservation each').to.be.closeTo(2 * one, 1e-9);

      await replicas!.meters[0].exchange(failed(second));
      const half = await waitFor('the second reservation to be released', () => counterOf(peek, redis.prefix, target), (c) => (c?.reserved ?? 0) < 1.5 * one);
      expect(half?.reserved, "the first request's reservation still holds").to.be.closeTo(one, 1e-9);
      await replicas!.meters[1].exchange(failed(first));
      const released = await waitFor('the first reservation to be released', () => counterOf(peek, redis.prefix, target), (c) => c?.reserved === 0);
      expect(released).to.deep.include({ spend: 0, reserved: 0 });
    });
  });
});
