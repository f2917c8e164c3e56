/** The two SQL dialects Tollgate speaks: MySQL/MariaDB in production, SQLite embedded. */
import type { DataSource } from 'typeorm';

export type Dialect = 'mysql' | 'sqlite';

export function dialectOf(dataSource: DataSource): Dialect {
  const type = dataSource.options.type;
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  if (type === 'better-sqlite3' || type === 'sqlite') return 'sqlite';
  throw new Error(`unsupported database type: ${type}`);
}
