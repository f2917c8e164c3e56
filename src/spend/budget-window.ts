/**
 * Budget windows (`budget_duration` + `budget_reset_at`): which window "now" falls in, computed
 * the same way by every replica from the row alone, so the Redis counter can be reset atomically
 * by whichever replica first sees the new window (no reset job, no last-write-wins `SET`:
 * BerriAI/litellm#34733).
 *
 * A window is identified by its end (epoch ms); 0 means the entity has no window.
 */
import { LRUCache } from 'lru-cache';
import { nextStandardizedReset, UTC_RESET_ZONE, type ResetZone } from './standardized-reset';

/**
 * LiteLLM's `duration_in_seconds`: `30s`, `10m`, `1h`, `7d`, `2w`, `1mo` (calendar months), read
 * as `re.match(r"(\d+)(mo|[smhdw]?)")` reads them: from the start, anything after the unit ignored
 * (`30days` is 30 d, `1month` 1 mo), a number without a unit refused; and newer LiteLLM's words.
 */
const DURATION = /^(\d+)(mo|[smhdw])/;
const DURATION_WORDS: ReadonlyMap<string, string> = new Map([
  ['hourly', '1h'],
  ['daily', '24h'],
  ['weekly', '7d'],
  ['monthly', '30d'],
]);

function normalisedDuration(duration: string): string {
  return DURATION_WORDS.get(duration.trim().toLowerCase()) ?? duration;
}
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export const NO_WINDOW = 0;

/** Whether LiteLLM's `duration_in_seconds` reads this text as a duration. */
export function isDuration(text: string): boolean {
  return DURATION.test(normalisedDuration(text));
}

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

interface Steps {
  /** From one window end to the next. */
  readonly next: (at: number) => number;
  /** From one window end to the one before. */
  readonly previous: (at: number) => number;
  /** A fixed length (all units but `mo`): the grid is then arithmetic, not walked. */
  readonly ms: number | null;
}

/** Null for a missing or unreadable duration. */
function stepsOf(duration: string | null): Steps | null {
  const match = duration === null ? null : DURATION.exec(normalisedDuration(duration));
  if (match === null) return null;
  const amount = Number(match[1]);
  if (amount <= 0) return null;
  if (match[2] === 'mo') return { next: (at) => addMonths(at, amount), previous: (at) => addMonths(at, -amount), ms: null };
  const ms = amount * UNIT_MS[match[2]];
  return { next: (at) => at + ms, previous: (at) => at - ms, ms: Number.isFinite(ms) ? ms : null };
}

/**
 * LiteLLM's `duration_in_seconds` in milliseconds, as of `now`: months are the calendar months
 * from now (its "the same day N months on", clamped to the month's end); null when unreadable.
 */
export function durationMs(duration: string, now: number): number | null {
  const match = DURATION.exec(normalisedDuration(duration));
  if (match === null) return null;
  const amount = Number(match[1]);
  if (!Number.isSafeInteger(amount)) return null;
  return match[2] === 'mo' ? addMonths(now, amount) - now : amount * UNIT_MS[match[2]];
}

export interface BudgetWindowSource {
  readonly budget_duration: string | null;
  readonly budget_reset_at: Date | null;
}

export interface BudgetWindow {
  /** Where the window began (NO_WINDOW without one): the previous window's end. */
  readonly start: number;
  readonly end: number;
}

const NONE: BudgetWindow = Object.freeze({ start: NO_WINDOW, end: NO_WINDOW });

let resetZone: ResetZone = UTC_RESET_ZONE;

/**
 * `litellm_settings.timezone`, resolved once at config load: the zone LiteLLM's resets are aligned
 * in. Every process reading budget windows (server and CLI) must set the same one.
 */
export function useBudgetResetZone(zone: ResetZone): void {
  if (zone.name === resetZone.name) return;
  resetZone = zone;
  chains.clear();
}

/**
 * LiteLLM's `get_budget_reset_time(budget_duration)`: the `budget_reset_at` its writes (new keys,
 * teams, budgets; the reset job) set at `now`, in the configured zone; null where it returns None
 * (`none`, `null`, blank) or raises (`2mo`).
 */
export function budgetResetAt(duration: string, now: number): Date | null {
  const at = nextStandardizedReset(duration, now, resetZone);
  return at === null ? null : new Date(at);
}

/**
 * How many of LiteLLM's resets a window may lie past the row's `budget_reset_at`: a `1d` budget 2.7
 * years, a `1h` one 41 days, a `1s` one under 17 minutes. Further on, the duration grid. The walk
 * runs on a Check, and in a zone with DST a step that reaches new days costs Intl lookups (~18 µs):
 * 10,000 steps held the event loop for up to ~190 ms per row, these at most ~40 ms.
 */
const MAX_RESETS = 1_000;
const MAX_CHAINS = 100_000;

interface Chain {
  readonly start: number;
  readonly end: number;
  /** Standardized resets from the row's `budget_reset_at` to `end`. */
  readonly resets: number;
}

/**
 * Per (zone, duration, row reset): the last window found, so a Check walks on from it (usually not
 * at all) rather than from the row's reset again. The walk is a function of the key alone, so
 * every replica finds the same windows whatever it cached.
 */
// Least recently used out, not a clear at the cap: a clear would send every row back to walk
// from its reset at once, the ones far behind (milliseconds each) included.
const chains = new LRUCache<string, Chain>({ max: MAX_CHAINS });

/**
 * The windows LiteLLM's reset job would have made after `budget_reset_at` passed: each ends at
 * `get_next_standardized_reset_time(duration, previous end)`. Null where LiteLLM has none
 * (`2mo`: its job raises and never resets the row) or more than MAX_RESETS lie between.
 */
function standardizedWindow(duration: string, reset: number, now: number): BudgetWindow | null {
  const key = `${resetZone.name}\u0000${duration}\u0000${reset}`;
  let chain = chains.get(key);
  if (chain === undefined || chain.start > now) {
    const end = nextStandardizedReset(duration, reset, resetZone);
    if (end === null || end <= reset) return null;
    chain = { start: reset, end, resets: 1 };
  }
  let found = true;
  while (chain.end <= now) {
    const next: number | null = chain.resets >= MAX_RESETS ? null : nextStandardizedReset(duration, chain.end, resetZone);
    if (next === null || next <= chain.end) {
      found = false;
      break;
    }
    chain = { start: chain.end, end: next, resets: chain.resets + 1 };
  }
  chains.set(key, chain);
  return found ? { start: chain.start, end: chain.end } : null;
}

/** On the duration grid: `budget_reset_at + k × budget_duration`. */
function gridWindow(steps: Steps, reset: number, now: number): BudgetWindow {
  let end = reset;
  if (end > now) return { start: steps.previous(end), end };
  if (steps.ms !== null) {
    // The rows this serves are the ones far behind (a `1s` budget a day, a `1m` one weeks): a
    // walk would cost every Check of them, and a capped one would stop in a window already over.
    const start = reset + Math.floor((now - reset) / steps.ms) * steps.ms;
    return { start, end: start + steps.ms };
  }
  let start = end;
  // Calendar months: a row whose reset date is centuries old still takes a few thousand steps.
  for (let i = 0; end <= now && i < 100_000; i += 1) {
    start = end;
    end = steps.next(end);
  }
  return { start, end };
}

/**
 * The window `now` falls in: it ends at `budget_reset_at` itself while that is in the future
 * (starting one duration before); once that has passed, the windows LiteLLM's reset job writes
 * follow it, each ending at the next standardized reset (`1d` midnight, `7d` Monday, `30d` the
 * 1st, in `litellm_settings.timezone`: standardized-reset.ts). Where LiteLLM has no such reset,
 * the duration grid. NO_WINDOW without both columns.
 */
export function currentWindow(source: BudgetWindowSource | null, now: number): BudgetWindow {
  if (source === null || source.budget_reset_at === null || source.budget_duration === null) return NONE;
  const steps = stepsOf(source.budget_duration);
  if (steps === null) return NONE;
  const reset = source.budget_reset_at.getTime();
  if (!Number.isFinite(reset)) return NONE;
  if (reset > now) return { start: steps.previous(reset), end: reset };
  return standardizedWindow(source.budget_duration, reset, now) ?? gridWindow(steps, reset, now);
}

/**
 * The end of the window on the duration grid alone (LiteLLM's `now + duration_in_seconds`), for
 * durations that are not budget resets: a key's rotation grace period.
 */
export function durationGridEnd(source: BudgetWindowSource | null, now: number): number {
  if (source === null || source.budget_reset_at === null) return NO_WINDOW;
  const steps = stepsOf(source.budget_duration);
  const reset = source.budget_reset_at.getTime();
  if (steps === null || !Number.isFinite(reset)) return NO_WINDOW;
  return gridWindow(steps, reset, now).end;
}

/**
 * The database spend that belongs to the current window: all of it while the row's own
 * `budget_reset_at` is still ahead, nothing once that moment has passed (the row's spend is the
 * elapsed window's; LiteLLM's reset job would have zeroed it).
 */
export function spendInCurrentWindow(spend: number, source: BudgetWindowSource | null, now: number): number {
  if (source === null || source.budget_reset_at === null || stepsOf(source.budget_duration) === null) return spend;
  return source.budget_reset_at.getTime() > now ? spend : 0;
}
