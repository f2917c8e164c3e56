/**
 * Writes a batch of SpendEvents to the database in one transaction: the LiteLLM_SpendLogs rows
 * and the spend columns of every entity charged.
 *
 * Idempotent by construction: `request_id` (the event's charge id) is SpendLogs' primary key, and a column is only added
 * to for events whose log row this same transaction inserts. Replaying a batch (a crash after
 * the commit but before the queue acknowledgement) therefore changes nothing. Two writers racing
 * on the same events (a reclaimed entry whose first consumer was only slow) collide on the
 * primary key; the loser retries and finds the rows already there.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf, type Dialect } from '../store/dialect';
import { quote } from '../store/migrations/ddl';
import { inTransaction } from '../store/transactions';
import type { SpendEvent } from './spend-event';
import { SPEND_LOG_COLUMNS, spendLogValues, storedRequestId, type SpendLogValue } from './spend-log-row';
import { addSpendStatement } from './spend-tables';
import { NO_WINDOW } from './budget-window';
import { targetName, targetsOf, type SpendTarget } from './targets';

export interface QueuedSpend {
  readonly event: SpendEvent;
  /** Budget window end per target name, as the counter was when the event was charged. */
  readonly windows: ReadonlyMap<string, number>;
}

const SELECT_CHUNK = 500;
const INSERT_CHUNK = 100;

export class SpendWriter {
  private readonly dialect: Dialect;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: () => number = Date.now,
  ) {
    this.dialect = dialectOf(dataSource);
  }

  /** Resolves with the number of events newly written (replays excluded). */
  async write(batch: readonly QueuedSpend[]): Promise<number> {
    const unique = [...new Map(batch.map((item) => [storedRequestId(item.event.chargeId), item])).values()];
    if (unique.length === 0) return 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await inTransaction(this.dataSource, (manager) => this.writeIn(manager, unique));
      } catch (error) {
        if (attempt >= 2 || !isRetryable(error)) throw error;
      }
    }
  }

  private async writeIn(manager: EntityManager, batch: readonly QueuedSpend[]): Promise<number> {
    const q = (name: string): string => quote(this.dialect, name);
    const logs = q('LiteLLM_SpendLogs');
    const existing = new Set<string>();
    for (const ids of chunks(batch.map((item) => storedRequestId(item.event.chargeId)), SELECT_CHUNK)) {
      const rows: { request_id: string }[] = await manager.query(
        `SELECT ${q('request_id')} AS request_id FROM ${logs} WHERE ${q('request_id')} IN (${ids.map(() => '?').join(', ')})`,
        ids,
      );
      for (const row of rows) existing.add(row.request_id);
    }
    const fresh = batch.filter((item) => !existing.has(storedRequestId(item.event.chargeId)));
    if (fresh.length === 0) return 0;

    const columns = SPEND_LOG_COLUMNS.map(q).join(', ');
    const row = `(${SPEND_LOG_COLUMNS.map(() => '?').join(', ')})`;
    for (const part of chunks(fresh, INSERT_CHUNK)) {
      const params: SpendLogValue[] = part.flatMap((item) => spendLogValues(item.event));
      await manager.query(`INSERT INTO ${logs} (${columns}) VALUES ${part.map(() => row).join(', ')}`, params);
    }

    // One statement per row, in a fixed order, so concurrent writers lock rows in the same order.
    const now = this.clock();
    for (const { target, windowEnd, amount } of sumByTarget(fresh)) {
      if (amount === 0) continue;
      const statement = addSpendStatement(this.dialect, target, amount, windowEnd, now);
      await manager.query(statement.sql, [...statement.params]);
    }
    return fresh.length;
  }
}

interface TargetDelta {
  readonly target: SpendTarget;
  readonly windowEnd: number;
  amount: number;
}

function sumByTarget(items: readonly QueuedSpend[]): TargetDelta[] {
  const deltas = new Map<string, TargetDelta>();
  for (const { event, windows } of items) {
    // Ids longer than the key columns match no row (and an end-user insert would fail the batch).
    for (const target of targetsOf(event.attribution).filter((t) => t.id.length <= 255 && (t.teamId ?? '').length <= 255)) {
      const name = targetName(target);
      const windowEnd = windows.get(name) ?? NO_WINDOW;
      const slot = `${name}@${windowEnd}`;
      const delta = deltas.get(slot) ?? { target, windowEnd, amount: 0 };
      delta.amount += event.cost;
      deltas.set(slot, delta);
    }
  }
  return [...deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, delta]) => delta);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Losing a race with another writer of the same events: MySQL ER_DUP_ENTRY (or a deadlock when
 * both insert overlapping rows) and SQLite's primary-key constraint, as TypeORM wraps them.
 * The retry finds the rows written and skips them.
 */
function isRetryable(error: unknown): boolean {
  const codes = [error, (error as { driverError?: unknown } | null)?.driverError].map((e) =>
    e !== null && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : '',
  );
  return codes.some((code) => code === 'ER_DUP_ENTRY' || code === 'ER_LOCK_DEADLOCK' || code.startsWith('SQLITE_CONSTRAINT'));
}

/**
 * The database refused a row's data (a CHECK or JSON constraint, a value too long or out of
 * range), not the connection: the same row would be refused on every retry.
 */
const REFUSED_ROW_CODES = new Set([
  'ER_CONSTRAINT_FAILED',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_INVALID_JSON_TEXT',
  'ER_INVALID_JSON_TEXT_IN_PARAM',
  'ER_DATA_TOO_LONG',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_BAD_NULL_ERROR',
  'SQLITE_CONSTRAINT_CHECK',
  'SQLITE_CONSTRAINT_NOTNULL',
  'SQLITE_TOOBIG',
  'SQLITE_MISMATCH',
]);

export function isRefusedRowError(error: unknown): boolean {
  return [error, (error as { driverError?: unknown } | null)?.driverError].some(
    (e) => e !== null && typeof e === 'object' && 'code' in e && REFUSED_ROW_CODES.has(String((e as { code: unknown }).code)),
  );
}
