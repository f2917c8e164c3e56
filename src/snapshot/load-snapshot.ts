/**
 * Load, then decide: every entity the checks may read, gathered in as few dependent steps as
 * possible (key ∥ end user, then team ∥ user ∥ membership ∥ project ∥ tags ∥ global spend ∥ key
 * budget ∥ agent (the key's, else the request's), then organization ∥ access groups ∥ object
 * permissions). Through the cached store a warm request does no I/O.
 */
import type { Snapshot, UnknownEndUser } from '../checks/types';
import { needsVectorStorePermissions } from '../checks/vector-store-ids';
import type { Policy } from '../config/policy';
import type {
  AccessGroup,
  Agent,
  Budget,
  BudgetWindowLimit,
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
import { activeTokenOf } from '../domain/deprecated-key';
import { agentIdToLoad } from '../ratelimit/rate-limits';
import type { AuthStore } from '../store/auth-store';
import { StoreUnavailableError } from '../store/unavailable';
import {
  accessGroupsOf,
  agentOf,
  budgetOf,
  deprecatedKeyOf,
  endUserOf,
  globalSpendOf,
  keyOf,
  membershipOf,
  objectPermissionsOf,
  organizationOf,
  projectOf,
  tagsNamed,
  teamOf,
  userOf,
  windowSpendOf,
} from '../store/memory-first';
import { NO_WINDOWS, windowSpendId, type WindowEntity } from '../spend/window-limits';
import { allReady, andThen, isPromise, type MaybePromise } from '../util/maybe-promise';
import { keyWithBudgetDefaults } from './key-budget-defaults';
import { teamOfKey } from './missing-team';
import { tagsOfRequest } from './request-tags';
import { teamMemberDefaultBudgetId } from '../checks/team-member-budget';
import { personalBudgetsApply } from '../checks/budget-scope';

const EMPTY_GROUPS: ReadonlyMap<string, AccessGroup> = new Map();
const EMPTY_PERMISSIONS: ReadonlyMap<string, ObjectPermission> = new Map();
const NO_TAGS: readonly Tag[] = Object.freeze([]);

/** What the checks see before anything is loaded (pre-DB checks, unknown keys). */
export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  key: null,
  team: null,
  membership: null,
  user: null,
  endUser: null,
  organization: null,
  project: null,
  tags: NO_TAGS,
  accessGroups: EMPTY_GROUPS,
  globalSpend: null,
  keyBudget: null,
  agent: null,
  objectPermissions: EMPTY_PERMISSIONS,
});

/**
 * Replaces the cached database `spend` of each entity by the shared spend counter, and adds the
 * windowed per-model counters the request's models resolve to (one Redis round trip;
 * spend/spend-counters.ts), so the budget checks stay pure and see every replica's spend.
 */
export type SpendOverlay = (snapshot: Snapshot, facts: RequestFacts) => Promise<Snapshot>;

/**
 * `keyHash` null: the credential cannot be a virtual key, so only the end user is loaded.
 * Synchronous when every entity is in process memory (a warm key); a promise otherwise.
 * `now` judges a rotated-out key's grace period.
 */
export function loadSnapshot(
  store: AuthStore,
  facts: RequestFacts,
  keyHash: string | null,
  policy: Policy,
  overlay?: SpendOverlay,
  now: Date = new Date(),
): MaybePromise<Snapshot> {
  const first = allReady<[VirtualKey | null, EndUser | null]>([
    keyHash !== null ? keyOf(store, keyHash) : null,
    loadEndUser(store, facts.endUserId, policy),
  ]);
  // A warm key's entities are all in memory: each step then runs at once, with no closure made for it.
  return isPromise(first)
    ? first.then((ready) => afterKey(store, facts, policy, overlay, keyHash, now, ready))
    : afterKey(store, facts, policy, overlay, keyHash, now, first);
}

/** With the key and end user known: an unknown key's snapshot holds the end user alone, a known key's everything it points to. */
function afterKey(
  store: AuthStore,
  facts: RequestFacts,
  policy: Policy,
  overlay: SpendOverlay | undefined,
  keyHash: string | null,
  now: Date,
  [key, endUser]: readonly [VirtualKey | null, EndUser | null],
): MaybePromise<Snapshot> {
  if (key === null) return keyHash === null ? unknownKeySnapshot(endUser) : afterRotatedKey(store, facts, policy, overlay, keyHash, now, endUser);
  return loadKeyRelated(store, facts, policy, overlay, key, endUser);
}

function loadKeyRelated(
  store: AuthStore,
  facts: RequestFacts,
  policy: Policy,
  overlay: SpendOverlay | undefined,
  key: VirtualKey,
  endUser: EndUser | null,
): MaybePromise<Snapshot> {
  const loaded = loadRelated(store, facts, policy, key, endUser);
  return overlay === undefined ? loaded : andThen(loaded, (snapshot) => overlay(snapshot, facts));
}

function unknownKeySnapshot(endUser: EndUser | null): Snapshot {
  return Object.freeze({ ...EMPTY_SNAPSHOT, endUser });
}

/**
 * A hash no key row has: LiteLLM's `get_data` then looks for it among rotated-out keys, and while
 * its grace period runs loads the key row that carries the new hash, one hop only
 * (`check_deprecated=False`: a key rotated twice is not followed from its first hash). The request
 * then acts as that key. Past `revoke_at`, or with no active row, the key is unknown.
 *
 * LiteLLM swallows a failed rotated-key lookup (the key is then unknown: 401). Tollgate answers a
 * store outage with UNAVAILABLE, so Envoy's failure mode decides — except with
 * allow_requests_on_db_unavailable, where UNAVAILABLE would become an allow of a key nobody knows.
 */
function afterRotatedKey(
  store: AuthStore,
  facts: RequestFacts,
  policy: Policy,
  overlay: SpendOverlay | undefined,
  keyHash: string,
  now: Date,
  endUser: EndUser | null,
): MaybePromise<Snapshot> {
  const lookup = deprecatedKeyOf(store, keyHash);
  const rotated = policy.allowRequestsOnDbUnavailable === true && isPromise(lookup) ? lookup.catch(asNoRotationWhenUnavailable) : lookup;
  return andThen(rotated, (mapping) => {
    const activeHash = activeTokenOf(mapping, now);
    if (activeHash === null || activeHash === keyHash) return unknownKeySnapshot(endUser);
    return andThen(keyOf(store, activeHash), (active) =>
      active === null
        ? unknownKeySnapshot(endUser)
        : andThen(loadKeyRelated(store, facts, policy, overlay, active, endUser), (snapshot) => Object.freeze({ ...snapshot, activeKeyHash: activeHash })),
    );
  });
}

function asNoRotationWhenUnavailable(error: unknown): null {
  if (error instanceof StoreUnavailableError) return null;
  throw error;
}

/** Everything the key points to (team ∥ user ∥ membership ∥ … then what the team points to), assembled. */
function loadRelated(
  store: AuthStore,
  facts: RequestFacts,
  policy: Policy,
  key: VirtualKey,
  endUser: EndUser | null,
): MaybePromise<Snapshot> {
  // The key's own tags are merged into the request's (checks/pre-auth-tags.ts): known only now.
  const tagNames = tagsOfRequest(facts.body, facts, key);
  const { team_id: teamId, user_id: userId, project_id: projectId, budget_id: budgetId } = key;
  // The key's agent, else the one the request names (v3 limits either): read only once the key is
  // known, so that an unauthenticated caller's ids cause no lookup.
  const agentId = agentIdToLoad(key.agent_id, facts);
  const second = allReady<KeyRelations>([
    teamId !== null ? teamOf(store, teamId) : null,
    userId !== null ? userOf(store, userId) : null,
    userId !== null && teamId !== null ? membershipOf(store, userId, teamId) : null,
    projectId !== null ? projectOf(store, projectId) : null,
    tagNames.length > 0 ? tagsNamed(store, tagNames) : NO_TAGS,
    policy.maxBudget !== null && policy.maxBudget > 0 ? globalSpendOf(store) : null,
    budgetId !== null ? budgetOf(store, budgetId) : null,
    agentId !== null ? agentOf(store, agentId) : null,
    endUser === null ? defaultEndUserBudget(store, facts.endUserId, policy) : null,
  ]);
  return isPromise(second)
    ? second.then((ready) => loadOrganizationAndGroups(store, facts, policy, key, endUser, ready))
    : loadOrganizationAndGroups(store, facts, policy, key, endUser, second);
}

type KeyRelations = [Team | null, User | null, TeamMembership | null, Project | null, readonly Tag[], number | null, Budget | null, Agent | null, Budget | null];
type Tail<T extends readonly unknown[]> = T extends readonly [unknown, ...infer Rest] ? Rest : never;
type TeamRelations = [Organization | null, readonly AccessGroup[], readonly ObjectPermission[], ReadonlyMap<string, WindowSpend | number>, Budget | null];

const NO_IDS: readonly string[] = Object.freeze([]);
const NO_GROUPS: readonly AccessGroup[] = Object.freeze([]);
export const NO_PERMISSIONS: readonly ObjectPermission[] = Object.freeze([]);

/** The snapshot's object permissions; a warm Check without vector stores allocates no map. */
export function permissionsById(permissions: readonly ObjectPermission[]): ReadonlyMap<string, ObjectPermission> {
  return permissions.length > 0 ? new Map(permissions.map((p) => [p.object_permission_id, p])) : EMPTY_PERMISSIONS;
}

/** What the team points to (organization ∥ access groups ∥ object permissions), then the snapshot. */
function loadOrganizationAndGroups(
  store: AuthStore,
  facts: RequestFacts,
  policy: Policy,
  key: VirtualKey,
  endUser: EndUser | null,
  loaded: KeyRelations,
): MaybePromise<Snapshot> {
  const team = teamOfKey(key, loaded[0]);
  // Copied only for a key whose team row is gone: a warm Check allocates nothing here.
  const related: KeyRelations = team === loaded[0] ? loaded : [team, ...(loaded.slice(1) as Tail<KeyRelations>)];
  // LiteLLM: the key's own organization wins over its team's (schema.md §3.1, documented choice).
  const organizationId = key.organization_id ?? team?.organization_id ?? null;
  const groupIds = accessGroupIds(key, team);
  // Vector-store permissions matter only to a request that names vector stores (§4.11), or whose
  // body was cut before it could name them.
  const permissionIds =
    needsVectorStorePermissions(facts)
      ? [key.object_permission_id, team?.object_permission_id ?? null].filter((id): id is string => id !== null)
      : NO_IDS;
  // Known only with the team's row: the default budget of a member whose membership has none.
  const memberBudgetId = teamMemberDefaultBudgetId(team, related[2], key.user_id);
  const third = allReady<TeamRelations>([
    organizationId !== null ? organizationOf(store, organizationId) : null,
    groupIds.length > 0 ? accessGroupsOf(store, groupIds) : NO_GROUPS,
    permissionIds.length > 0 ? objectPermissionsOf(store, permissionIds) : NO_PERMISSIONS,
    budgetWindowSpendOf(store, key, team, related[1], endUser, personalBudgetsApply(team, policy)),
    memberBudgetId !== null ? budgetOf(store, memberBudgetId) : null,
  ]);
  return isPromise(third)
    ? third.then((ready) => assembleSnapshot(key, endUser, facts.endUserId, related, groupIds, ready))
    : assembleSnapshot(key, endUser, facts.endUserId, related, groupIds, third);
}

function assembleSnapshot(
  key: VirtualKey,
  endUser: EndUser | null,
  endUserId: string | null,
  [team, user, membership, project, tags, globalSpend, keyBudget, agent, endUserDefaultBudget]: KeyRelations,
  groupIds: readonly string[],
  [organization, groups, permissions, budgetWindowSpend, teamMemberDefaultBudget]: TeamRelations,
): Snapshot {
  return Object.freeze({
    key: keyWithBudgetDefaults(key, keyBudget),
    team,
    membership,
    user,
    endUser,
    unknownEndUser: unknownEndUserOf(endUserId, endUser, endUserDefaultBudget),
    organization,
    project,
    tags: tags.length > 0 ? Object.freeze(tags) : NO_TAGS,
    accessGroups: groupsById(groupIds, groups),
    globalSpend,
    keyBudget,
    agent,
    objectPermissions: permissionsById(permissions),
    budgetWindowSpend,
    teamMemberDefaultBudget,
  });
}

const NO_WINDOW_SPEND: ReadonlyMap<string, WindowSpend | number> = new Map();

/**
 * The spend within each multi-window budget (`budget_limits`) of the key, its team, its user and
 * the end user, by windowSpendId; read beside the organization (the team's and user's windows are
 * known only with their rows). The user's are read only when `_user_multi_budget_check` judges
 * them (`userWindowsApply`): for a personal key, and for a team key too with
 * apply_user_budget_to_team_keys. Warm, every window is a memory lookup; entities without
 * windows read nothing.
 */
export function budgetWindowSpendOf(
  store: AuthStore,
  key: VirtualKey | null,
  team: Team | null,
  user: User | null = null,
  endUser: EndUser | null = null,
  userWindowsApply: boolean = team === null,
): MaybePromise<ReadonlyMap<string, WindowSpend | number>> {
  const keyWindows = key?.budget_limits ?? NO_WINDOWS;
  const teamWindows = team?.budget_limits ?? NO_WINDOWS;
  const userWindows = userWindowsApply ? (user?.budget_limits ?? NO_WINDOWS) : NO_WINDOWS;
  const endUserWindows = endUser?.budget_limits ?? NO_WINDOWS;
  if (keyWindows.length === 0 && teamWindows.length === 0 && userWindows.length === 0 && endUserWindows.length === 0) return NO_WINDOW_SPEND;
  const ids: string[] = [];
  const spends: MaybePromise<WindowSpend | number>[] = [];
  const add = (entity: WindowEntity, entityId: string, windows: readonly BudgetWindowLimit[]): void => {
    for (const window of windows) {
      ids.push(windowSpendId(entity, entityId, window));
      spends.push(windowSpendOf(store, entity, entityId, window));
    }
  };
  if (key !== null) add('key', key.token, keyWindows);
  if (team !== null) add('team', team.team_id, teamWindows);
  if (user !== null) add('user', user.user_id, userWindows);
  if (endUser !== null) add('end_user', endUser.user_id, endUserWindows);
  return andThen(allReady<Array<WindowSpend | number>>(spends), (ready) => new Map(ids.map((id, i) => [id, ready[i] ?? 0])));
}

/** The last map built for a list of access-group ids (an entity's own frozen list) and the groups it holds. */
const groupMaps = new WeakMap<readonly string[], { readonly groups: readonly AccessGroup[]; readonly byId: ReadonlyMap<string, AccessGroup> }>();

/**
 * The groups by id. A warm key reads the same cached group objects on every Check: their map is
 * built once and reused while they stay the ones memory answers with (a reloaded group is a new
 * object, so its change is seen at once). Entries go with the entity that owns the list.
 */
export function groupsById(ids: readonly string[], groups: readonly AccessGroup[]): ReadonlyMap<string, AccessGroup> {
  if (groups.length === 0) return EMPTY_GROUPS;
  const known = groupMaps.get(ids);
  if (known !== undefined && sameObjects(known.groups, groups)) return known.byId;
  const byId: ReadonlyMap<string, AccessGroup> = new Map(groups.map((g) => [g.access_group_id, g]));
  if (Object.isFrozen(ids)) groupMaps.set(ids, { groups, byId });
  return byId;
}

function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** The key's access groups, then its team's; no new array when one side has none (the usual case). */
function accessGroupIds(key: VirtualKey, team: Team | null): readonly string[] {
  if (team === null || team.access_group_ids.length === 0) return key.access_group_ids;
  if (key.access_group_ids.length === 0) return team.access_group_ids;
  return [...key.access_group_ids, ...team.access_group_ids];
}

/**
 * `litellm_settings.max_end_user_budget_id`'s row when the request names an end user, for one
 * without a row (unknownEndUserOf). Read beside the other relations: warm, it is a memory lookup.
 */
export function defaultEndUserBudget(store: AuthStore, endUserId: string | null, policy: Policy): MaybePromise<Budget | null> {
  return endUserId !== null && policy.maxEndUserBudgetId !== null ? budgetOf(store, policy.maxEndUserBudgetId) : null;
}

/** The end user the request names that has no row, with the default budget LiteLLM limits it by. */
export function unknownEndUserOf(endUserId: string | null, endUser: EndUser | null, budget: Budget | null): UnknownEndUser | undefined {
  return endUserId !== null && endUser === null && budget !== null ? Object.freeze({ user_id: endUserId, budget }) : undefined;
}

/** The end user, with litellm_settings.max_end_user_budget_id applied when it has no budget of its own. */
export function loadEndUser(store: AuthStore, endUserId: string | null, policy: Policy): MaybePromise<EndUser | null> {
  if (endUserId === null) return null;
  const found = endUserOf(store, endUserId);
  return andThen(found, (endUser) => {
    const fallbackId = policy.maxEndUserBudgetId;
    if (endUser === null || endUser.budget !== null || fallbackId === null) return endUser;
    const fallback = budgetOf(store, fallbackId);
    return andThen(fallback, (budget) => (budget === null ? endUser : Object.freeze({ ...endUser, budget })));
  });
}
