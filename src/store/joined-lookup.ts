/**
 * One row by primary key with one relation LEFT JOINed, through a statement whose SQL is built once
 * from TypeORM's metadata and hydrated the way the query builder's `getOne()` hydrates it
 * (RawSqlResultsToEntityTransformer in TypeORM 0.3), so the record is the one
 * `createQueryBuilder('r').leftJoinAndSelect('r.<relation>', 'j').where(<primary key>).getOne()`
 * returns:
 *
 * - every column goes through `driver.prepareHydratedValue` (booleans, dates, JSON, transformers),
 *   and a column the driver returned nothing (`undefined`) for is left out of the entity;
 * - a joined entity whose columns are all NULL (the LEFT JOIN found nothing) does not exist: a
 *   many-to-one is then `null`, a one-to-many leaves it out of the list (so zero rows give `[]`);
 * - one-to-many rows are grouped by the joined entity's primary key, in the order they arrive.
 *
 * `findMany` reads several root rows in one statement (`WHERE key IN (?, …)`, or for a composite
 * key `(a = ? AND b = ?) OR …`), its SQL built once per number of keys; the rows are grouped by
 * the root's primary key first (a one-to-many's rows of several roots may interleave), and each
 * group becomes the record `find` returns for that root.
 *
 * Why: the query builder regenerates, re-aliases and re-escapes its SQL and re-plans its transform
 * on every call; on a cold Check that is more CPU than the database spends answering.
 */
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import { SqlPerKeyCount } from './primary-key-lookup';
import { StoreInvariantError } from './invariant-error';

type Row = Record<string, unknown>;

/** A selected column, the table alias it is read from and the name it comes back under. */
interface Selected {
  readonly table: string;
  readonly alias: string;
  readonly column: ColumnMetadata;
}

const ROOT = 'r';
const JOINED = 'j';

export class JoinedLookup<R extends ObjectLiteral> {
  private readonly sql: string;
  private readonly many: SqlPerKeyCount;
  private readonly keyLength: number;
  private readonly metadata: EntityMetadata;
  private readonly relation: RelationMetadata;
  private readonly rootColumns: readonly Selected[];
  private readonly joinedColumns: readonly Selected[];
  /** Aliases of the joined entity's primary key: one-to-many rows are grouped by them. */
  private readonly joinedKey: readonly string[];
  /** Aliases of the root's primary key: `findMany` groups rows by them. */
  private readonly rootKey: readonly string[];

  /**
   * `key` names the root's primary key columns (all of them, in the order `find` takes their
   * values), so a lookup matches at most one root row. Columns declared `select: false` are read
   * only when `alsoSelect` names them (as the query builder's `addSelect`).
   */
  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<R>,
    relationName: keyof R & string,
    key: readonly (keyof R & string)[],
    alsoSelect: readonly (keyof R & string)[] = [],
  ) {
    const metadata = dataSource.getMetadata(target);
    this.metadata = metadata;
    const relation = metadata.findRelationWithPropertyPath(relationName);
    if (relation === undefined) throw new StoreInvariantError(`${metadata.name}: no relation ${relationName}`);
    if (!relation.isManyToOne && !relation.isOneToMany) throw new StoreInvariantError(`${metadata.name}.${relationName}: many-to-one or one-to-many only`);
    this.relation = relation;
    const joined = relation.inverseEntityMetadata;
    // Embedded columns and inheritance would need the query builder's nested aliases.
    for (const entity of [metadata, joined]) {
      if (entity.embeddeds.length > 0 || entity.childEntityMetadatas.length > 0 || entity.discriminatorColumn !== undefined) {
        throw new StoreInvariantError(`${entity.name}: plain columns only`);
      }
    }
    const keyColumns = key.flatMap((name) => metadata.primaryColumns.filter((column) => column.propertyName === name));
    if (keyColumns.length !== key.length || new Set(keyColumns).size !== metadata.primaryColumns.length) {
      throw new StoreInvariantError(`${metadata.name}: the key must be the primary key (${metadata.primaryColumns.map((c) => c.propertyName).join(', ')})`);
    }

    const escape = (name: string): string => dataSource.driver.escape(name);
    const selected = (column: ColumnMetadata): boolean =>
      !column.isVirtual && (column.isSelect || (column.entityMetadata === metadata && (alsoSelect as readonly string[]).includes(column.propertyName)));
    const select = (table: string, entity: EntityMetadata): Selected[] =>
      entity.columns.filter(selected).map((column) => ({ table, alias: `${table}_${column.databaseName}`, column }));
    this.rootColumns = select(ROOT, metadata);
    this.joinedColumns = select(JOINED, joined);
    this.joinedKey = joined.primaryColumns.map((column) => `${JOINED}_${column.databaseName}`);
    this.rootKey = keyColumns.map((column) => `${ROOT}_${column.databaseName}`);
    this.keyLength = keyColumns.length;

    // The ON clause TypeORM writes: the owning side's join columns against the columns they reference.
    const on = relation.isManyToOne
      ? relation.joinColumns.map((c) => `${escape(JOINED)}.${escape(referenced(c).databaseName)} = ${escape(ROOT)}.${escape(c.databaseName)}`)
      : (relation.inverseRelation?.joinColumns ?? []).map(
          (c) => `${escape(JOINED)}.${escape(c.databaseName)} = ${escape(ROOT)}.${escape(referenced(c).databaseName)}`,
        );
    if (on.length === 0) throw new StoreInvariantError(`${metadata.name}.${relationName}: no join columns`);
    const columns = [...this.rootColumns, ...this.joinedColumns].map(
      ({ table, alias, column }) => `${escape(table)}.${escape(column.databaseName)} AS ${escape(alias)}`,
    );
    const keyNames = keyColumns.map((column) => `${escape(ROOT)}.${escape(column.databaseName)}`);
    const matchOne = keyNames.map((name) => `${name} = ?`).join(' AND ');
    // No LIMIT: the key is the primary key, and a one-to-many needs every joined row.
    // `?` is the placeholder of both drivers Tollgate uses (mysql2 and better-sqlite3).
    const from =
      `SELECT ${columns.join(', ')} FROM ${escape(metadata.tableName)} ${escape(ROOT)}` +
      ` LEFT JOIN ${escape(joined.tableName)} ${escape(JOINED)} ON ${on.join(' AND ')}`;
    this.sql = `${from} WHERE ${matchOne}`;
    const [single] = keyNames;
    this.many = new SqlPerKeyCount((count) =>
      keyNames.length === 1 && single !== undefined
        ? `${from} WHERE ${single} IN (${Array<string>(count).fill('?').join(', ')})`
        : `${from} WHERE ${Array<string>(count).fill(`(${matchOne})`).join(' OR ')}`,
    );
  }

  /** The record whose primary key is `key` (values in the constructor's key order), or null. */
  async find(key: readonly string[]): Promise<R | null> {
    return this.record(await this.query(this.sql, [...key]));
  }

  /**
   * The records among `keys` (each in the constructor's key order; at most
   * MAX_KEYS_PER_STATEMENT, each once), in no particular order; a key that matches nothing is
   * simply absent. Each record is the one `find` returns for its primary key.
   */
  async findMany(keys: readonly (readonly string[])[]): Promise<R[]> {
    if (keys.length === 0) return [];
    if (keys.some((key) => key.length !== this.keyLength)) throw new StoreInvariantError(`${this.metadata.name}: each key needs ${this.keyLength} values`);
    const byRoot = new Map<string, Row[]>();
    for (const row of await this.query(this.many.sql(keys.length), keys.flat())) {
      const root = JSON.stringify(this.rootKey.map((alias) => row[alias] ?? null));
      const group = byRoot.get(root);
      if (group === undefined) byRoot.set(root, [row]);
      else group.push(row);
    }
    const records: R[] = [];
    for (const rows of byRoot.values()) {
      const record = this.record(rows);
      if (record !== null) records.push(record);
    }
    return records;
  }

  private async query(sql: string, parameters: string[]): Promise<Row[]> {
    const result: unknown = await this.dataSource.query(sql, parameters);
    return Array.isArray(result) ? (result as Row[]) : [];
  }

  /** The record of one root's rows (one row for a many-to-one), or null when there are none. */
  private record(rows: readonly Row[]): R | null {
    const first = rows[0];
    if (first === undefined) return null;
    const record = this.hydrate(this.metadata, this.rootColumns, first);
    if (record === undefined) return null;
    const joined = this.relation.inverseEntityMetadata;
    if (this.relation.isManyToOne) {
      record[this.relation.propertyName] = this.hydrate(joined, this.joinedColumns, first) ?? null;
    } else {
      const seen = new Set<string>();
      const list: Row[] = [];
      for (const row of rows) {
        const id = JSON.stringify(this.joinedKey.map((alias) => row[alias] ?? null));
        if (seen.has(id)) continue;
        seen.add(id);
        const entity = this.hydrate(joined, this.joinedColumns, row);
        if (entity !== undefined) list.push(entity);
      }
      record[this.relation.propertyName] = list;
    }
    return record as R;
  }

  /** An entity from one row's columns, or undefined when all of them are NULL (nothing joined). */
  private hydrate(entity: EntityMetadata, columns: readonly Selected[], row: Row): Row | undefined {
    const record = entity.create(undefined, { fromDeserializer: true }) as Row;
    let hasData = false;
    for (const { alias, column } of columns) {
      const value = row[alias];
      if (value === undefined) continue;
      // As TypeORM: an all-NULL row is no entity (a virtual property's value does not count).
      if (value !== null && !column.isVirtualProperty) hasData = true;
      record[column.propertyName] = this.dataSource.driver.prepareHydratedValue(value, column);
    }
    return hasData ? record : undefined;
  }
}

function referenced(column: ColumnMetadata): ColumnMetadata {
  if (column.referencedColumn === undefined) throw new StoreInvariantError(`${column.entityMetadata.name}.${column.propertyName}: no referenced column`);
  return column.referencedColumn;
}
