/**
 * One row by primary key through a statement whose SQL is built once, hydrated with TypeORM's own
 * column conversions (`driver.prepareHydratedValue`: booleans, dates, JSON, column transformers),
 * so the record is what the query builder's `getOne()` returns.
 *
 * Why: the query builder regenerates, re-aliases and re-escapes its SQL on every call. For the key
 * lookup a cold Check waits on, that was more CPU than the database spent answering.
 */
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

export class PrimaryKeyLookup<R extends ObjectLiteral> {
  private readonly sql: string;
  private readonly columns: readonly ColumnMetadata[];

  constructor(
    private readonly dataSource: DataSource,
    private readonly target: EntityTarget<R>,
  ) {
    const metadata = dataSource.getMetadata(target);
    const [key, ...more] = metadata.primaryColumns;
    if (key === undefined || more.length > 0) throw new Error(`${metadata.name}: a single-column primary key is required`);
    const escape = (name: string): string => dataSource.driver.escape(name);
    // Relations and embedded columns would need the query builder's joins and aliases.
    if (metadata.relations.length > 0 || metadata.embeddeds.length > 0) throw new Error(`${metadata.name}: plain columns only`);
    this.columns = metadata.columns;
    // `?` is the placeholder of both drivers Tollgate uses (mysql2 and better-sqlite3).
    this.sql = `SELECT ${this.columns.map((c) => escape(c.databaseName)).join(', ')} FROM ${escape(metadata.tableName)} WHERE ${escape(key.databaseName)} = ?`;
  }

  async find(id: string): Promise<R | null> {
    const rows: unknown = await this.dataSource.query(this.sql, [id]);
    const row = Array.isArray(rows) ? (rows[0] as Record<string, unknown> | undefined) : undefined;
    if (row === undefined) return null;
    const record = this.dataSource.getMetadata(this.target).create() as Record<string, unknown>;
    for (const column of this.columns) {
      const value: unknown = row[column.databaseName];
      // The query builder leaves a column out of the entity when the driver returned nothing for it.
      if (value !== undefined) record[column.propertyName] = this.dataSource.driver.prepareHydratedValue(value, column);
    }
    return record as R;
  }
}
