/**
 * Keeping a multi-window budget's spend without summing the whole window at every refresh.
 *
 * A window's spend is `SUM(spend)` of the entity's LiteLLM_SpendLogs rows with `startTime >=` the
 * window's start. Summed in full, a busy key's 30-day window reads millions of index entries, and
 * every replica would do so at every background refresh. Instead the cached WindowSpend holds:
 *
 * - a settled part, [start, settledEnd) with settledEnd = now - SETTLE_LAG_MS, on the minute before: rows that old are
 *   taken as written. Each refresh extends it by the rows in [old settledEnd, new settledEnd) and,
 *   as a rolling window's start moves, subtracts those in [old start, new start);
 * - a tail, `startTime >= settledEnd`, summed afresh each refresh: rows written late land here.
 *
 * Both are one statement over two small ranges of the (api_key|team_id, startTime) index. A full
 * sum (the same statement from an empty settled part at the window's start) is taken when there is
 * nothing to continue, when the state cannot be continued (the start moved backwards, jumped
 * forwards, or past the settled end; a clock stepped back; a malformed state), when a step comes out
 * inconsistent, and at least every FULL_SUM_EVERY_MS, which puts right whatever the settled part
 * missed.
 */
import type { WindowSpend } from '../domain/entities';

/**
 * How late a SpendLogs row may be written and still be counted before the next full sum. A row's
 * `startTime` is its request's start, and it is written after the response ends: LiteLLM's batch
 * writer adds up to its write interval (10 s by default, more while it retries), Tollgate's
 * metering flusher its flush interval (1 s by default). Fifteen minutes covers responses (long
 * streams included) of up to about a quarter of an hour; the tail it costs is the last fifteen
 * minutes of the entity's rows, a few hundred for a key with a million rows a month.
 */
export const SETTLE_LAG_MS = 15 * 60_000;

/**
 * A settled part is summed in full again once its last full sum is this old: a row written more
 * than SETTLE_LAG_MS late, or a row deleted or changed inside the window, is off by at most this
 * long. One full sum an hour per window and replica, instead of one per refresh.
 */
export const FULL_SUM_EVERY_MS = 60 * 60_000;

/**
 * What one refresh sums, all over the entity's rows: `aged` over [agedFrom, agedTo) (spend that
 * left a rolling window), `settled` over [settledFrom, settledTo) (spend that settled), and `tail`
 * over `startTime >= settledTo`. The rows read are those of [agedFrom, agedTo) and `>= settledFrom`.
 */
export interface WindowSumRanges {
  readonly agedFrom: number;
  readonly agedTo: number;
  readonly settledFrom: number;
  readonly settledTo: number;
}

/** The sums over WindowSumRanges, with the rows counted in the first two. */
export interface WindowSums {
  readonly aged: number;
  readonly agedRows: number;
  readonly settled: number;
  readonly settledRows: number;
  readonly tail: number;
}

/** A refresh: the state it continues (for a full sum an empty one at the window's start), and where the new one starts and settles. */
export interface WindowRefresh {
  readonly base: WindowSpend;
  readonly full: boolean;
  readonly start: number;
  readonly settledEnd: number;
  readonly at: number;
}

/** The refresh of a window starting at `start` as of `now`, continuing `previous` where it can. */
export function planWindowRefresh(previous: WindowSpend | null, start: number, now: number): WindowRefresh {
  const settledEnd = settledEndOf(start, now);
  if (previous !== null && canContinue(previous, start, settledEnd, now)) {
    return { base: previous, full: false, start, settledEnd, at: now };
  }
  return fullRefresh(start, now);
}

/** A full sum of the window starting at `start`: an empty settled part extended to now - SETTLE_LAG_MS. */
export function fullRefresh(start: number, now: number): WindowRefresh {
  const base: WindowSpend = { start, settledEnd: start, settled: 0, settledRows: 0, tail: 0, at: now, fullAt: now };
  return { base, full: true, start, settledEnd: settledEndOf(start, now), at: now };
}

/**
 * Where a settled part summed at `now` ends: SETTLE_LAG_MS ago, on the minute before, so that the
 * metered spend after it is whole minutes of the window tails in Redis (spend/window-tail.ts); the
 * window's start when that is later.
 */
function settledEndOf(start: number, now: number): number {
  const lagged = now - SETTLE_LAG_MS;
  return Math.max(start, lagged - (((lagged % 60_000) + 60_000) % 60_000));
}

/**
 * Whether `previous` can be carried to the window [start, ...) settled up to `settledEnd`: the
 * ranges it needs then lie in order, old start <= new start <= old settled end <= new settled end,
 * so that what ages out is all inside the old settled part and the two ranges read do not overlap;
 * and the start moved by less than FULL_SUM_EVERY_MS (a rolling window's moves with the clock, a
 * fixed one's not at all). A start that jumped (another `reset_at`, a month's length changing under
 * a `mo` window) would make the aged range cost about as much as a full sum.
 */
function canContinue(previous: WindowSpend, start: number, settledEnd: number, now: number): boolean {
  return (
    isWindowSpend(previous) &&
    previous.at <= now &&
    now - previous.fullAt < FULL_SUM_EVERY_MS &&
    previous.start <= start &&
    start - previous.start < FULL_SUM_EVERY_MS &&
    start <= previous.settledEnd &&
    previous.settledEnd <= settledEnd
  );
}

export function rangesOf(refresh: WindowRefresh): WindowSumRanges {
  return { agedFrom: refresh.base.start, agedTo: refresh.start, settledFrom: refresh.base.settledEnd, settledTo: refresh.settledEnd };
}

/**
 * The state after `refresh` read `sums`; null when a step came out inconsistent (fewer rows or less
 * spend left than aged out: rows deleted or rewritten under it), which then wants a full sum.
 */
export function applyWindowSums(refresh: WindowRefresh, sums: WindowSums): WindowSpend | null {
  const { base } = refresh;
  const settledRows = base.settledRows + sums.settledRows - sums.agedRows;
  let settled = base.settled + sums.settled - sums.aged;
  if (!Number.isFinite(settled) || !Number.isFinite(sums.tail) || settledRows < 0) return null;
  // Adding and subtracting doubles leaves rounding behind; none is left once no row is.
  if (settledRows === 0) settled = 0;
  if (settled < 0 && !refresh.full) {
    const scale = Math.max(1, base.settled + sums.settled + sums.aged);
    if (settled < -ROUNDING * scale) return null;
    settled = 0;
  }
  return { start: refresh.start, settledEnd: refresh.settledEnd, settled, settledRows, tail: sums.tail, at: refresh.at, fullAt: base.fullAt };
}

/** Relative error (of the sums, or of a dollar) a chain of additions and subtractions up to FULL_SUM_EVERY_MS long can leave. */
const ROUNDING = 1e-9;

/** The spend a Check compares: settled and tail. A bare number is taken as the spend itself; anything else as none. */
export function windowSpendTotal(value: WindowSpend | number | null | undefined): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  return value != null && isWindowSpend(value) ? value.settled + value.tail : 0;
}

/** A readable state, whoever wrote it (the shared tier holds other replicas' and versions' values). */
export function isWindowSpend(value: unknown): value is WindowSpend {
  if (value === null || typeof value !== 'object') return false;
  const state = value as { readonly [field: string]: unknown };
  const finite = (field: string): boolean => typeof state[field] === 'number' && Number.isFinite(state[field]);
  if (!['start', 'settledEnd', 'settled', 'settledRows', 'tail', 'at', 'fullAt'].every(finite)) return false;
  const s = value as WindowSpend;
  return Number.isSafeInteger(s.settledRows) && s.settledRows >= 0 && s.start <= s.settledEnd && s.fullAt <= s.at;
}

/** The spend of a store that sums only in full, as a state nothing continues (its start is not the window's). */
export function wholeWindowSpend(total: number, at: number): WindowSpend {
  return { start: at, settledEnd: at, settled: 0, settledRows: 0, tail: total, at, fullAt: at };
}
