/**
 * The `retry-after` of a 429: whole seconds until the sliding window would admit the request,
 * assuming no other traffic meanwhile. LiteLLM's classic limiter sends the (fractional) seconds
 * to the next minute, because its windows are fixed minutes; ours slide (two buckets, the
 * previous one weighted by the part still in the window, as in the ADMIT script), so the moment
 * capacity frees is computed from both buckets. HTTP wants an integer (RFC 9110 §10.2.3): rounded
 * up, at least 1. Pure, so it is unit-tested without Redis.
 */
import type { RateMetric } from './rate-limits';

const MINUTE_MS = 60_000;

/** One limit's state as the ADMIT script saw it. */
export interface WindowCounts {
  readonly metric: RateMetric;
  readonly limit: number;
  /** Count in the previous minute's bucket. */
  readonly previous: number;
  /** Count in the current minute's bucket. */
  readonly current: number;
  /** What the request adds to the window: 1 for rpm, its estimated tokens for tpm (default 1). */
  readonly amount?: number;
}

/**
 * Milliseconds until `previous × weight + current` admits the request, 0 if it already does, null
 * if it never will (a limit of 0 admits nothing, as in LiteLLM; nor does a tpm limit below the
 * request's estimate). Both metrics admit while used + amount <= limit: rpm adds 1, tpm the tokens
 * ADMIT reserves (v3's `current + increment > limit` refuses).
 */
export function msUntilAdmitted(nowMs: number, counts: WindowCounts): number | null {
  const { limit, previous, current } = counts;
  const amount = counts.amount ?? 1;
  const fits = (used: number): boolean => used + amount <= limit;
  const elapsed = nowMs % MINUTE_MS;
  if (fits(previous * (1 - elapsed / MINUTE_MS) + current)) return 0;
  if (!fits(0)) return null;
  // Within this minute only the previous bucket's weight falls; if the current bucket fits alone,
  // capacity frees at the point where the weighted previous count has fallen far enough.
  // Otherwise wait for the next minute, where the current bucket becomes the weighted one.
  const [weighted, unweighted, startsIn] = fits(current) ? [previous, current, 0] : [current, 0, MINUTE_MS - elapsed];
  const room = limit - amount - unweighted;
  // weighted × (1 − x / minute) <= room  ⇔  x >= minute × (1 − room / weighted); weighted > 0 here.
  const at = MINUTE_MS * (1 - room / weighted);
  const wait = startsIn === 0 ? at - elapsed : startsIn + at;
  return Math.max(0, wait);
}

/**
 * Seconds for `retry-after`: the longest wait over the request's limits (a limit not crossed
 * waits 0; a window's use only falls over time, so after the longest wait all of them admit).
 * A limit that never admits answers the seconds to the next minute, as LiteLLM does for every refusal.
 */
export function retryAfterSeconds(nowMs: number, limits: readonly WindowCounts[]): number {
  let wait = 0;
  for (const counts of limits) {
    wait = Math.max(wait, msUntilAdmitted(nowMs, counts) ?? MINUTE_MS - (nowMs % MINUTE_MS));
  }
  return Math.max(1, Math.ceil(wait / 1000));
}
