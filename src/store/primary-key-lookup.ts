/**
 * One row by primary key through a statement whose SQL is built once, hydrated with TypeORM's own
 * column conversions (`driver.prepareHydratedValue`: booleans, dates, JSON, column transformers),
 * so the record is what the query builder's `getOne()` returns. `findMany` reads several rows the
 * same way in one statement (`WHERE key IN (?, …)`), its SQL built once per number of keys.
 *
 * Why: the query builder regenerates, re-aliases and re-escapes its SQL on every call. For the key
 * lookup a cold Check waits on, that was more CPU than the database spent answering.
 */
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { StoreInvariantError } from './invariant-error';

/** Most keys `findMany` takes in one statement; it also bounds the SQL cached per number of keys. */
export const MAX_KEYS_PER_STATEMENT = 100;

/** `build(n)` once per n in 1..MAX_KEYS_PER_STATEMENT, as `findMany` of both lookups needs it. */
export class SqlPerKeyCount {
  private readonly cache = new Map<number, string>();

  constructor(private readonly build: (count: number) => string) {}

  sql(count: number): string {
    if (!Number.isInteger(count) || count < 1 || count > MAX_KEYS_PER_STATEMENT) {
      throw new RangeError(`between 1 and ${MAX_KEYS_PER_STATEMENT} keys per statement, not ${count}`);
    }
    let sql = this.cache.get(count);
    if (sql === undefined) {
      sql = this.build(count);
      this.cache.set(count, sql);
    }
    return sql;
  }
}

export class PrimaryKeyLookup<R extends ObjectLiteral> {
  private readonly sql: string;
  private readonly many: SqlPerKeyCount;
  private readonly columns: readonly ColumnMetadata[];

  constructor(
    private readonly dataSource: DataSource,
    private readonly target: EntityTarget<R>,
  ) {
    const metadata = dataSource.getMetadata(target);
    const [key, ...more] = metadata.primaryColumns;
    if (key === undefined || more.length > 0) throw new StoreInvariantError(`${metadata.name}: a single-column primary key is required`);
    const escape = (name: string): string => dataSource.driver.escape(name);
    // Relations and embedded columns would need the query builder's joins and aliases.
    if (metadata.relations.length > 0 || metadata.embeddeds.length > 0) throw new StoreInvariantError(`${metadata.name}: plain columns only`);
    this.columns = metadata.columns;
    // `?` is the placeholder of both drivers Tollgate uses (mysql2 and better-sqlite3).
    const select = `SELECT ${this.columns.map((c) => escape(c.databaseName)).join(', ')} FROM ${escape(metadata.tableName)}`;
    this.sql = `${select} WHERE ${escape(key.databaseName)} = ?`;
    this.many = new SqlPerKeyCount((count) => `${select} WHERE ${escape(key.databaseName)} IN (${Array<string>(count).fill('?').join(', ')})`);
  }

  async find(id: string): Promise<R | null> {
    const [row] = await this.query(this.sql, [id]);
    return row === undefined ? null : this.hydrate(row);
  }

  /**
   * The records among `ids` (at most MAX_KEYS_PER_STATEMENT, each once), in no particular order;
   * an id that matches nothing is simply absent. Each record is the one `find` returns.
   */
  async findMany(ids: readonly string[]): Promise<R[]> {
    if (ids.length === 0) return [];
    const rows = await this.query(this.many.sql(ids.length), [...ids]);
    return rows.map((row) => this.hydrate(row));
  }

  private async query(sql: string, parameters: string[]): Promise<Record<string, unknown>[]> {
    const rows: unknown = await this.dataSource.query(sql, parameters);
    return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
  }

  private hydrate(row: Record<string, unknown>): R {
    const record = this.dataSource.getMetadata(this.target).create() as Record<string, unknown>;
    for (const column of this.columns) {
      const value: unknown = row[column.databaseName];
      // The query builder leaves a column out of the entity when the driver returned nothing for it.
      if (value !== undefined) record[column.propertyName] = this.dataSource.driver.prepareHydratedValue(value, column);
    }
    return record as R;
  }
}
