/**
 * The invalidation generation counter kept in the database (table Tollgate_CacheGeneration).
 * The CLI and every `tollgate serve` process share the database, so a write made by the CLI
 * reaches a running server within one poll with or without Redis — also when Redis is configured
 * but down, or its pub/sub message was lost.
 *
 * The bump and the read-back are two statements: two concurrent writers may both read the later
 * value. A listener then sees a jump of two and clears its whole cache, which is safe.
 */
import type { GenerationCounter } from './invalidation';

export type SqlRunner = (sql: string, parameters: readonly unknown[]) => Promise<unknown>;

export const GENERATION_TABLE = 'Tollgate_CacheGeneration';

export class DbGenerationCounter implements GenerationCounter {
  constructor(private readonly run: SqlRunner) {}

  async current(): Promise<number> {
    const rows = await this.run(`SELECT generation FROM ${GENERATION_TABLE} WHERE id = ?`, [1]);
    if (!Array.isArray(rows) || rows.length === 0) return 0;
    const value: unknown = (rows[0] as Record<string, unknown>).generation;
    return Number(value) || 0;
  }

  async bump(): Promise<number> {
    // Single-row counter: atomic increment on both MySQL and SQLite.
    await this.run(`UPDATE ${GENERATION_TABLE} SET generation = generation + 1 WHERE id = ?`, [1]);
    return this.current();
  }
}
