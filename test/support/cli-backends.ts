/**
 * The two stores a CLI suite runs the real bin and server against: the embedded SQLite file, and
 * MySQL + Redis (own database and key prefix). `open` gives the environment both processes get,
 * whether `tollgate migrate` must run first, and what removes it all afterwards.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { cliWith, type Cli } from './cli-process';
import { requireBuild, writeConfig, type TempConfig } from './e2e';
import { requireMysql, tempSqlitePath } from './mysql';
import { requireRedis } from './redis';
import { startServer, type ServerProcess } from './server-process';

export interface CliBackend {
  readonly env: Record<string, string>;
  readonly migrate: boolean;
  cleanup(): Promise<void>;
}

export const CLI_BACKENDS: ReadonlyArray<{ readonly name: string; open(ctx: Mocha.Context): Promise<CliBackend> }> = [
  {
    name: 'the embedded store',
    open: async () => {
      const file = tempSqlitePath();
      return { env: { TOLLGATE_SQLITE_PATH: file.path }, migrate: false, cleanup: async () => file.cleanup() };
    },
  },
  {
    name: 'MySQL + Redis',
    open: async (ctx) => {
      const database = await requireMysql(ctx);
      const redis = await requireRedis(ctx);
      return {
        env: { DATABASE_URL: database.url, REDIS_URL: redis.url, TOLLGATE_REDIS_PREFIX: redis.prefix },
        migrate: true,
        cleanup: async () => {
          await database.drop();
          await redis.cleanup();
        },
      };
    },
  },
];

/** The master key every CLI suite's server runs with. */
export const CLI_MASTER_KEY = 'sk-master-change-me';

export interface CliAgainstServer {
  readonly backend: CliBackend;
  readonly server: ServerProcess;
  /** The bin with the backend's environment (and config), pointed at `server`. */
  readonly tollgate: Cli;
  /** The backend's store, as the bin and the server reach it. */
  readonly database: DatabaseSettings;
  /** `work` on a connection of the test's own to that store, closed afterwards. */
  withDatabase<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T>;
  /** Runs the bin against the server, expects exit 0 (naming the command and its stderr if not), returns stdout. */
  ok(...args: string[]): Promise<string>;
}

/**
 * Registers the suite's `before` and `after`: opens `setup`'s store, writes `config` (when given)
 * for the bin and the server alike, migrates where the store needs it, starts the server and points
 * the bin at it; afterwards stops and removes it all. The fields are readable from the suite's own
 * hooks and tests on, hooks registered after this call included.
 */
export function cliAgainstServer(setup: (typeof CLI_BACKENDS)[number], config?: string): CliAgainstServer {
  let backend: CliBackend | undefined;
  let written: TempConfig | undefined;
  let server: ServerProcess | undefined;
  let tollgate: Cli | undefined;

  before(async function () {
    requireBuild();
    backend = await setup.open(this);
    written = config === undefined ? undefined : writeConfig(config);
    const env = written === undefined ? backend.env : { ...backend.env, TOLLGATE_CONFIG: written.path };
    if (backend.migrate) {
      const migrated = await cliWith(env)('migrate');
      expect(migrated.code, migrated.stderr).to.equal(0);
    }
    server = await startServer({ env: { ...env, LITELLM_MASTER_KEY: CLI_MASTER_KEY } });
    tollgate = cliWith({ ...env, TOLLGATE_GRPC_ADDR: server.address });
  });

  after(async () => {
    await server?.stop();
    written?.cleanup();
    await backend?.cleanup();
  });

  function ready<T>(value: T | undefined): T {
    if (value === undefined) throw new Error(`the server on ${setup.name} is not running: read before the suite's before hook`);
    return value;
  }
  const database = (): DatabaseSettings => {
    const { env } = ready(backend);
    return { databaseUrl: env.DATABASE_URL ?? null, sqlitePath: env.TOLLGATE_SQLITE_PATH ?? '', dbTimeoutMs: 2000 };
  };
  return {
    get backend() {
      return ready(backend);
    },
    get database() {
      return database();
    },
    async withDatabase(work) {
      const dataSource = createDataSource(database());
      await dataSource.initialize();
      try {
        return await work(dataSource);
      } finally {
        await dataSource.destroy();
      }
    },
    async ok(...args) {
      const result = await ready(tollgate)(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
      return result.stdout;
    },
    get server() {
      return ready(server);
    },
    get tollgate() {
      return ready(tollgate);
    },
  };
}
