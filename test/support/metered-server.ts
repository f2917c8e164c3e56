/**
 * One `tollgate serve` on MariaDB + Redis (its own database and key prefix) with a given config,
 * for end-to-end suites that seed LiteLLM rows, send Checks and stream responses to its metering:
 * the server, a Check client, an ext_proc client, the rows helper and the data source, and one
 * `close` that stops and removes all of it.
 */
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker } from './e2e';
import { connectExtProc, type ExtProcClient } from './ext-proc';
import { LiteLlmRows } from './litellm-rows';
import { requireMysql } from './mysql';
import { requireRedis } from './redis';
import { startServer } from './server-process';
import { stopIfRunning } from './spend';

export interface MeteredServer {
  readonly dataSource: DataSource;
  readonly rows: LiteLlmRows;
  readonly checker: Checker;
  readonly meter: ExtProcClient;
  close(): Promise<void>;
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
    return { dataSource, rows: new LiteLlmRows(dataSource), checker, meter, close };
  } catch (error) {
    await close();
    throw error;
  }
}
