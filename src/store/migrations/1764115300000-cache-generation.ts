/**
 * `Tollgate_CacheGeneration`: the single-row counter `cache/db-generation-counter.ts` bumps after
 * every management write, with or without Redis, so running servers learn to drop their cached
 * rows even when a pub/sub message is lost. The row (id 1) is seeded here because the counter only
 * ever UPDATEs it.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../dialect';
import { bigint, dropTable, ensureTable, int, quote, type TableSpec } from './ddl';

const CACHE_GENERATION: TableSpec = {
  name: 'Tollgate_CacheGeneration',
  primaryKey: ['id'],
  columns: [int('id', { nullable: false }), bigint('generation', { nullable: false, default: { value: 0 } })],
};

export class CacheGeneration1764115300000 implements MigrationInterface {
  readonly name = 'CacheGeneration1764115300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner.connection);
    await ensureTable(queryRunner, dialect, CACHE_GENERATION);
    const insert = dialect === 'mysql' ? 'INSERT IGNORE INTO' : 'INSERT OR IGNORE INTO';
    await queryRunner.query(`${insert} ${quote(dialect, CACHE_GENERATION.name)} (id, generation) VALUES (?, ?)`, [1, 0]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTable(queryRunner, dialectOf(queryRunner.connection), CACHE_GENERATION);
  }
}
