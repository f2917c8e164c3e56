/**
 * Runs one store suite against both backends: MariaDB/MySQL (a fresh database per run) and
 * embedded SQLite (a temporary file). The schema comes from the real migrations.
 */
import type { DataSource } from 'typeorm';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { requireMysql, tempSqlitePath } from './mysql';

export type BackendName = 'mariadb' | 'sqlite';

export interface StoreBackend {
  readonly name: BackendName;
  readonly settings: DatabaseSettings;
  /** Initialized and migrated. */
  readonly dataSource: DataSource;
}

const DB_TIMEOUT_MS = 2000;

async function openBackend(name: BackendName, ctx: Mocha.Context): Promise<{ backend: StoreBackend; cleanup: () => Promise<void> }> {
  let settings: DatabaseSettings;
  let release: () => Promise<void>;
  if (name === 'mariadb') {
    const database = await requireMysql(ctx);
    settings = { databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: DB_TIMEOUT_MS };
    release = () => database.drop();
  } else {
    const file = tempSqlitePath();
    settings = { databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: DB_TIMEOUT_MS };
    release = async () => file.cleanup();
  }
  const dataSource = createDataSource(settings);
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await release();
    throw error;
  }
  return {
    backend: { name, settings, dataSource },
    cleanup: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await release();
    },
  };
}

/**
 * `describe(title + " on <backend>")` once per backend; `body` gets an accessor that is valid
 * inside hooks and tests.
 */
export function describeEachBackend(title: string, body: (backend: () => StoreBackend) => void): void {
  for (const name of ['mariadb', 'sqlite'] as const) {
    describe(`${title} on ${name}`, function () {
      let current: StoreBackend | undefined;
      let cleanup: (() => Promise<void>) | undefined;

      before(async function () {
        const opened = await openBackend(name, this);
        current = opened.backend;
        cleanup = opened.cleanup;
      });

      after(async function () {
        await cleanup?.();
      });

      body(() => {
        if (current === undefined) throw new Error(`${name} backend is not open`);
        return current;
      });
    });
  }
}
