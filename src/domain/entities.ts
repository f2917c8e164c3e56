/**
 * The LiteLLM rows the checks read, as immutable plain values.
 *
 * Names follow LiteLLM's columns (snake_case kept where LiteLLM users will look for them in
 * the database). `null` list columns are normalised to `[]` by the store, never here.
 * Instances handed to the checks are frozen: a cached row is shared by concurrent requests and
 * must never be mutated (field-notes §3: a mutated cached key resurrects stale state).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Budget {
  readonly budget_id: string;
  readonly max_budget: number | null;
  readonly soft_budget: number | null;
  readonly tpm_limit: number | null;
  readonly rpm_limit: number | null;
  readonly allowed_models: readonly string[];
  readonly model_max_budget: JsonObject | null;
  readonly budget_duration: string | null;
  readonly budget_reset_at: Date | null;
}

/**
 * One of newer LiteLLM's multi-window budgets (`budget_limits` on a key, team, user or end user): spend within the
 * window may not reach `max_budget`. Only readable windows are kept (spend/window-limits.ts).
 */
export interface BudgetWindowLimit {
  readonly budget_duration: string;
  readonly max_budget: number;
  /** The window ends here; null: a rolling window ending now. */
  readonly reset_at: Date | null;
}

/**
 * The spend within one multi-window budget as it is cached (spend/window-spend.ts): a settled
 * part, continued from refresh to refresh by adding the rows that settled and subtracting those
 * that aged out, and a tail summed afresh each time. All it needs to be continued is here, so any
 * replica that takes it from the shared tier can go on from it. Times are epoch milliseconds, by
 * the clock of the store that summed it.
 */
export interface WindowSpend {
  /** The window's start the settled part counts from. */
  readonly start: number;
  /** The settled part covers `startTime` in [start, settledEnd); the tail `startTime >= settledEnd`. */
  readonly settledEnd: number;
  readonly settled: number;
  /** How many rows the settled part holds: exactly 0 spend once the last one aged out. */
  readonly settledRows: number;
  readonly tail: number;
  /** When these sums were taken. */
  readonly at: number;
  /** When the full sum this continues was taken. */
  readonly fullAt: number;
}

export interface VirtualKey {
  /** sha256 hex of the raw key: the only form of the key Tollgate ever holds. */
  readonly token: string;
  readonly key_name: string | null;
  readonly key_alias: string | null;
  readonly spend: number;
  readonly max_budget: number | null;
  readonly expires: Date | null;
  readonly models: readonly string[];
  readonly config: JsonObject;
  readonly user_id: string | null;
  readonly team_id: string | null;
  readonly organization_id: string | null;
  readonly project_id: string | null;
  readonly agent_id: string | null;
  readonly budget_id: string | null;
  readonly object_permission_id: string | null;
  readonly permissions: JsonObject;
  readonly metadata: JsonObject;
  readonly blocked: boolean | null;
  readonly tpm_limit: number | null;
  readonly rpm_limit: number | null;
  readonly allowed_routes: readonly string[];
  readonly access_group_ids: readonly string[];
  /** Per-model limits: `{model: {max_budget | budget_limit, budget_duration | time_period}}`. */
  readonly model_max_budget: JsonObject;
  /** Per-model spend (`{model: spend}`) as LiteLLM's spend writer records it on the key row. */
  readonly model_spend: JsonObject;
  readonly budget_duration: string | null;
  readonly budget_reset_at: Date | null;
  /** Multi-window budgets *[newer]*; absent or empty: none. */
  readonly budget_limits?: readonly BudgetWindowLimit[];
  /**
   * The key's model aliases (`aliases`, alias → model), which LiteLLM applies to the request's model
   * before its rate limiter reads it. Optional: a copy cached by an earlier version has none.
   */
  readonly aliases?: Readonly<Record<string, string>>;
}

export interface Team {
  readonly team_id: string;
  readonly team_alias: string | null;
  readonly organization_id: string | null;
  readonly object_permission_id: string | null;
  readonly metadata: JsonObject;
  readonly max_budget: number | null;
  readonly soft_budget: number | null;
  readonly spend: number;
  readonly models: readonly string[];
  readonly blocked: boolean;
  readonly tpm_limit: number | null;
  readonly rpm_limit: number | null;
  readonly access_group_ids: readonly string[];
  readonly model_id: number | null;
  /** LiteLLM_ModelTable.aliases joined through model_id (`team_model_aliases` in LiteLLM). */
  readonly model_aliases: Readonly<Record<string, string>>;
  /** Per-model budgets (`LiteLLM_TeamTable.model_max_budget`) *[newest]*; absent: none. */
  readonly model_max_budget?: JsonObject;
  /** Per-model spend (`{model: spend}`) as LiteLLM's spend writer records it on the team row. */
  readonly model_spend?: JsonObject;
  /** The team's budget window; the shared spend counter resets with it (spend/budget-window.ts). */
  readonly budget_duration?: string | null;
  readonly budget_reset_at?: Date | null;
  /** Multi-window budgets *[newer]*; absent or empty: none. */
  readonly budget_limits?: readonly BudgetWindowLimit[];
}

export interface TeamMembership {
  readonly user_id: string;
  readonly team_id: string;
  readonly spend: number;
  readonly budget: Budget | null;
}

export interface OrganizationMembershipRow {
  readonly user_id: string;
  readonly organization_id: string;
  readonly user_role: string | null;
}

export interface User {
  readonly user_id: string;
  readonly user_alias: string | null;
  readonly user_email: string | null;
  readonly user_role: string | null;
  readonly max_budget: number | null;
  readonly spend: number;
  readonly models: readonly string[];
  readonly metadata: JsonObject;
  readonly tpm_limit: number | null;
  readonly rpm_limit: number | null;
  readonly organization_memberships: readonly OrganizationMembershipRow[];
  /** The user's budget window; the shared spend counter resets with it (spend/budget-window.ts). */
  readonly budget_duration?: string | null;
  readonly budget_reset_at?: Date | null;
  /**
   * Per-model limits, as on a key (`{model: {max_budget | budget_limit, budget_duration | time_period}}`).
   * Optional: a user cached before this field existed decodes without it, and reads as `{}`.
   */
  readonly model_max_budget?: JsonObject;
  /** Per-model spend (`{model: spend}`) as LiteLLM's spend writer records it on the user row; `{}` when absent. */
  readonly model_spend?: JsonObject;
  /** Multi-window budgets *[newer]*; absent or empty: none. */
  readonly budget_limits?: readonly BudgetWindowLimit[];
}

export interface EndUser {
  readonly user_id: string;
  readonly alias: string | null;
  readonly spend: number;
  readonly blocked: boolean;
  readonly allowed_model_region: string | null;
  readonly budget_id: string | null;
  /** The end user's own budget row, or the default from litellm_settings.max_end_user_budget_id. */
  readonly budget: Budget | null;
  /** Multi-window budgets *[newer]*; absent or empty: none. */
  readonly budget_limits?: readonly BudgetWindowLimit[];
}

export interface Organization {
  readonly organization_id: string;
  readonly organization_alias: string | null;
  readonly budget_id: string | null;
  readonly spend: number;
  readonly models: readonly string[];
  readonly metadata: JsonObject;
  readonly budget: Budget | null;
}

export interface Project {
  readonly project_id: string;
  readonly project_alias: string | null;
  readonly team_id: string | null;
  readonly budget_id: string | null;
  readonly spend: number;
  readonly models: readonly string[];
  readonly blocked: boolean;
  readonly metadata: JsonObject;
  readonly budget: Budget | null;
}

export interface Tag {
  readonly tag_name: string;
  readonly spend: number;
  readonly budget_id: string | null;
  readonly budget: Budget | null;
}

export interface AccessGroup {
  readonly access_group_id: string;
  readonly access_group_name: string;
  readonly access_model_names: readonly string[];
}

/** `LiteLLM_ObjectPermissionTable`: the allowlists a key, team, … points at by object_permission_id. */
export interface ObjectPermission {
  readonly object_permission_id: string;
  /** `[]` (or NULL) = every vector store allowed; otherwise an allowlist (litellm-auth.md §4.11). */
  readonly vector_stores: readonly string[];
}

/** `LiteLLM_AgentsTable`: the agent a key acts for (`VerificationToken.agent_id`). */
export interface Agent {
  readonly agent_id: string;
  readonly agent_name: string;
  /** `litellm_params` JSON; `{}` when NULL. Holds `require_trace_id_on_calls_by_agent`. */
  readonly litellm_params: JsonObject;
  readonly object_permission_id: string | null;
  /**
   * The v3 rate limiter's agent limits (requests / tokens per minute, over all the agent's
   * sessions, then within one session); null is unlimited. Absent from an agent cached by an
   * earlier version: read as null.
   */
  readonly rpm_limit?: number | null;
  readonly tpm_limit?: number | null;
  readonly session_rpm_limit?: number | null;
  readonly session_tpm_limit?: number | null;
}

/** LiteLLM's role names (`_types.py::LitellmUserRoles`). */
export const USER_ROLES = [
  'proxy_admin',
  'proxy_admin_viewer',
  'org_admin',
  'internal_user',
  'internal_user_viewer',
  'team',
  'customer',
] as const;
export type UserRole = (typeof USER_ROLES)[number];
