import { expect } from 'chai';
/**
 * Reading spend where Tollgate keeps it, for the budget tests: the Redis counters (by the key
 * layout of src/spend/redis-keys.ts) and the LiteLLM rows, polled until the flusher catches up.
 */
import { createClient } from 'redis';
import type { DataSource } from 'typeorm';
import { createRedisClient, type RedisClient } from '../../src/cache/redis-shared-cache';
import { SpendKeys } from '../../src/spend/redis-keys';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { PriceTable } from '../../src/metering/prices';
import { RedisAdmitter, type Admission, type AdmissionOptions } from '../../src/spend/admission';
import { RedisSpendRecorder, type RedisRecorderOptions, type SpendRecorder } from '../../src/spend/spend-recorder';
import { NO_ATTRIBUTION, type SpendEvent } from '../../src/spend/spend-event';
import type { SpendTarget } from '../../src/spend/targets';
import { requireRedis, TEST_REDIS_URL, type TestRedis } from './redis';
import type { ServerProcess } from './server-process';

export type TestRedisClient = ReturnType<typeof createClient>;

/** SIGTERM unless the process is already gone (a crash test, or something else killed it). */
export async function stopIfRunning(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  await server.stop();
}

export async function openRedisClient(): Promise<TestRedisClient> {
  const client = createClient({ url: TEST_REDIS_URL });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A charge of 0.25 for 10 + 5 tokens of gpt-4o to key `hash-1`, under the ids given. */
export function aSpendEvent(ids: { chargeId: string; requestId: string }): SpendEvent {
  return {
    ...ids,
    callType: 'acompletion',
    attribution: { ...NO_ATTRIBUTION, keyHash: 'hash-1', tags: [], model: 'gpt-4o' },
    model: 'gpt-4o',
    usage: { inputTokens: 10, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 5 },
    cost: 0.25,
    startTime: 0,
    endTime: 1,
    completionStartTime: null,
  };
}

export interface CounterState {
  readonly spend: number;
  readonly reserved: number;
  readonly queued: number;
  /** False while the counter was created by a charge and has not yet taken the database spend. */
  readonly seeded: boolean;
}

export async function counterOf(client: TestRedisClient, prefix: string, target: SpendTarget): Promise<CounterState | null> {
  const hash = await client.hGetAll(new SpendKeys(prefix).counter(target));
  if (Object.keys(hash).length === 0) return null;
  return { spend: Number(hash.s ?? 0), reserved: Number(hash.r ?? 0), queued: Number(hash.n ?? 0), seeded: hash.u === undefined };
}

/** Entries in the spend stream not yet deleted (acknowledged entries are deleted). */
export async function queuedEntries(client: TestRedisClient, prefix: string): Promise<number> {
  const key = new SpendKeys(prefix).stream;
  return (await client.exists(key)) === 1 ? client.xLen(key) : 0;
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe();
  }
  return last;
}

/**
 * Metering settles a response after answering Envoy (Envoy never waits on it), so a test that reads
 * spend right after an exchange waits for that request's charge to be recorded (its idempotency marker).
 */
export async function chargeRecorded(client: TestRedisClient, prefix: string, chargeId: string): Promise<void> {
  const marker = new SpendKeys(prefix).done(chargeId);
  await waitFor(`the charge ${chargeId}`, () => client.exists(marker), (n) => n === 1);
}

/** A `spendLogCount` condition: the rows of one x-request-id (their request_id is the charge id). */
export const OF_X_REQUEST_ID = "JSON_UNQUOTE(JSON_EXTRACT(`metadata`, '$.x_request_id')) = ?";

/** `SELECT spend` of one row, through the same table names LiteLLM uses. */
export async function spendColumn(dataSource: DataSource, table: string, where: Record<string, string>): Promise<number | null> {
  const clauses = Object.keys(where).map((column) => `\`${column}\` = ?`);
  const rows: { spend: number | string | null }[] = await dataSource.query(
    `SELECT spend FROM \`${table}\` WHERE ${clauses.join(' AND ')}`,
    Object.values(where),
  );
  return rows.length === 0 ? null : Number(rows[0].spend ?? 0);
}

export async function spendLogCount(dataSource: DataSource, where = '1 = 1', params: unknown[] = []): Promise<number> {
  const rows: { n: number | string }[] = await dataSource.query(`SELECT COUNT(*) AS n FROM \`LiteLLM_SpendLogs\` WHERE ${where}`, params);
  return Number(rows[0].n);
}

/**
 * A RedisSpendRecorder over the test Redis whose database fallback is never expected: one that
 * falls back reports it through `onFallback` (a test records or throws it) and then fails.
 */
export function aRedisRecorder(
  client: RedisClient,
  prefix: string,
  options: Pick<RedisRecorderOptions, 'onFallback'> & Partial<Omit<RedisRecorderOptions, 'prefix'>>,
): RedisSpendRecorder {
  const nowhere: SpendRecorder = { record: () => Promise.reject(new Error('fell back')), release: () => Promise.resolve() };
  return new RedisSpendRecorder(client, new SpendKeys(prefix), nowhere, { prefix, timeoutMs: 2000, tokenRateLimitType: 'total', ...options });
}

/** gpt-4o at 0.001 a prompt token and 0.002 a completion token: a request for 100 output tokens is estimated at 0.2. */
export const GPT_4O_PRICES = new PriceTable(
  parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n', {}),
);

/**
 * An admitter as `tollgate serve` builds one with metering and rate limits on (no reservations
 * unless `options` give them), its Redis trouble reported to `onError`; `options` override.
 */
export function aRedisAdmitter(
  client: RedisClient,
  prefix: string,
  options: Pick<AdmissionOptions, 'onError'> & Partial<Omit<AdmissionOptions, 'prefix'>>,
): RedisAdmitter {
  return new RedisAdmitter(client, new SpendKeys(prefix), GPT_4O_PRICES, {
    prefix,
    enforceRateLimits: true,
    reservation: null,
    rateLimitMetadata: false,
    metering: true,
    timeoutMs: 2000,
    idleCounterMs: 60_000,
    admitWhenReservationUnavailable: false,
    ...options,
  });
}

export interface LimitingAdmitter {
  readonly redis: TestRedis;
  readonly client: RedisClient;
  readonly admitter: RedisAdmitter;
}

/**
 * Registers the suite's `before` and `after`: a client to the test Redis (its own key prefix) and an
 * admitter over it that enforces rate limits without metering and throws any Redis trouble, so that
 * a fault fails the test instead of passing as an admission; afterwards the client is closed and the
 * prefix removed. The fields are readable from the suite's tests on.
 */
export function limitingAdmitterForSuite(): LimitingAdmitter {
  let redis: TestRedis | undefined;
  let client: RedisClient | undefined;
  let admitter: RedisAdmitter | undefined;

  before(async function () {
    redis = await requireRedis(this);
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
    admitter = aRedisAdmitter(client, redis.prefix, {
      metering: false,
      onError: (error) => {
        throw error;
      },
    });
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  function ready<T>(value: T | undefined): T {
    if (value === undefined) throw new Error("the suite's Redis admitter is not open: read before its before hook");
    return value;
  }
  return {
    get redis() {
      return ready(redis);
    },
    get client() {
      return ready(client);
    },
    get admitter() {
      return ready(admitter);
    },
  };
}

/** A verdict that is LiteLLM's v3 429 for the `model_per_key` descriptor at `rpm` requests a minute, with a retry-after. */
export function expectModelPerKeyRefusal(verdict: Admission | undefined, rpm: number): void {
  if (verdict?.kind !== 'deny') throw new Error(`expected a refusal, got ${verdict?.kind ?? 'nothing'}`);
  expect(verdict.denial.status).to.equal(429);
  expect(verdict.denial.type).to.equal('None');
  expect(verdict.denial.message).to.match(
    new RegExp(`^LiteLLM Rate Limit Handler for rate limit type = model_per_key\\. Crossed TPM / RPM / Max Parallel Request Limit\\. current rpm: ${rpm}, rpm limit: ${rpm},`),
  );
  expect(verdict.denial.headers?.some(([name]) => name === 'retry-after')).to.equal(true);
}
