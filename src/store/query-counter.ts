/**
 * A TypeORM Logger that counts the statements sent to the database.
 *
 * The cache layer promises "N concurrent misses cost 1 query" and "a warm key costs 0 queries";
 * tests prove it by reading `count` before and after. Every statement counts, whatever the
 * `logging` option says, because TypeORM calls `logQuery` unconditionally and we don't filter.
 * An optional delegate keeps real logging working alongside the count.
 */
import type { DataSource, Logger, QueryRunner } from 'typeorm';

export class QueryCounter implements Logger {
  private statements = 0;

  constructor(private readonly delegate?: Logger) {}

  /** Statements sent since creation or the last `reset()`. */
  get count(): number {
    return this.statements;
  }

  reset(): void {
    this.statements = 0;
  }

  logQuery(query: string, parameters?: unknown[], queryRunner?: QueryRunner): void {
    this.statements += 1;
    this.delegate?.logQuery(query, parameters, queryRunner);
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[], queryRunner?: QueryRunner): void {
    this.delegate?.logQueryError(error, query, parameters, queryRunner);
  }

  logQuerySlow(time: number, query: string, parameters?: unknown[], queryRunner?: QueryRunner): void {
    this.delegate?.logQuerySlow(time, query, parameters, queryRunner);
  }

  logSchemaBuild(message: string, queryRunner?: QueryRunner): void {
    this.delegate?.logSchemaBuild(message, queryRunner);
  }

  logMigration(message: string, queryRunner?: QueryRunner): void {
    this.delegate?.logMigration(message, queryRunner);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown, queryRunner?: QueryRunner): void {
    this.delegate?.log(level, message, queryRunner);
  }
}

/** The counter installed by `createDataSource`. */
export function queryCounterOf(dataSource: DataSource): QueryCounter {
  const logger = dataSource.logger;
  if (!(logger instanceof QueryCounter)) {
    throw new Error('this DataSource was not created by createDataSource(): it has no QueryCounter');
  }
  return logger;
}
