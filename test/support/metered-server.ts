/**
 * One `tollgate serve` on MariaDB + Redis (its own database and key prefix) with a given config,
 * for end-to-end suites that seed LiteLLM rows, send Checks and stream responses to its metering:
 * the server, a Check client, an ext_proc client, the rows helper and the data source, one
 * `close` that stops and removes all of it, and the one metered call those suites repeat.
 */
import type { DataSource } from 'typeorm';
import type { CheckResponse } from '../../src/envoy/messages';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker } from './e2e';
import { anEnvoyCheck, denialOf, isAllowed, metadataOf } from './envoy-requests';
import { anOpenAiStream, anUpstreamExchange, connectExtProc, type ExtProcClient } from './ext-proc';
import { LiteLlmRows, uniqueId } from './litellm-rows';
import { requireMysql } from './mysql';
import { requireRedis } from './redis';
import { startServer } from './server-process';
import { OF_X_REQUEST_ID, spendLogCount, stopIfRunning, waitFor } from './spend';

/** What one `meteredCall` costs on a model of `meteredConfig`: 1 000 prompt + 900 completion tokens at its prices. */
export const METERED_CALL_COST = 0.1;

const METERED_USAGE = { prompt: 1000, completion: 900 };

/**
 * A config with metering on: each of `models` priced so that one `meteredCall` costs
 * METERED_CALL_COST, and spend flushed within a fraction of a second. `extraTollgateLines` are
 * more `key: value` settings of the `tollgate:` block (`cache_refresh_seconds: 1`, say).
 */
export function meteredConfig(models: readonly string[], extraTollgateLines: readonly string[] = []): string {
  return [
    'model_list:',
    ...models.flatMap((model) => [
      `  - model_name: ${model}`,
      `    litellm_params: { model: openai/${model}, input_cost_per_token: 0.00001, output_cost_per_token: 0.0001 }`,
    ]),
    'tollgate:',
    '  metering: true',
    '  redis_timeout_ms: 2000',
    '  spend_flush_interval_ms: 100',
    '  spend_claim_idle_ms: 1000',
    ...extraTollgateLines.map((line) => `  ${line}`),
  ].join('\n');
}

export interface MeteredCall {
  /** The call's `x-request-id`, which its SpendLogs row carries in metadata. */
  readonly requestId: string;
  /** The allowed Check's answer, whose metadata went to metering. */
  readonly response: CheckResponse;
}

/** Its methods are closures over the server, so they may be taken off it. */
export interface MeteredServer {
  readonly dataSource: DataSource;
  readonly rows: LiteLlmRows;
  readonly checker: Checker;
  readonly meter: ExtProcClient;
  /**
   * One Check for `body` with `key` under a fresh `x-request-id`, which must be allowed (a denial
   * throws, naming it), then its streamed response metered: it costs METERED_CALL_COST on a model
   * of `meteredConfig`. Metering settles after answering, so the charge may not be counted yet.
   */
  meteredCall(key: string, body: unknown, headers?: Record<string, string>): Promise<MeteredCall>;
  /** A `meteredCall` whose SpendLogs row has been flushed to the database. */
  meteredCallLogged(key: string, body: unknown, headers?: Record<string, string>): Promise<MeteredCall>;
  close(): Promise<void>;
}

function describeRefusal(response: CheckResponse): string {
  if (response.denied_response === undefined) return `status ${JSON.stringify(response.status ?? null)}`;
  const denial = denialOf(response);
  return `${denial.httpStatus} ${denial.type}: ${denial.message}`;
}

function meteredCalls(checker: Checker, meter: ExtProcClient, dataSource: DataSource): Pick<MeteredServer, 'meteredCall' | 'meteredCallLogged'> {
  const meteredCall = async (key: string, body: unknown, headers: Record<string, string> = {}): Promise<MeteredCall> => {
    const requestId = uniqueId('req');
    const response = await checker.check(anEnvoyCheck({ key, body, headers: { ...headers, 'x-request-id': requestId } }));
    if (!isAllowed(response)) throw new Error(`the metered call's Check was refused (${describeRefusal(response)})`);
    await meter.exchange(
      anUpstreamExchange({
        requestId,
        status: 200,
        chunks: anOpenAiStream(METERED_USAGE, 4, uniqueId('chatcmpl')),
        contentType: 'text/event-stream',
        authzMetadata: metadataOf(response),
      }),
    );
    return { requestId, response };
  };
  const meteredCallLogged = async (key: string, body: unknown, headers?: Record<string, string>): Promise<MeteredCall> => {
    const call = await meteredCall(key, body, headers);
    await waitFor('the flush', () => spendLogCount(dataSource, OF_X_REQUEST_ID, [call.requestId]), (n) => n === 1);
    return call;
  };
  return { meteredCall, meteredCallLogged };
}

/** Everything opened so far is closed again when a later step fails. */
export async function openMeteredServer(ctx: Mocha.Context, config: string, masterKey: string): Promise<MeteredServer> {
  requireBuild();
  const closers: (() => void | Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const database = await requireMysql(ctx);
    closers.push(() => database.drop());
    const redis = await requireRedis(ctx);
    closers.push(() => redis.cleanup());
    const dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 5000 });
    await dataSource.initialize();
    closers.push(async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    });
    await runMigrations(dataSource);
    const file = writeConfig(config);
    closers.push(() => file.cleanup());
    const server = await startServer({
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        TOLLGATE_REDIS_PREFIX: redis.prefix,
        LITELLM_MASTER_KEY: masterKey,
        TOLLGATE_CONFIG: file.path,
        LOG_LEVEL: 'info',
      },
      startupTimeoutMs: 60_000,
    });
    closers.push(() => stopIfRunning(server));
    const checker = connect(server.address);
    closers.push(() => checker.close());
    const meter = connectExtProc(server.address);
    closers.push(() => meter.close());
    return { dataSource, rows: new LiteLlmRows(dataSource), checker, meter, ...meteredCalls(checker, meter, dataSource), close };
  } catch (error) {
    await close();
    throw error;
  }
}
