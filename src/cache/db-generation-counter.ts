/**
 * The invalidation generation counter kept in the database (table Tollgate_CacheGeneration).
 * The CLI and every `tollgate serve` process share the database, so a write made by the CLI
 * reaches a running server within one poll with or without Redis — also when Redis is configured
 * but down, or its pub/sub message was lost.
 *
 * A bump reads its own value back in the transaction that made it: the row stays locked until the
 * commit, so two concurrent writers get two different generations. (Read back outside it, both
 * could get the later one; a listener that had polled the earlier value in between would then take
 * the two announcements for one and never learn that it lost the other.)
 */
import { withDeadline } from '../store/deadline';
import type { GenerationCounter } from './invalidation';

export type SqlRunner = (sql: string, parameters: readonly unknown[]) => Promise<unknown>;
/** Runs `work` in one transaction on one connection, handing it that connection's runner. */
export type InTransaction = <T>(work: (run: SqlRunner) => Promise<T>) => Promise<T>;

export const GENERATION_TABLE = 'Tollgate_CacheGeneration';

export class DbGenerationCounter implements GenerationCounter {
  /**
   * `timeoutMs` bounds each call: a poll that hangs (a stuck pool, a database failing over) would
   * otherwise stop every later poll, the fallback when pub/sub messages are lost.
   */
  constructor(
    private readonly run: SqlRunner,
    private readonly inTransaction: InTransaction,
    private readonly timeoutMs: number,
  ) {}

  current(): Promise<number> {
    return withDeadline('generation read', this.timeoutMs, () => readGeneration(this.run));
  }

  bump(): Promise<number> {
    return withDeadline('generation bump', this.timeoutMs, () =>
      this.inTransaction(async (run) => {
        // Single-row counter: atomic increment on both MySQL and SQLite.
        await run(`UPDATE ${GENERATION_TABLE} SET generation = generation + 1 WHERE id = ?`, [1]);
        const bumped = await readGenerationRow(run);
        // Without its row nothing was bumped: the polls would never see a change, so say so.
        if (bumped === null) throw new Error(`${GENERATION_TABLE} has no row 1 (run \`tollgate migrate\`)`);
        return bumped;
      }),
    );
  }
}

async function readGeneration(run: SqlRunner): Promise<number> {
  return (await readGenerationRow(run)) ?? 0;
}

/** The counter's value; null when its row is missing. */
async function readGenerationRow(run: SqlRunner): Promise<number | null> {
  const rows = await run(`SELECT generation FROM ${GENERATION_TABLE} WHERE id = ?`, [1]);
  if (!Array.isArray(rows) || rows.length === 0) return null;
  const value: unknown = (rows[0] as Record<string, unknown>).generation;
  return Number(value) || 0;
}
