/**
 * Load, then decide: every entity the checks may read, gathered in as few dependent steps as
 * possible (key ∥ end user, then team ∥ user ∥ membership ∥ project ∥ tags ∥ global spend ∥ key
 * budget ∥ agent, then organization ∥ access groups ∥ object permissions). Through the cached
 * store a warm request does no I/O.
 */
import type { Snapshot } from '../checks/types';
import { requestedVectorStoreIds } from '../checks/vector-store-ids';
import type { Policy } from '../config/policy';
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
import type { RequestFacts } from '../domain/request';
import type { AuthStore, MemoryLookups } from '../store/auth-store';
import { allReady, andThen, type MaybePromise } from '../util/maybe-promise';
import { tagsFromBody } from './request-tags';

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
 * Replaces the cached database `spend` of each entity by the shared spend counter (one Redis
 * round trip; spend/spend-counters.ts), so the budget checks stay pure and see every replica's spend.
 */
export type SpendOverlay = (snapshot: Snapshot) => Promise<Snapshot>;

/**
 * The memory answer when memory has one, else the store's (async) lookup. `known` is undefined
 * for "not in memory" (or a store without memory); null is an answer: cached as not found.
 * `lookup` is one of the plain functions below, given its argument here rather than closing over
 * it, so a warm read (about a dozen per Check) allocates nothing.
 */
function read<A, T>(known: T | undefined, store: AuthStore, lookup: (store: AuthStore, arg: A) => Promise<T>, arg: A): MaybePromise<T> {
  return known !== undefined ? known : lookup(store, arg);
}

// The store's lookups as plain functions of (store, argument), for `read`.
const findKey = (store: AuthStore, tokenHash: string) => store.findKey(tokenHash);
const findTeam = (store: AuthStore, teamId: string) => store.findTeam(teamId);
const findUser = (store: AuthStore, userId: string) => store.findUser(userId);
const findEndUser = (store: AuthStore, endUserId: string) => store.findEndUser(endUserId);
const findProject = (store: AuthStore, projectId: string) => store.findProject(projectId);
const findTags = (store: AuthStore, names: readonly string[]) => store.findTags(names);
const findGlobalSpend = (store: AuthStore, _none: null) => store.globalSpend();
const findBudget = (store: AuthStore, budgetId: string) => store.findBudget(budgetId);
const findAgent = (store: AuthStore, agentId: string) => store.findAgent(agentId);
const findOrganization = (store: AuthStore, organizationId: string) => store.findOrganization(organizationId);
const findAccessGroups = (store: AuthStore, ids: readonly string[]) => store.findAccessGroups(ids);
const findObjectPermissions = (store: AuthStore, ids: readonly string[]) => store.findObjectPermissions(ids);
/**
 * The membership of the key's user in the key's team: the one lookup with two arguments, so it
 * takes the key. Read only for a key with both; the null branch is there for the types.
 */
const findMembershipOf = (store: AuthStore, key: VirtualKey) =>
  key.user_id !== null && key.team_id !== null ? store.findMembership(key.user_id, key.team_id) : Promise.resolve(null);

/**
 * `keyHash` null: the credential cannot be a virtual key, so only the end user is loaded.
 * Synchronous when every entity is in process memory (a warm key); a promise otherwise.
 */
export function loadSnapshot(
  store: AuthStore,
  facts: RequestFacts,
  keyHash: string | null,
  policy: Policy,
  overlay?: SpendOverlay,
): MaybePromise<Snapshot> {
  const memory = store.memory;
  const first = allReady<[VirtualKey | null, EndUser | null]>([
    keyHash !== null ? read(memory?.key(keyHash), store, findKey, keyHash) : null,
    loadEndUser(store, facts.endUserId, policy),
  ]);
  return andThen(first, ([key, endUser]) => {
    if (key === null) return Object.freeze({ ...EMPTY_SNAPSHOT, endUser });
    const loaded = loadRelated(store, memory, facts, policy, key, endUser);
    return overlay === undefined ? loaded : andThen(loaded, overlay);
  });
}

/** Everything the key points to (team ∥ user ∥ membership ∥ … then what the team points to), assembled. */
function loadRelated(
  store: AuthStore,
  memory: MemoryLookups | undefined,
  facts: RequestFacts,
  policy: Policy,
  key: VirtualKey,
  endUser: EndUser | null,
): MaybePromise<Snapshot> {
  const tagNames = tagsFromBody(facts.body);
  const { team_id: teamId, user_id: userId, project_id: projectId, budget_id: budgetId, agent_id: agentId } = key;
  const second = allReady<[Team | null, User | null, TeamMembership | null, Project | null, readonly Tag[], number | null, Budget | null, Agent | null]>([
    teamId !== null ? read(memory?.team(teamId), store, findTeam, teamId) : null,
    userId !== null ? read(memory?.user(userId), store, findUser, userId) : null,
    userId !== null && teamId !== null
      ? read(memory?.membership(userId, teamId), store, findMembershipOf, key)
      : null,
    projectId !== null ? read(memory?.project(projectId), store, findProject, projectId) : null,
    tagNames.length > 0 ? read(memory?.tags(tagNames), store, findTags, tagNames) : NO_TAGS,
    policy.maxBudget !== null && policy.maxBudget > 0 ? read(memory?.globalSpend(), store, findGlobalSpend, null) : null,
    budgetId !== null ? read(memory?.budget(budgetId), store, findBudget, budgetId) : null,
    agentId !== null ? read(memory?.agent(agentId), store, findAgent, agentId) : null,
  ]);
  return andThen(second, ([team, user, membership, project, tags, globalSpend, keyBudget, agent]) => {
    // LiteLLM: the key's own organization wins over its team's (schema.md §3.1, documented choice).
    const organizationId = key.organization_id ?? team?.organization_id ?? null;
    const groupIds = accessGroupIds(key, team);
    // Vector-store permissions matter only to a request that names vector stores (§4.11).
    const permissionIds =
      requestedVectorStoreIds(facts.body).length > 0
        ? [key.object_permission_id, team?.object_permission_id ?? null].filter((id): id is string => id !== null)
        : [];
    const third = allReady<[Organization | null, AccessGroup[], ObjectPermission[]]>([
      organizationId !== null
        ? read(memory?.organization(organizationId), store, findOrganization, organizationId)
        : null,
      groupIds.length > 0 ? read(memory?.accessGroups(groupIds), store, findAccessGroups, groupIds) : [],
      permissionIds.length > 0
        ? read(memory?.objectPermissions(permissionIds), store, findObjectPermissions, permissionIds)
        : [],
    ]);
    return andThen(third, ([organization, groups, permissions]) =>
      Object.freeze({
        key,
        team,
        membership,
        user,
        endUser,
        organization,
        project,
        tags: tags.length > 0 ? Object.freeze(tags) : NO_TAGS,
        accessGroups: groups.length > 0 ? new Map(groups.map((g) => [g.access_group_id, g])) : EMPTY_GROUPS,
        globalSpend,
        keyBudget,
        agent,
        objectPermissions:
          permissions.length > 0 ? new Map(permissions.map((p) => [p.object_permission_id, p])) : EMPTY_PERMISSIONS,
      }),
    );
  });
}

/** The key's access groups, then its team's; no new array when one side has none (the usual case). */
function accessGroupIds(key: VirtualKey, team: Team | null): readonly string[] {
  if (team === null || team.access_group_ids.length === 0) return key.access_group_ids;
  if (key.access_group_ids.length === 0) return team.access_group_ids;
  return [...key.access_group_ids, ...team.access_group_ids];
}

/** The end user, with litellm_settings.max_end_user_budget_id applied when it has no budget of its own. */
export function loadEndUser(store: AuthStore, endUserId: string | null, policy: Policy): MaybePromise<EndUser | null> {
  if (endUserId === null) return null;
  const memory = store.memory;
  const found = read(memory?.endUser(endUserId), store, findEndUser, endUserId);
  return andThen(found, (endUser) => {
    const fallbackId = policy.maxEndUserBudgetId;
    if (endUser === null || endUser.budget !== null || fallbackId === null) return endUser;
    const fallback = read(memory?.budget(fallbackId), store, findBudget, fallbackId);
    return andThen(fallback, (budget) => (budget === null ? endUser : Object.freeze({ ...endUser, budget })));
  });
}
