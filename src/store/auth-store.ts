/**
 * Read access to the LiteLLM tables, as the identity and snapshot loaders need it.
 * Implementations return frozen domain values (`domain/entities.ts`) and throw only on
 * infrastructure failure (connection lost, timeout): "not found" is `null`, never an error.
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
} from '../domain/entities';
import type { DeprecatedKey } from '../domain/deprecated-key';
import type { BudgetWindowLimit, WindowSpend } from '../domain/entities';
import type { WindowEntity } from '../spend/window-limits';

export interface AuthStore {
  /** Present on caching stores: the same reads, answered from process memory or not at all. */
  readonly memory?: MemoryLookups;
  /** Present on database stores: several rows of a kind in one statement (see BatchLookups). */
  readonly batch?: BatchLookups;
  /** Key row by sha256 hex of the raw key. */
  findKey(tokenHash: string): Promise<VirtualKey | null>;
  /**
   * The LiteLLM_DeprecatedVerificationToken row of a rotated-out key hash, whatever its
   * `revoke_at` (the caller tests it at use time: domain/deprecated-key.ts). Null when there is none,
   * and when the database has no such table (a LiteLLM schema older than key rotation). A store
   * without it knows no rotations.
   */
  findDeprecatedKey?(tokenHash: string): Promise<DeprecatedKey | null>;
  /**
   * The latest `revoke_at` of any LiteLLM_DeprecatedVerificationToken row, null when there is none
   * (or no such table): whether a rotated-out key can be in its grace period at all
   * (cache/live-rotations.ts). A store without it is assumed to have rotations.
   */
  latestRevokeAt?(): Promise<Date | null>;
  /**
   * The key hash an active LiteLLM_JWTKeyMapping row maps a JWT claim (name, value as Python's
   * `str()` prints it) to; null when none does, and when the database has no such table. A store
   * without it knows no mappings.
   */
  findJwtKeyMapping?(claimName: string, claimValue: string): Promise<string | null>;
  /** Team row, with LiteLLM_ModelTable.aliases joined through model_id as `model_aliases`. */
  findTeam(teamId: string): Promise<Team | null>;
  /** Membership with its budget row joined. */
  findMembership(userId: string, teamId: string): Promise<TeamMembership | null>;
  /** User row with its organization memberships. */
  findUser(userId: string): Promise<User | null>;
  /** End user with its own budget row joined (the default budget is applied by the caller). */
  findEndUser(endUserId: string): Promise<EndUser | null>;
  /**
   * The `user_id` of the user whose `user_email` is `email` up to case (LiteLLM's
   * `_get_fuzzy_user_object`, Prisma `mode: "insensitive"`); the smallest id when several match.
   * Only `validate_end_user_id_in_db` asks (snapshot/end-user-validation.ts).
   */
  findUserIdByEmail(email: string): Promise<string | null>;
  /** Organization with its budget row joined. */
  findOrganization(organizationId: string): Promise<Organization | null>;
  /** Project with its budget row joined. */
  findProject(projectId: string): Promise<Project | null>;
  /** Known tags among `names` (unknown names are simply absent), budgets joined; one query. */
  findTags(names: readonly string[]): Promise<Tag[]>;
  /** Existing DB access groups among `ids`; one query. */
  findAccessGroups(ids: readonly string[]): Promise<AccessGroup[]>;
  findBudget(budgetId: string): Promise<Budget | null>;
  /** Existing object permission rows among `ids` (vector-store allowlists); one query. */
  findObjectPermissions(ids: readonly string[]): Promise<ObjectPermission[]>;
  /** LiteLLM_AgentsTable row by agent_id. */
  findAgent(agentId: string): Promise<Agent | null>;
  /** SUM(spend) of LiteLLM_SpendLogs over the last 30 days (LiteLLM's MonthlyGlobalSpend). */
  globalSpend(): Promise<number>;
  /**
   * SUM(spend) of LiteLLM_SpendLogs of a key (`api_key`) or team (`team_id`) since the start of
   * one of its multi-window budgets (`budget_limits`, spend/window-limits.ts), that start taken
   * at the time of the read. A store without it counts no window spend.
   */
  windowSpend?(entity: WindowEntity, entityId: string, window: WindowOfBudget): Promise<number>;
  /**
   * The same spend kept incrementally (spend/window-spend.ts): `previous` (what an earlier call
   * answered for this window, from any replica; null for none) carried forward by the rows that
   * settled and aged out since, or summed in full where it cannot be. Null for a window without a
   * start. A store without it is asked windowSpend, in full, every time.
   */
  refreshWindowSpend?(entity: WindowEntity, entityId: string, window: WindowOfBudget, previous: WindowSpend | null): Promise<WindowSpend | null>;
  /**
   * windowSpend as the state it was summed to (a caching store's), so that the window tails in
   * Redis can complete it from its settled end (spend/window-tail.ts); a number from a store
   * that keeps no state. A store without it is asked windowSpend.
   */
  windowSpendState?(entity: WindowEntity, entityId: string, window: WindowOfBudget): Promise<WindowSpend | number>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads a caching store can answer from process memory without waiting: the value, null for a
 * known "not found", or undefined when only the AuthStore lookup can answer. A warm Check is then
 * decided without creating a single promise (snapshot/load-snapshot.ts).
 */
export interface MemoryLookups {
  key(tokenHash: string): VirtualKey | null | undefined;
  deprecatedKey(tokenHash: string): DeprecatedKey | null | undefined;
  /** The key hash a JWT claim maps to (AuthStore.findJwtKeyMapping); absent on stores that know none. */
  jwtKeyMapping?(claimName: string, claimValue: string): string | null | undefined;
  team(teamId: string): Team | null | undefined;
  membership(userId: string, teamId: string): TeamMembership | null | undefined;
  user(userId: string): User | null | undefined;
  endUser(endUserId: string): EndUser | null | undefined;
  userIdByEmail(email: string): string | null | undefined;
  organization(organizationId: string): Organization | null | undefined;
  project(projectId: string): Project | null | undefined;
  /** Undefined unless every name is answerable from memory. */
  tags(names: readonly string[]): Tag[] | undefined;
  accessGroups(ids: readonly string[]): AccessGroup[] | undefined;
  budget(budgetId: string): Budget | null | undefined;
  objectPermissions(ids: readonly string[]): ObjectPermission[] | undefined;
  agent(agentId: string): Agent | null | undefined;
  globalSpend(): number | undefined;
  /** The window's cached state (AuthStore.windowSpendState), 0 for a known window without one. */
  windowSpend?(entity: WindowEntity, entityId: string, window: WindowOfBudget): WindowSpend | number | undefined;
}

/** What a window's spend depends on: its duration and end, not its limit. */
export type WindowOfBudget = Pick<BudgetWindowLimit, 'budget_duration' | 'reset_at'>;

/** A membership's id where one string names it (caches, batch maps): user and team joined by U+0000. */
export function membershipId(userId: string, teamId: string): string {
  return `${userId}\u0000${teamId}`;
}

/** The user and team of a membershipId. */
export function membershipIdParts(id: string): readonly [userId: string, teamId: string] {
  const [userId = '', teamId = ''] = id.split('\u0000');
  return [userId, teamId];
}

/**
 * Several rows of one kind in one statement, for the background revalidation of many cached
 * entries at once (the entity caches gather the ids that went stale within a few milliseconds).
 * Each map holds the rows found, keyed by their own primary key as stored; an id missing from it
 * is reloaded on its own by the caller (so "not found" keeps the single lookup's answer; an id the
 * collation matches without being equal, e.g. with a trailing space, is not found there either). Same timeouts
 * and errors as the single lookups.
 */
export interface BatchLookups {
  findKeys(tokenHashes: readonly string[]): Promise<ReadonlyMap<string, VirtualKey>>;
  findTeams(teamIds: readonly string[]): Promise<ReadonlyMap<string, Team>>;
  findUsers(userIds: readonly string[]): Promise<ReadonlyMap<string, User>>;
  /** Keyed by membershipId(userId, teamId), the membership cache's own id. */
  findMemberships(pairs: readonly (readonly [userId: string, teamId: string])[]): Promise<ReadonlyMap<string, TeamMembership>>;
}
