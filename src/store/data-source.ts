/**
 * The TypeORM DataSource for LiteLLM's tables: MySQL/MariaDB from DATABASE_URL, or an embedded
 * SQLite file when no URL is set (spec README §1).
 *
 * `synchronize` is always off: the schema belongs to the migrations (and, in a shared database,
 * possibly to other tools), so TypeORM must never alter it on its own.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as mysql2 from 'mysql2';
import { DataSource, type DataSourceOptions, type Logger } from 'typeorm';
import type { Settings } from '../config/settings';
import { LITELLM_ENTITIES } from './entities';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations';
import { QueryCounter } from './query-counter';

export type DatabaseSettings = Pick<Settings, 'databaseUrl' | 'sqlitePath' | 'dbTimeoutMs'>;

export interface DataSourceExtras {
  /** Receives TypeORM's log calls (the QueryCounter wraps it). */
  readonly logger?: Logger;
}

const DEFAULT_POOL_SIZE = 10;

/**
 * mysql2 allocates its caches at full size up front: 4 arrays of 16 000 slots per pooled connection
 * for prepared statements, and 4 of 15 000 for compiled row parsers. TypeORM sends every query as
 * text, so the statement cache stays empty, and Tollgate's queries need a few dozen parsers.
 * At the defaults the empty slots were ~6 MB of a ~45 MB live heap, which every full collection
 * walks (docs/performance.md, "The heap under load").
 */
const MAX_PREPARED_STATEMENTS = 64;
const MAX_ROW_PARSERS = 1_000;

export interface MysqlConnectionParts {
  readonly type: 'mysql' | 'mariadb';
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string | undefined;
  readonly database: string;
  readonly poolSize: number;
  readonly ssl: boolean;
}

/**
 * Parses `mysql://user:pass@host:port/db` (also `mariadb://`). Query parameters understood:
 * `connection_limit` (Prisma's name for the pool size) and `ssl=true`.
 * Errors never repeat the URL, which holds the password.
 */
export function parseMysqlUrl(url: string): MysqlConnectionParts {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL (expected mysql://user:pass@host:3306/db)');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new Error(`DATABASE_URL scheme ${parsed.protocol} is not supported (expected mysql:// or mariadb://)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '') throw new Error('DATABASE_URL names no database (expected mysql://user:pass@host:3306/db)');
  const poolSize = Number(parsed.searchParams.get('connection_limit') ?? DEFAULT_POOL_SIZE);
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error('DATABASE_URL connection_limit must be a positive integer');
  return {
    type: parsed.protocol === 'mariadb:' ? 'mariadb' : 'mysql',
    host: parsed.hostname,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    username: decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    database,
    poolSize,
    ssl: ['true', '1', 'required'].includes(parsed.searchParams.get('ssl') ?? ''),
  };
}

/**
 * mysql2 with every pooled connection switched to UTC. The `timezone: 'Z'` option only tells
 * mysql2 how to convert JS Dates; the session time zone is what CURRENT_TIMESTAMP(3) defaults
 * and `ON UPDATE` use, and it must agree so every DATETIME column holds UTC.
 */
function mysql2WithUtcSessions(): Record<string, unknown> {
  const createPool = (config: mysql2.PoolOptions): mysql2.Pool => {
    const pool = mysql2.createPool(config);
    pool.on('connection', (connection) => {
      // Queued before any other statement on this connection.
      connection.query("SET time_zone = '+00:00'", (error) => {
        if (error) connection.destroy();
      });
    });
    return pool;
  };
  return { ...mysql2, createPool };
}

function mysqlOptions(url: string, settings: DatabaseSettings): DataSourceOptions {
  const parts = parseMysqlUrl(url);
  // The parser cache is mysql2's, one per process, not per pool: set here, where MySQL is chosen.
  mysql2.setMaxParserCache(MAX_ROW_PARSERS);
  return {
    type: parts.type,
    host: parts.host,
    port: parts.port,
    username: parts.username,
    password: parts.password,
    database: parts.database,
    poolSize: parts.poolSize,
    ssl: parts.ssl ? {} : undefined,
    charset: 'utf8mb4',
    timezone: 'Z',
    connectTimeout: settings.dbTimeoutMs,
    connectorPackage: 'mysql2',
    driver: mysql2WithUtcSessions(),
    // Pooled connections stay warm so a cache miss doesn't pay a TCP + auth handshake.
    extra: { enableKeepAlive: true, keepAliveInitialDelay: 10_000, waitForConnections: true, maxPreparedStatements: MAX_PREPARED_STATEMENTS },
  };
}

function sqliteOptions(settings: DatabaseSettings): DataSourceOptions {
  if (settings.sqlitePath !== ':memory:') mkdirSync(dirname(settings.sqlitePath), { recursive: true });
  return {
    type: 'better-sqlite3',
    database: settings.sqlitePath,
    // WAL lets `tollgate` CLI writes and the server's reads proceed side by side.
    enableWAL: true,
    // How long a statement waits for another process's write lock before failing.
    timeout: settings.dbTimeoutMs,
  };
}

/** A configured, not yet initialized DataSource; call `initialize()` before use. */
export function createDataSource(settings: DatabaseSettings, extras: DataSourceExtras = {}): DataSource {
  const base = settings.databaseUrl === null ? sqliteOptions(settings) : mysqlOptions(settings.databaseUrl, settings);
  return new DataSource({
    ...base,
    entities: [...LITELLM_ENTITIES],
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    logger: new QueryCounter(extras.logger),
  });
}
