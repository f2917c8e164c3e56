/**
 * Multi-window budgets as fresh as the shared counters, with metering.
 *
 * A window's spend is summed from LiteLLM_SpendLogs (window-spend.ts), which shows a metered
 * response only once the flusher has written it and the cached sum has been refreshed: about
 * `spend_flush_interval_ms` + `cache_refresh_seconds` late, long enough for a burst to pass a
 * window by what it spends meanwhile. So each metered charge is also added, in the same script
 * that charges the counters, to a per-entity **tail** in Redis: the spend by the minute its
 * request started (`spend:wt:<target>`, a hash kept WINDOW_TAIL_RETAIN_MS). A Check then reads a
 * window as its cached settled part (rows with `startTime` before the settled end, which the
 * refresh puts on a minute boundary) plus the tail's minutes from that boundary on: every metered
 * charge up to the Check, each counted once, since a row's `startTime` and its charge's minute
 * are the same instant on either side of one boundary.
 *
 * The tail holds metered charges only; spend reaching SpendLogs another way (LiteLLM's own writer,
 * a replica that wrote a charge straight to the database while Redis was down, one of an older
 * version) is in the cached tail the SQL summed. Each is a lower bound of the spend, so a window
 * is read as the larger of the two: never less than without Redis.
 */
import type { WindowSpend } from '../domain/entities';
import type { SpendTarget, SpendTargetKind } from './targets';

const MINUTE_MS = 60_000;

/**
 * How long a tail keeps a minute. A cached window's settled part ends SETTLE_LAG_MS (15 min)
 * before it was summed, and a cached sum is read for up to ten minutes while the database fails:
 * thirty minutes covers every boundary a Check can ask from, with a margin.
 */
export const WINDOW_TAIL_RETAIN_MS = 30 * MINUTE_MS;

/** The entities with multi-window budgets (spend/window-limits.ts WindowEntity), as spend targets. */
const WINDOW_TAIL_KINDS: ReadonlySet<SpendTargetKind> = new Set<SpendTargetKind>(['key', 'team', 'user', 'end_user']);

/** The targets of a charge whose tails it feeds: whether or not they have windows now (one set later sees the spend before it). */
export function windowTailTargets(targets: readonly SpendTarget[]): SpendTarget[] {
  return targets.filter((target) => WINDOW_TAIL_KINDS.has(target.kind));
}

/** The minute a tail files a charge under: that of its request's start (its SpendLogs `startTime`). */
export function tailMinuteOf(startTime: number): number {
  return Math.floor(startTime / MINUTE_MS);
}

/**
 * The first minute of the tail that completes a cached window: the one its settled part ends at.
 * A settled end inside a minute (a window that began less than SETTLE_LAG_MS ago starts its
 * settled part at its own start) leaves that minute out: the tail would hold spend from before the
 * window's start, and the SQL-summed tail still counts the minute's rows that were written.
 */
export function tailFromMinute(state: Pick<WindowSpend, 'settledEnd'>): number {
  return Math.ceil(state.settledEnd / MINUTE_MS);
}

/** Whether the tails still hold every minute from the state's settled end (else the cached sum alone is read). */
export function isTailReadable(state: Pick<WindowSpend, 'settledEnd'>, now: number): boolean {
  return tailFromMinute(state) > tailMinuteOf(now - WINDOW_TAIL_RETAIN_MS);
}

/**
 * A window's state as a Check reads it: its tail the larger of the two (the one summed from
 * SpendLogs with the cached state, the one read from Redis just now), so that its spend
 * (windowSpendTotal: settled + tail) counts every metered charge; the settled end stays, for the
 * reservation to read the Redis tail again from it (spend/admission.ts).
 */
export function withRedisTail(state: WindowSpend, redisTail: number): WindowSpend {
  const tail = Math.max(state.tail, Number.isFinite(redisTail) ? redisTail : 0);
  return tail === state.tail ? state : Object.freeze({ ...state, tail });
}
