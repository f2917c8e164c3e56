/**
 * What the management commands may create or change, and the checks on it that don't need the
 * database. Names are camelCase here (CLI vocabulary); the rows keep LiteLLM's column names.
 */
import { USER_ROLES, type JsonObject, type UserRole } from '../domain/entities';
import { budgetResetAt, durationMs } from '../spend/budget-window';

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
  /** Per-model budgets of the team, `model_max_budget` (checks/team-model-budget.ts). */
  readonly modelMaxBudget?: JsonObject;
  /** Multi-window budgets, stored in `budget_limits` (checks/window-budgets.ts). */
  readonly budgetLimits?: readonly NewBudgetWindow[];
  /**
   * The default budget of each member (LiteLLM's `team_member_budget`): a budget row of its own,
   * named in `metadata.team_member_budget_id` (checks/team-member-budget.ts).
   */
  readonly teamMemberBudget?: number | null;
  /** That row's `budget_duration` (LiteLLM's `team_member_budget_duration`); needs `teamMemberBudget`. */
  readonly teamMemberBudgetDuration?: string | null;
  /** `metadata.team_member_model_max_budget`: `{model: {max_budget}}` per member (checks/team-member-model-budget.ts). */
  readonly teamMemberModelMaxBudget?: JsonObject;
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

/**
 * An agent (`LiteLLM_AgentsTable`, LiteLLM's /v1/agents): its rate limits over all its sessions and
 * within one, and its `litellm_params` (`require_trace_id_on_calls_by_agent`, `max_iterations`,
 * `max_budget_per_session`).
 */
export interface NewAgent {
  readonly agentId?: string;
  readonly name: string;
  readonly rpmLimit?: number | null;
  readonly tpmLimit?: number | null;
  readonly sessionRpmLimit?: number | null;
  readonly sessionTpmLimit?: number | null;
  readonly requireTraceId?: boolean;
  readonly maxIterations?: number | null;
  readonly maxBudgetPerSession?: number | null;
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
  /** Per-model budgets of the key, `model_max_budget` (checks/key-model-budget.ts). */
  readonly modelMaxBudget?: JsonObject;
  /** Multi-window budgets, stored in `budget_limits` (checks/window-budgets.ts). */
  readonly budgetLimits?: readonly NewBudgetWindow[];
  /** The agent the key acts for (`agent_id`): its limits, session caps and trace-id requirement hold the key. */
  readonly agentId?: string | null;
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
 * A duration LiteLLM's `duration_in_seconds` reads, of some length: `0d` (or a count past any
 * date) reads as a duration, but its window holds no spend and never refuses.
 */
export function requireDuration(what: string, value: unknown): string {
  const length = typeof value === 'string' ? durationMs(value, Date.now()) : null;
  if (typeof value !== 'string' || length === null || !(length > 0) || !Number.isFinite(new Date(Date.now() + length).getTime())) {
    throw new AdminInputError(`${what} must be a duration such as 1h, 1d, 30d or 1mo`);
  }
  return value;
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
    const duration = requireDuration(`${what}: budget_duration`, window.budget_duration);
    if (seen.has(duration)) throw new AdminInputError(`${what}: a second window of ${duration}`);
    seen.add(duration);
    const maxBudget = requireAmount(`${what}: max_budget`, typeof window.max_budget === 'number' ? window.max_budget : Number.NaN);
    return { budget_duration: duration, max_budget: maxBudget ?? 0 };
  });
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Only the fields named: a misspelt or aliased field would be stored and read differently, or not at all. */
function requireOnlyFields(what: string, entry: JsonObject, fields: readonly string[]): void {
  const other = Object.keys(entry).find((field) => !fields.includes(field));
  if (other !== undefined) throw new AdminInputError(`${what}: unexpected field ${JSON.stringify(other)} (only ${fields.join(', ')})`);
}

/**
 * A `model_max_budget` value (a key's or a team's): `{model: {budget_duration, max_budget}}`. The
 * checks skip an entry without a readable `budget_duration` and treat a missing, non-numeric or
 * negative `max_budget` as no limit (model-budget-scopes.ts `resolveModelBudget`, `isSpendGated`):
 * each is refused here instead, as is LiteLLM's `budget_limit` / `time_period` spelling (one
 * spelling per entry, the one LiteLLM's /key/generate documents).
 */
export function requireModelMaxBudget(what: string, value: JsonObject | null | undefined): JsonObject | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) throw new AdminInputError(`${what}: expected a JSON object of {"<model>": {"budget_duration", "max_budget"}}`);
  const result: JsonObject = {};
  for (const [model, entry] of Object.entries(value)) {
    const where = `${what} ${JSON.stringify(model)}`;
    if (model.trim() === '') throw new AdminInputError(`${what}: a model name must not be empty`);
    if (!isObject(entry)) throw new AdminInputError(`${where}: expected {"budget_duration", "max_budget"}`);
    requireOnlyFields(where, entry, ['budget_duration', 'max_budget']);
    const duration = requireDuration(`${where}: budget_duration`, entry['budget_duration']);
    const maxBudget = requireAmount(`${where}: max_budget`, typeof entry['max_budget'] === 'number' ? entry['max_budget'] : Number.NaN) ?? 0;
    result[model] = { budget_duration: duration, max_budget: maxBudget };
  }
  return result;
}

/**
 * A team's `metadata.team_member_model_max_budget`: `{model: {max_budget}}`. The check reads only
 * `max_budget` (a number; an entry without one limits nothing) and never resets the spend it
 * counts (team-member-model-budget.ts), so any other field, LiteLLM's `budget_limit` /
 * `time_period` included, would be stored and not enforced: refused, as is a negative limit.
 */
export function requireTeamMemberModelMaxBudget(what: string, value: unknown): JsonObject | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) throw new AdminInputError(`${what}: expected a JSON object of {"<model>": {"max_budget"}}`);
  const result: JsonObject = {};
  for (const [model, entry] of Object.entries(value)) {
    const where = `${what} ${JSON.stringify(model)}`;
    if (model.trim() === '') throw new AdminInputError(`${what}: a model name must not be empty`);
    if (!isObject(entry)) throw new AdminInputError(`${where}: expected {"max_budget": <usd>}`);
    requireOnlyFields(where, entry, ['max_budget']);
    result[model] = { max_budget: requireAmount(`${where}: max_budget`, typeof entry['max_budget'] === 'number' ? entry['max_budget'] : Number.NaN) ?? 0 };
  }
  return result;
}

export function requireDate(what: string, value: Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (Number.isNaN(value.getTime())) throw new AdminInputError(`${what} is not a valid date`);
  return value;
}

/**
 * What an `update` may change, field by field: a field left out keeps its column as it is; null
 * clears it (a nullable column to NULL, a list to `[]`, an object column to `{}`).
 */
export type Changes<T> = { readonly [K in keyof T]?: Exclude<T[K], undefined> | null };

/** Settings the rows carry that `create` leaves at their defaults. */
export interface LimitSettings {
  readonly tpmLimit: number;
  readonly rpmLimit: number;
  /** `budget_duration`; changing it also sets `budget_reset_at` (budgetDurationColumns). */
  readonly budgetDuration: string;
}

export type KeyChanges = Changes<
  Pick<
    NewKey,
    | 'teamId'
    | 'userId'
    | 'organizationId'
    | 'projectId'
    | 'alias'
    | 'models'
    | 'maxBudget'
    | 'expires'
    | 'budgetId'
    | 'allowedRoutes'
    | 'metadata'
    | 'modelMaxBudget'
    | 'budgetLimits'
    | 'agentId'
  > &
    LimitSettings
>;

/** `tollgate agent update`: the agent's limits and `litellm_params` settings named; null clears one. */
export type AgentChanges = Changes<Omit<NewAgent, 'agentId'>>;

export type TeamChanges = Changes<
  Pick<
    NewTeam,
    | 'alias'
    | 'organizationId'
    | 'maxBudget'
    | 'softBudget'
    | 'models'
    | 'metadata'
    | 'modelMaxBudget'
    | 'budgetLimits'
    | 'teamMemberBudget'
    | 'teamMemberBudgetDuration'
    | 'teamMemberModelMaxBudget'
  > &
    LimitSettings
>;

export type UserChanges = Changes<Pick<NewUser, 'alias' | 'email' | 'role' | 'maxBudget' | 'models' | 'metadata' | 'budgetLimits'> & LimitSettings>;

/**
 * An end user's own columns (`budgetId` relinks it to an existing budget row), and the settings
 * of its budget row (`maxBudget` and the limits), which LiteLLM's /customer/update writes there.
 */
export type EndUserChanges = Changes<Pick<NewEndUser, 'alias' | 'budgetId' | 'maxBudget' | 'budgetLimits'> & LimitSettings>;

/** A member's role in `members_with_roles`: LiteLLM's `Member.role` takes only these. */
export const TEAM_MEMBER_ROLES = ['admin', 'user'] as const;
export type TeamMemberRole = (typeof TEAM_MEMBER_ROLES)[number];

export function requireTeamMemberRole(role: string): TeamMemberRole {
  if (!(TEAM_MEMBER_ROLES as readonly string[]).includes(role)) {
    throw new AdminInputError(`unknown team member role '${role}' (one of ${TEAM_MEMBER_ROLES.join(', ')})`);
  }
  return role as TeamMemberRole;
}

/**
 * `team update-member` (LiteLLM's /team/member_update): the member's budget amounts, window and
 * allowed models, written to its own budget row (null clears one), or `budgetId`, a link to an
 * existing row (Tollgate's own); and its role in the team.
 */
export type TeamMemberChanges = Changes<{
  readonly budgetId: string;
  readonly maxBudgetInTeam: number;
  readonly tpmLimit: number;
  readonly rpmLimit: number;
  /** `budget_duration`; changing it also sets `budget_reset_at` (budgetDurationColumns). */
  readonly budgetDuration: string;
  /** The budget row's `allowed_models`; null clears it to `[]`, all the team's models. */
  readonly allowedModels: readonly string[];
}> & { readonly role?: TeamMemberRole };

/** An update that names nothing is refused: it would only touch `updated_at`. */
export function requireSomeChange(changes: object): void {
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new AdminInputError('nothing to change: give at least one option (see --help)');
  }
}

/** `value` converted when given (null included, meaning "clear"); undefined when left out. */
export function ifGiven<T, R>(value: T | null | undefined, convert: (value: T | null) => R): R | undefined {
  return value === undefined ? undefined : convert(value);
}

/** tpm / rpm limits: whole, non-negative counts (the columns are BIGINT). */
export function requireRateLimit(what: string, value: number | null | undefined): number | null {
  const limit = requireAmount(what, value);
  if (limit !== null && !Number.isSafeInteger(limit)) throw new AdminInputError(`${what} must be a whole number`);
  return limit;
}

/**
 * The columns a changed `budget_duration` writes: a fresh `budget_reset_at` where newer LiteLLM's
 * /key/update, /team/update and /user/update put it (`get_budget_reset_time`: the next midnight,
 * Monday or 1st of the month in `litellm_settings.timezone`, or the next aligned hour, minute,
 * second); a cleared duration clears it too (`_set_budget_reset_at`). Nothing when the duration is
 * left out. A duration LiteLLM's function raises on (`2mo`) is refused, as its endpoints fail.
 */
export function budgetDurationColumns(
  duration: string | null | undefined,
  now: Date,
): { budget_duration?: string | null; budget_reset_at?: Date | null } {
  if (duration === undefined) return {};
  if (duration === null) return { budget_duration: null, budget_reset_at: null };
  const checked = requireDuration('budget duration', duration);
  return { budget_duration: checked, budget_reset_at: requireBudgetResetAt(checked, now) };
}

/** `get_budget_reset_time(duration)` at `now`; a duration it raises on (`2mo`) is refused. */
function requireBudgetResetAt(duration: string, now: Date): Date {
  const at = budgetResetAt(duration, now.getTime());
  if (at === null) throw new AdminInputError(`budget duration ${duration}: LiteLLM resets by months only every 1mo`);
  return at;
}
