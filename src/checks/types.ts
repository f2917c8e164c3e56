/**
 * The vocabulary of the checks engine: pure functions over a loaded snapshot.
 * Nothing here imports gRPC, TypeORM or Redis.
 */
import type {
  AccessGroup,
  Agent,
  Budget,
  EndUser,
  ObjectPermission,
  Organization,
  Project,
  Tag,
  Team,
  TeamMembership,
  User,
  VirtualKey,
  WindowSpend,
} from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import type { Policy } from '../config/policy';

/** `_types.py::ProxyErrorTypes` values. */
export type ProxyErrorType =
  | 'budget_exceeded'
  | 'no_db_connection'
  | 'token_not_found_in_db'
  | 'key_model_access_denied'
  | 'team_model_access_denied'
  | 'user_model_access_denied'
  | 'org_model_access_denied'
  | 'project_model_access_denied'
  | 'model_cost_map_missing'
  | 'expired_key'
  | 'auth_error'
  | 'auth_provider_unavailable'
  | 'internal_server_error'
  | 'bad_request_error'
  | 'not_found_error'
  | 'validation_error'
  | 'cache_ping_error'
  | 'team_member_permission_error'
  | 'key_vector_store_access_denied'
  | 'team_vector_store_access_denied'
  | 'org_vector_store_access_denied'
  | 'team_member_already_in_team'
  | 'tool_access_denied'
  /** Not a ProxyErrorTypes value: what LiteLLM's body reader sends for a body that is not JSON. */
  | 'invalid_request_error'
  /** Not a ProxyErrorTypes value: what LiteLLM sends for a re-raised HTTPException (its 429 rate limits). */
  | 'None';

/** A refusal: the HTTP status and OpenAI-style error LiteLLM would have answered with. */
export interface Denial {
  readonly status: number;
  readonly type: ProxyErrorType;
  readonly message: string;
  readonly param: string | null;
  /** Extra response headers the client sees with the error (e.g. retry-after on a 429). */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
}

export interface UnknownEndUser {
  readonly user_id: string;
  /** The default end-user budget row (`max_end_user_budget_id`). */
  readonly budget: Budget;
}

/** Everything the checks may read, loaded before any check runs. */
export interface Snapshot {
  /** The caller's key row; null for the master key and for unknown keys. */
  readonly key: VirtualKey | null;
  /**
   * Set when the presented key was rotated out and is in its grace period: the hash of the key row
   * it stands for (`key.token`), which the request then acts as, as in LiteLLM (identity, spend and
   * rate limits are the active key's). Absent otherwise.
   */
  readonly activeKeyHash?: string;
  readonly team: Team | null;
  /** Membership of key.user_id in key.team_id. */
  readonly membership: TeamMembership | null;
  readonly user: User | null;
  readonly endUser: EndUser | null;
  /**
   * The end user the request names when it has no row and `litellm_settings.max_end_user_budget_id`
   * is set: LiteLLM copies that budget's rpm/tpm onto the token for its limiter (spec §2.5). Only
   * rate limits read it; an unknown end user is never refused by a budget.
   */
  readonly unknownEndUser?: UnknownEndUser;
  readonly organization: Organization | null;
  readonly project: Project | null;
  readonly tags: readonly Tag[];
  /** DB access groups named by key.access_group_ids and team.access_group_ids that exist. */
  readonly accessGroups: ReadonlyMap<string, AccessGroup>;
  /** Rolling 30-day proxy spend; null when no global budget is configured. */
  readonly globalSpend: number | null;
  /** The key's own LiteLLM_BudgetTable row (key.budget_id): its soft_budget is the key soft budget. */
  readonly keyBudget: Budget | null;
  /**
   * The agent named by key.agent_id, else by the request (`x-litellm-agent-id`, `metadata.agent_id`;
   * ratelimit/rate-limits.ts requestAgentIdOf): LiteLLM's agent registry reads LiteLLM_AgentsTable.
   * Only the key's agent is subject to the trace-id requirement (agent-trace-id.ts).
   */
  readonly agent: Agent | null;
  /**
   * Spend within each multi-window budget of the key, its team, its user and the end user
   * (`budget_limits`), by windowSpendId (spend/window-limits.ts): the cached state summed from
   * SpendLogs, or a number (the spend itself: a store that sums only in full, or the state with
   * the window tails in Redis added, spend/window-tail.ts); read through windowSpendTotal. A
   * window missing here has spent nothing, as LiteLLM's counter read falls back to 0.
   */
  readonly budgetWindowSpend?: ReadonlyMap<string, WindowSpend | number>;
  /**
   * With metering: the spend in the current window of each per-model budget the request's models
   * resolve to, by modelBudgetName (checks/model-budget-scopes.ts), read from the windowed counters.
   * Absent: the per-model checks read the rows' `model_spend` instead.
   */
  readonly modelBudgetSpend?: ReadonlyMap<string, number>;
  /**
   * With metering: the caller's spend as a member of its team on each model the team's
   * `team_member_model_max_budget` limits and the request reads, by model
   * (checks/team-member-model-budget.ts). A model missing here (or the map absent) has spent 0.
   */
  readonly teamMemberModelSpend?: ReadonlyMap<string, number>;
  /**
   * The team's default budget for its members (`metadata.team_member_budget_id`), loaded only when
   * the caller's membership has no budget row of its own: newer LiteLLM's `_check_team_member_budget`
   * falls back to it then.
   */
  readonly teamMemberDefaultBudget?: Budget | null;
  /**
   * With metering: the shared team-member spend counter of a caller held to the team's default
   * member budget without a membership row (LiteLLM's `spend:team_member:<user>:<team>`, which it
   * reads for such a caller too). A membership row carries its own (overlaid) spend instead.
   */
  readonly nonMemberTeamSpend?: number;
  /** Object permission rows of the key and its team, loaded only when the request names vector stores. */
  readonly objectPermissions: ReadonlyMap<string, ObjectPermission>;
  /**
   * A JWT caller's user id as the token gives it (LiteLLM's `valid_token.user_id`; null without
   * one), which may differ from the user row matched by email or SSO id. Unset for keys.
   */
  readonly jwtUserId?: string | null;
}

export interface CheckContext {
  readonly request: RequestFacts;
  readonly snapshot: Snapshot;
  readonly policy: Policy;
  readonly now: Date;
  /** sha256 hex of the presented virtual key; null for non-key identities (e.g. JWT). */
  readonly keyHash: string | null;
  /**
   * What LiteLLM's `api_key` holds when it is not the presented credential: for a JWT mapped to a
   * virtual key, that key's hash (messages abbreviate it, never the token).
   */
  readonly keyCredential?: string;
}

export interface Check {
  /** Stable name: used in docs, traces and metrics. */
  readonly name: string;
  /** Where the behaviour is specified (litellm-auth.md section). */
  readonly spec: string;
  /** Every HTTP status this check can refuse with (documentation: docs/checks.md is generated from it). */
  readonly statuses?: readonly number[];
  /** Every `error.type` this check can refuse with, as `statuses`. */
  readonly errorTypes?: readonly ProxyErrorType[];
  readonly decide: (ctx: CheckContext) => Denial | null;
}

export function deny(status: number, type: ProxyErrorType, message: string, param: string | null = null): Denial {
  return { status, type, message, param };
}
