/**
 * A small, dialect-neutral description of tables, rendered to MySQL/MariaDB or SQLite DDL.
 *
 * Why not TypeORM's Table API: it renders defaults and charsets differently per driver and cannot
 * express MySQL expression defaults (`(JSON_ARRAY())`) together with a table collation. Writing
 * the SQL here keeps the exact DDL readable in one place, and every statement is idempotent
 * (`IF NOT EXISTS`, or an information_schema probe where MySQL lacks it).
 *
 * All names come from constants in the migrations, never from input.
 */
import type { QueryRunner } from 'typeorm';
import type { Dialect } from '../dialect';

/** How a Prisma type is stored (litellm-schema.md §4). */
export type ColumnType =
  | 'varchar' // ids, aliases and other short strings: VARCHAR(255), so they can be keys
  | 'token' // sha256 hex: VARCHAR(64)
  | 'text' // free text
  | 'string[]' // JSON array of strings
  | 'json'
  | 'double'
  | 'int'
  | 'bigint'
  | 'boolean'
  | 'datetime'; // DATETIME(3), UTC

export type ColumnDefault =
  | { readonly now: true }
  | { readonly json: '[]' | '{}' }
  | { readonly value: string | number | boolean };

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly default?: ColumnDefault;
  /** MySQL `ON UPDATE CURRENT_TIMESTAMP(3)` (Prisma `@updatedAt`); on SQLite the writer sets it. */
  readonly updatedAt?: boolean;
  readonly autoIncrement?: boolean;
}

export interface IndexSpec {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique?: boolean;
}

export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly indexes?: readonly IndexSpec[];
}

// Builders, so a table reads like its Prisma model.
type Options = Partial<Pick<ColumnSpec, 'nullable' | 'default' | 'updatedAt' | 'autoIncrement'>>;
const column =
  (type: ColumnType, nullableByDefault: boolean) =>
  (name: string, options: Options = {}): ColumnSpec => ({ name, type, nullable: nullableByDefault, ...options });

/** `String?` (use `{ nullable: false }` for `String`). */
export const str = column('varchar', true);
export const text = column('text', true);
export const token = column('token', false);
/** `String[]`: nullable, default `[]` (a NULL still reads as `[]`). */
export const list = (name: string): ColumnSpec => ({ name, type: 'string[]', nullable: true, default: { json: '[]' } });
/** `Json @default("{}")`: NOT NULL. */
export const jsonObject = (name: string): ColumnSpec => ({ name, type: 'json', nullable: false, default: { json: '{}' } });
/** `Json?` with an optional default. */
export const json = column('json', true);
export const double = column('double', true);
/** `Float @default(0.0)`. */
export const spend = (name: string): ColumnSpec => ({ name, type: 'double', nullable: false, default: { value: 0 } });
export const int = column('int', true);
export const bigint = column('bigint', true);
export const bool = (name: string, defaultValue: boolean): ColumnSpec => ({
  name,
  type: 'boolean',
  nullable: false,
  default: { value: defaultValue },
});
export const datetime = column('datetime', true);
/** `created_at DateTime @default(now())` / `updated_at … @updatedAt`, nullable as given. */
export const createdAt = (nullable = false): ColumnSpec => datetime('created_at', { nullable, default: { now: true } });
export const updatedAt = (nullable = false): ColumnSpec =>
  datetime('updated_at', { nullable, default: { now: true }, updatedAt: true });

const MYSQL_TYPES: Record<ColumnType, string> = {
  varchar: 'VARCHAR(255)',
  token: 'VARCHAR(64)',
  text: 'TEXT',
  'string[]': 'JSON',
  json: 'JSON',
  double: 'DOUBLE',
  int: 'INT',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
  datetime: 'DATETIME(3)',
};

// SQLite type names chosen for their affinity: TEXT for strings and JSON, REAL for doubles.
// DATETIME keeps TypeORM's convention ('YYYY-MM-DD HH:MM:SS.SSS' UTC text).
const SQLITE_TYPES: Record<ColumnType, string> = {
  varchar: 'VARCHAR(255)',
  token: 'VARCHAR(64)',
  text: 'TEXT',
  'string[]': 'TEXT',
  json: 'TEXT',
  double: 'DOUBLE',
  int: 'INTEGER',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
  datetime: 'DATETIME',
};

export function quote(dialect: Dialect, identifier: string): string {
  return dialect === 'mysql' ? `\`${identifier}\`` : `"${identifier}"`;
}

function literal(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

function renderDefault(dialect: Dialect, spec: ColumnSpec, value: ColumnDefault): string {
  if ('now' in value) {
    return dialect === 'mysql' ? 'CURRENT_TIMESTAMP(3)' : "(strftime('%Y-%m-%d %H:%M:%f', 'now'))";
  }
  if ('json' in value) {
    // MySQL 8 accepts only expression defaults on JSON; MariaDB (JSON = LONGTEXT) accepts both.
    if (dialect === 'mysql') return value.json === '[]' ? '(JSON_ARRAY())' : '(JSON_OBJECT())';
    return literal(value.json);
  }
  // MySQL 8 allows a TEXT default only as an expression.
  return dialect === 'mysql' && spec.type === 'text' ? `(${literal(value.value)})` : literal(value.value);
}

function renderColumn(dialect: Dialect, spec: ColumnSpec, isKeyColumn: boolean): string {
  const name = quote(dialect, spec.name);
  if (spec.autoIncrement === true) {
    // SQLite only auto-increments an INTEGER PRIMARY KEY declared inline.
    return dialect === 'mysql' ? `${name} INT NOT NULL AUTO_INCREMENT` : `${name} INTEGER PRIMARY KEY AUTOINCREMENT`;
  }
  const parts = [name, (dialect === 'mysql' ? MYSQL_TYPES : SQLITE_TYPES)[spec.type]];
  parts.push(spec.nullable && !isKeyColumn ? 'NULL' : 'NOT NULL');
  if (spec.default !== undefined) parts.push('DEFAULT', renderDefault(dialect, spec, spec.default));
  if (spec.updatedAt === true && dialect === 'mysql') parts.push('ON UPDATE CURRENT_TIMESTAMP(3)');
  return parts.join(' ');
}

export function createTableSql(dialect: Dialect, table: TableSpec): string {
  const autoIncrementKey = table.columns.some((c) => c.autoIncrement === true && table.primaryKey.includes(c.name));
  const definitions = table.columns.map((c) => renderColumn(dialect, c, table.primaryKey.includes(c.name)));
  if (!(dialect === 'sqlite' && autoIncrementKey)) {
    definitions.push(`PRIMARY KEY (${table.primaryKey.map((c) => quote(dialect, c)).join(', ')})`);
  }
  const body = definitions.map((d) => `  ${d}`).join(',\n');
  // utf8mb4_bin: ids compare exactly, as in LiteLLM's Postgres (case-sensitive, no accent folding).
  const options = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  return `CREATE TABLE IF NOT EXISTS ${quote(dialect, table.name)} (\n${body}\n)${options}`;
}

export function createIndexSql(dialect: Dialect, table: string, index: IndexSpec): string {
  const columns = index.columns.map((c) => quote(dialect, c)).join(', ');
  const ifNotExists = dialect === 'sqlite' ? 'IF NOT EXISTS ' : '';
  const unique = index.unique === true ? 'UNIQUE ' : '';
  return `CREATE ${unique}INDEX ${ifNotExists}${quote(dialect, index.name)} ON ${quote(dialect, table)} (${columns})`;
}

/** Anything that runs a parameterized statement: a migration's QueryRunner or a DataSource. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** Whether a MySQL/MariaDB table of the current database has the column. */
export async function mysqlColumnExists(runner: SqlRunner, table: string, column: string): Promise<boolean> {
  const rows = (await runner.query(
    'SELECT 1 AS present FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ? LIMIT 1',
    [table, column],
  )) as unknown[];
  return rows.length > 0;
}

/**
 * Whether the current database has the table: for tables an operator's LiteLLM schema may predate
 * (the store then reads them as empty instead of failing every lookup).
 */
export async function tableExists(runner: SqlRunner, dialect: Dialect, table: string): Promise<boolean> {
  const rows = (await runner.query(
    dialect === 'mysql'
      ? 'SELECT 1 AS present FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ? LIMIT 1'
      : "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = ? LIMIT 1",
    [table],
  )) as unknown[];
  return rows.length > 0;
}

export async function mysqlIndexExists(queryRunner: QueryRunner, table: string, index: string): Promise<boolean> {
  // MySQL 8 has no CREATE INDEX IF NOT EXISTS (MariaDB does): ask information_schema instead.
  const rows: unknown[] = await queryRunner.query(
    'SELECT 1 AS present FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1',
    [table, index],
  );
  return rows.length > 0;
}

/** Creates the table and each of its indexes unless they already exist. */
export async function ensureTable(queryRunner: QueryRunner, dialect: Dialect, table: TableSpec): Promise<void> {
  await queryRunner.query(createTableSql(dialect, table));
  for (const index of table.indexes ?? []) {
    if (dialect === 'mysql' && (await mysqlIndexExists(queryRunner, table.name, index.name))) continue;
    await queryRunner.query(createIndexSql(dialect, table.name, index));
  }
}

export async function dropTable(queryRunner: QueryRunner, dialect: Dialect, table: TableSpec): Promise<void> {
  await queryRunner.query(`DROP TABLE IF EXISTS ${quote(dialect, table.name)}`);
}
