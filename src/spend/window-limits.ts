/**
 * Newer LiteLLM's multi-window budgets (`budget_limits` on LiteLLM_VerificationToken,
 * LiteLLM_TeamTable, LiteLLM_UserTable and LiteLLM_EndUserTable, litellm-schema.md): reading them
 * as `budget_reservation.py` does, and where each window starts (`get_budget_window_start`).
 */
import type { BudgetWindowLimit } from '../domain/entities';
import { durationMs, isDuration } from './budget-window';

type Entry = { readonly [key: string]: unknown };

/** `_coerce_window`: an object, or a JSON string of one; anything else is no window. */
function coerceWindow(window: unknown): Entry | null {
  if (typeof window === 'string') {
    try {
      return coerceWindow(JSON.parse(window) as unknown);
    } catch {
      return null;
    }
  }
  return window !== null && typeof window === 'object' && !Array.isArray(window) ? (window as Entry) : null;
}

const EXPLICIT_OFFSET = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/** `_coerce_datetime`: an ISO text, naive read as UTC; null when absent or unreadable. */
function coerceResetAt(value: unknown): Date | null {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const normalised = text.replace(' ', 'T');
  const date = new Date(EXPLICIT_OFFSET.test(normalised) || !normalised.includes('T') ? normalised : `${normalised}Z`);
  return Number.isFinite(date.getTime()) ? date : null;
}

/**
 * The windows LiteLLM enforces, in their order. As `_get_budget_limit_counters` a window is
 * skipped without a `budget_duration`, without a numeric `max_budget`, or with a duration
 * `duration_in_seconds` cannot read (where LiteLLM's own check would read a counter never fed, or
 * fail on the missing field). A column that is not a list holds no window.
 */
export function parseBudgetLimits(column: unknown): readonly BudgetWindowLimit[] {
  if (!Array.isArray(column) || column.length === 0) return NO_WINDOWS;
  const windows: BudgetWindowLimit[] = [];
  for (const raw of column as unknown[]) {
    const window = coerceWindow(raw);
    if (window === null) continue;
    const duration = window['budget_duration'];
    const maxBudget = window['max_budget'];
    if (typeof duration !== 'string' || duration === '' || !isDuration(duration)) continue;
    if (typeof maxBudget !== 'number' || !Number.isFinite(maxBudget)) continue;
    windows.push({ budget_duration: duration, max_budget: maxBudget, reset_at: coerceResetAt(window['reset_at']) });
  }
  return windows.length === 0 ? NO_WINDOWS : windows;
}

export const NO_WINDOWS: readonly BudgetWindowLimit[] = Object.freeze([]);

/**
 * The range a window's start is held to: the days a MariaDB DATETIME holds. A duration of
 * millennia (`1000000000d`, `99999999999mo`) reaches past the first, or past any date at all, and a
 * `reset_at` late on 9999-12-31 with a negative offset past the last; either would bind a start no
 * statement reads as a date (`+010000-…` sorts before every year on SQLite, and MariaDB read it as
 * long ago). Held to the range, the one holds every row and the other none, as they mean to.
 */
const EARLIEST_WINDOW_START = Date.UTC(1000, 0, 1);
const LATEST_WINDOW_START = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * `get_budget_window_start`: `reset_at - duration` when the window has a reset time, else
 * `now - duration` (a rolling window). The duration is LiteLLM's, months counted from now.
 */
export function budgetWindowStart(window: Pick<BudgetWindowLimit, 'budget_duration' | 'reset_at'>, now: number): Date | null {
  const ms = durationMs(window.budget_duration, now);
  if (ms === null) return null;
  const start = (window.reset_at?.getTime() ?? now) - ms;
  if (!Number.isFinite(start)) return new Date(EARLIEST_WINDOW_START);
  return new Date(Math.min(Math.max(start, EARLIEST_WINDOW_START), LATEST_WINDOW_START));
}

/** Whose windows: each is summed from its own LiteLLM_SpendLogs column (TypeOrmAuthStore.sumWindow). */
export type WindowEntity = 'key' | 'team' | 'user' | 'end_user';

const WINDOW_ENTITIES: ReadonlySet<string> = new Set<WindowEntity>(['key', 'team', 'user', 'end_user']);

function isWindowEntity(value: unknown): value is WindowEntity {
  return typeof value === 'string' && WINDOW_ENTITIES.has(value);
}

/**
 * One window's spend, as the caches and the snapshot name it: entity, id, duration and end. A JSON
 * list, so that no team id or duration (either may hold any character, and LiteLLM ignores what
 * follows a duration's unit) can be read back as another window.
 */
export function windowSpendId(entity: WindowEntity, entityId: string, window: Pick<BudgetWindowLimit, 'budget_duration' | 'reset_at'>): string {
  return JSON.stringify([entity, entityId, window.budget_duration, window.reset_at === null ? null : window.reset_at.toISOString()]);
}

/** The parts of a windowSpendId; null for a malformed one. */
export function windowSpendIdParts(
  id: string,
): { readonly entity: WindowEntity; readonly entityId: string; readonly window: Pick<BudgetWindowLimit, 'budget_duration' | 'reset_at'> } | null {
  let parts: unknown;
  try {
    parts = JSON.parse(id) as unknown;
  } catch {
    return null;
  }
  if (!Array.isArray(parts) || parts.length !== 4) return null;
  const [entity, entityId, duration, resetAt] = parts as unknown[];
  if (!isWindowEntity(entity) || typeof entityId !== 'string' || typeof duration !== 'string') return null;
  if (resetAt !== null && typeof resetAt !== 'string') return null;
  const reset = resetAt === null ? null : new Date(resetAt);
  if (reset !== null && !Number.isFinite(reset.getTime())) return null;
  return { entity, entityId, window: { budget_duration: duration, reset_at: reset } };
}
