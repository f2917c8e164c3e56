/**
 * Budget windows (`budget_duration` + `budget_reset_at`): which window "now" falls in, computed
 * the same way by every replica from the row alone, so the Redis counter can be reset atomically
 * by whichever replica first sees the new window (no reset job, no last-write-wins `SET`:
 * BerriAI/litellm#34733).
 *
 * A window is identified by its end (epoch ms); 0 means the entity has no window.
 */

/** LiteLLM's `duration_in_seconds` units: `30s`, `10m`, `1h`, `7d`, `2w`, `1mo` (calendar months). */
const DURATION = /^\s*(\d+)\s*(s|m|h|d|w|mo)\s*$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export const NO_WINDOW = 0;

/** Calendar months, clamped to the month's last day (Jan 31 + 1 month = Feb 28, as dateutil's relativedelta). */
function addMonths(at: number, months: number): number {
  const date = new Date(at);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date.getTime();
}

/** The step from one window end to the next; null for a missing or unreadable duration. */
function stepOf(duration: string | null): ((at: number) => number) | null {
  const match = duration === null ? null : DURATION.exec(duration);
  if (match === null) return null;
  const amount = Number(match[1]);
  if (amount <= 0) return null;
  if (match[2] === 'mo') return (at) => addMonths(at, amount);
  const ms = amount * UNIT_MS[match[2]];
  return (at) => at + ms;
}

export interface BudgetWindowSource {
  readonly budget_duration: string | null;
  readonly budget_reset_at: Date | null;
}

/**
 * The end of the window `now` falls in: `budget_reset_at` itself while it is in the future,
 * else the first end after now on the duration's grid. NO_WINDOW without both columns.
 */
export function currentWindowEnd(source: BudgetWindowSource | null, now: number): number {
  if (source === null || source.budget_reset_at === null) return NO_WINDOW;
  const step = stepOf(source.budget_duration);
  if (step === null) return NO_WINDOW;
  let end = source.budget_reset_at.getTime();
  if (!Number.isFinite(end)) return NO_WINDOW;
  // Bounded: a row whose reset date is years old still takes at most a few thousand steps.
  for (let i = 0; end <= now && i < 100_000; i += 1) end = step(end);
  return end;
}

/**
 * The database spend that belongs to the current window: all of it while the row's own
 * `budget_reset_at` is still ahead, nothing once that moment has passed (the row's spend is the
 * elapsed window's; LiteLLM's reset job would have zeroed it).
 */
export function spendInCurrentWindow(spend: number, source: BudgetWindowSource | null, now: number): number {
  if (source === null || source.budget_reset_at === null || stepOf(source.budget_duration) === null) return spend;
  return source.budget_reset_at.getTime() > now ? spend : 0;
}
