/**
 * Each test run gets its own database `tollgate_test_<hex>` on the machine's shared MariaDB/MySQL,
 * dropped afterwards (only that database: the server is shared, never stopped or flushed).
 * Also a temporary SQLite file for the embedded backend.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';

/** Server URL without a database; the tests add their own. */
export const TEST_MYSQL_URL = process.env.TOLLGATE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export interface TestMysqlDatabase {
  /** DATABASE_URL of the fresh database. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

function serverUrl(): URL {
  const url = new URL(TEST_MYSQL_URL);
  url.pathname = '/';
  url.search = '';
  return url;
}

/** host:port only: the URL may carry a password. */
function where(): string {
  const url = serverUrl();
  return `${url.hostname}:${url.port || '3306'}`;
}

async function connectToServer(): Promise<Connection> {
  const url = serverUrl();
  return createConnection({
    host: url.hostname,
    port: url.port === '' ? 3306 : Number(url.port),
    user: decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    connectTimeout: 2000,
  });
}

/** In CI a missing MySQL fails the run; locally the suite is skipped with a clear reason. */
export async function requireMysql(ctx: Mocha.Context): Promise<TestMysqlDatabase> {
  let admin: Connection;
  try {
    admin = await connectToServer();
  } catch (error) {
    const reason = `MySQL is down: MariaDB/MySQL is not reachable at ${where()} (${(error as Error).message}); set TOLLGATE_TEST_MYSQL_URL to use another server`;
    if (process.env.CI) throw new Error(`${reason} (CI requires it)`);
    console.warn(`      skipped: ${reason}`);
    ctx.skip();
  }
  // Hex only, so the name is safe to place in DDL (identifiers cannot be bound as parameters).
  const name = `tollgate_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const url = serverUrl();
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop(): Promise<void> {
      const connection = await connectToServer();
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}

export interface TempSqlite {
  readonly path: string;
  cleanup(): void;
}

/** A SQLite path inside a fresh temporary directory (the file itself is not created yet). */
export function tempSqlitePath(fileName = 'tollgate.db'): TempSqlite {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-test-'));
  return {
    path: join(dir, fileName),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
