/**
 * What the management commands may create or change, and the checks on it that don't need the
 * database. Names are camelCase here (CLI vocabulary); the rows keep LiteLLM's column names.
 */
import { USER_ROLES, type JsonObject, type UserRole } from '../domain/entities';
import { durationMs } from '../spend/budget-window';

export interface NewBudget {
  readonly budgetId?: string;
  readonly maxBudget?: number | null;
  readonly softBudget?: number | null;
  readonly tpmLimit?: number | null;
  readonly rpmLimit?: number | null;
  readonly maxParallelRequests?: number | null;
  readonly budgetDuration?: string | null;
  /** Per-team-member model scope; `[]` = inherit the team's models. */
  readonly allowedModels?: readonly string[];
}

export interface NewOrganization {
  readonly organizationId?: string;
  readonly alias: string;
  /** Stored on the organization's own budget row (LiteLLM keeps org limits there). */
  readonly maxBudget?: number | null;
  readonly models?: readonly string[];
  readonly metadata?: JsonObject;
}

export interface NewTeam {
  readonly teamId?: string;
  readonly alias?: string | null;
  readonly organizationId?: string | null;
  readonly maxBudget?: number | null;
  readonly softBudget?: number | null;
  readonly models?: readonly string[];
  readonly blocked?: boolean;
  readonly metadata?: JsonObject;
  readonly tpmLimit?: number | null;
  readonly rpmLimit?: number | null;
  /** Team model aliases (alias → model), stored in LiteLLM_ModelTable as LiteLLM does. */
  readonly modelAliases?: Readonly<Record<string, string>>;
}

export interface NewUser {
  readonly userId: string;
  readonly alias?: string | null;
  readonly email?: string | null;
  /** Defaults to `internal_user`. */
  readonly role?: UserRole;
  readonly maxBudget?: number | null;
  readonly models?: readonly string[];
  readonly metadata?: JsonObject;
  /** Multi-window budgets, stored in `budget_limits` (checks/window-budgets.ts). */
  readonly budgetLimits?: readonly NewBudgetWindow[];
}

export interface NewEndUser {
  readonly userId: string;
  readonly alias?: string | null;
  readonly budgetId?: string | null;
  /** Creates a budget row for this end user (as LiteLLM's /customer/new does) unless budgetId is given. */
  readonly maxBudget?: number | null;
  /** Multi-window budgets, stored in `budget_limits` (checks/window-budgets.ts). */
  readonly budgetLimits?: readonly NewBudgetWindow[];
}

/** One multi-window budget as given: a duration LiteLLM reads (`1h`, `1d`, `30d`, `1mo`) and its limit. */
export interface NewBudgetWindow {
  readonly budget_duration: string;
  readonly max_budget: number;
}

export interface NewKey {
  readonly teamId?: string | null;
  readonly userId?: string | null;
  readonly organizationId?: string | null;
  readonly projectId?: string | null;
  readonly alias?: string | null;
  readonly models?: readonly string[];
  readonly maxBudget?: number | null;
  readonly expires?: Date | null;
  readonly metadata?: JsonObject;
  readonly allowedRoutes?: readonly string[];
  readonly budgetId?: string | null;
}

/** Rows with a `spend` column addressed by a single id. */
export type SpendKind = 'key' | 'team' | 'user' | 'end_user' | 'organization' | 'project' | 'tag';
export interface TeamMemberId {
  readonly userId: string;
  readonly teamId: string;
}
export interface OrganizationMemberId {
  readonly userId: string;
  readonly organizationId: string;
}

/** Bad input, a missing referenced row or a duplicate: the operator's to fix, not an outage. */
export class AdminInputError extends Error {
  override readonly name = 'AdminInputError';
}

export function requireId(what: string, value: string): string {
  if (value.trim() === '') throw new AdminInputError(`${what} must not be empty`);
  return value;
}

/** Budgets, limits and spend: finite numbers; budgets and limits also non-negative. */
export function requireAmount(what: string, value: number | null | undefined, { allowNegative = false } = {}): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value)) throw new AdminInputError(`${what} must be a finite number`);
  if (!allowNegative && value < 0) throw new AdminInputError(`${what} must not be negative`);
  return value;
}

function isUserRole(role: string): role is UserRole {
  return (USER_ROLES as readonly string[]).includes(role);
}

export function requireRole(role: string): UserRole {
  if (!isUserRole(role)) throw new AdminInputError(`unknown user role ${role} (one of ${USER_ROLES.join(', ')})`);
  return role;
}

/**
 * A `budget_limits` column value: each window with a duration LiteLLM's `duration_in_seconds`
 * reads, of some length, and a non-negative limit (a window the checks would ignore is refused here instead), one
 * window per duration (LiteLLM keys a window's counter by its duration). Stored without
 * `reset_at`: a rolling window over the last `budget_duration`, which needs no reset job.
 */
export function requireBudgetLimits(windows: readonly NewBudgetWindow[] | null | undefined): NewBudgetWindow[] | null {
  if (windows === null || windows === undefined || windows.length === 0) return null;
  const seen = new Set<string>();
  return windows.map((window, i) => {
    const what = `budget limit ${i + 1}`;
    // Read by LiteLLM's duration_in_seconds and of some length: `0d` (or a count past any date)
    // reads as a duration, but its window holds no spend and never refuses.
    const length = typeof window.budget_duration === 'string' ? durationMs(window.budget_duration, Date.now()) : null;
    if (length === null || !(length > 0) || !Number.isFinite(new Date(Date.now() + length).getTime())) {
      throw new AdminInputError(`${what}: budget_duration must be a duration such as 1h, 1d, 30d or 1mo`);
    }
    if (seen.has(window.budget_duration)) throw new AdminInputError(`${what}: a second window of ${window.budget_duration}`);
    seen.add(window.budget_duration);
    const maxBudget = requireAmount(`${what}: max_budget`, typeof window.max_budget === 'number' ? window.max_budget : Number.NaN);
    return { budget_duration: window.budget_duration, max_budget: maxBudget ?? 0 };
  });
}

export function requireDate(what: string, value: Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (Number.isNaN(value.getTime())) throw new AdminInputError(`${what} is not a valid date`);
  return value;
}
