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

/** What the checks see before anything is loaded (pre-DB checks, unknown keys). */
export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  key: null,
  team: null,
  membership: null,
  user: null,
  endUser: null,
  organization: null,
  project: null,
  tags: Object.freeze([]),
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

/** A read from process memory when the store can answer there, else the store's (async) lookup. */
function read<T>(store: AuthStore, fromMemory: (memory: MemoryLookups) => T | undefined, lookup: () => Promise<T>): MaybePromise<T> {
  const memory = store.memory;
  const known = memory === undefined ? undefined : fromMemory(memory);
  return known !== undefined ? known : lookup();
}

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
  const first = allReady<[VirtualKey | null, EndUser | null]>([
    keyHash !== null ? read(store, (m) => m.key(keyHash), () => store.findKey(keyHash)) : null,
    loadEndUser(store, facts.endUserId, policy),
  ]);
  return andThen(first, ([key, endUser]) => {
    if (key === null) return Object.freeze({ ...EMPTY_SNAPSHOT, endUser });
    const loaded = andThen(loadRelated(store, facts, policy, key), (related) => assemble(key, endUser, related));
    return overlay === undefined ? loaded : andThen(loaded, overlay);
  });
}

type Related = readonly [
  Team | null,
  User | null,
  TeamMembership | null,
  Project | null,
  readonly Tag[],
  number | null,
  Budget | null,
  Agent | null,
  Organization | null,
  readonly AccessGroup[],
  readonly ObjectPermission[],
];

/** Everything the key points to: team ∥ user ∥ membership ∥ … then what the team points to. */
function loadRelated(store: AuthStore, facts: RequestFacts, policy: Policy, key: VirtualKey): MaybePromise<Related> {
  const tagNames = tagsFromBody(facts.body);
  const { team_id: teamId, user_id: userId, project_id: projectId, budget_id: budgetId, agent_id: agentId } = key;
  const second = allReady<[Team | null, User | null, TeamMembership | null, Project | null, Tag[], number | null, Budget | null, Agent | null]>([
    teamId !== null ? read(store, (m) => m.team(teamId), () => store.findTeam(teamId)) : null,
    userId !== null ? read(store, (m) => m.user(userId), () => store.findUser(userId)) : null,
    userId !== null && teamId !== null
      ? read(store, (m) => m.membership(userId, teamId), () => store.findMembership(userId, teamId))
      : null,
    projectId !== null ? read(store, (m) => m.project(projectId), () => store.findProject(projectId)) : null,
    tagNames.length > 0 ? read(store, (m) => m.tags(tagNames), () => store.findTags(tagNames)) : [],
    policy.maxBudget !== null && policy.maxBudget > 0 ? read(store, (m) => m.globalSpend(), () => store.globalSpend()) : null,
    budgetId !== null ? read(store, (m) => m.budget(budgetId), () => store.findBudget(budgetId)) : null,
    agentId !== null ? read(store, (m) => m.agent(agentId), () => store.findAgent(agentId)) : null,
  ]);
  return andThen(second, ([team, user, membership, project, tags, globalSpend, keyBudget, agent]) => {
    // LiteLLM: the key's own organization wins over its team's (schema.md §3.1, documented choice).
    const organizationId = key.organization_id ?? team?.organization_id ?? null;
    const groupIds = team === null || team.access_group_ids.length === 0 ? key.access_group_ids : [...key.access_group_ids, ...team.access_group_ids];
    // Vector-store permissions matter only to a request that names vector stores (§4.11).
    const permissionIds =
      requestedVectorStoreIds(facts.body).length > 0
        ? [key.object_permission_id, team?.object_permission_id ?? null].filter((id): id is string => id !== null)
        : [];
    const third = allReady<[Organization | null, AccessGroup[], ObjectPermission[]]>([
      organizationId !== null ? read(store, (m) => m.organization(organizationId), () => store.findOrganization(organizationId)) : null,
      groupIds.length > 0 ? read(store, (m) => m.accessGroups(groupIds), () => store.findAccessGroups(groupIds)) : [],
      permissionIds.length > 0
        ? read(store, (m) => m.objectPermissions(permissionIds), () => store.findObjectPermissions(permissionIds))
        : [],
    ]);
    return andThen(third, ([organization, groups, permissions]): Related => [
      team,
      user,
      membership,
      project,
      tags,
      globalSpend,
      keyBudget,
      agent,
      organization,
      groups,
      permissions,
    ]);
  });
}

function assemble(key: VirtualKey, endUser: EndUser | null, related: Related): Snapshot {
  const [team, user, membership, project, tags, globalSpend, keyBudget, agent, organization, groups, permissions] = related;
  return Object.freeze({
    key,
    team,
    membership,
    user,
    endUser,
    organization,
    project,
    tags: Object.freeze(tags),
    accessGroups: groups.length > 0 ? new Map(groups.map((g) => [g.access_group_id, g])) : EMPTY_GROUPS,
    globalSpend,
    keyBudget,
    agent,
    objectPermissions:
      permissions.length > 0 ? new Map(permissions.map((p) => [p.object_permission_id, p])) : EMPTY_PERMISSIONS,
  });
}

/** The end user, with litellm_settings.max_end_user_budget_id applied when it has no budget of its own. */
export function loadEndUser(store: AuthStore, endUserId: string | null, policy: Policy): MaybePromise<EndUser | null> {
  if (endUserId === null) return null;
  const found = read(store, (m) => m.endUser(endUserId), () => store.findEndUser(endUserId));
  return andThen(found, (endUser) => {
    const fallbackId = policy.maxEndUserBudgetId;
    if (endUser === null || endUser.budget !== null || fallbackId === null) return endUser;
    const fallback = read(store, (m) => m.budget(fallbackId), () => store.findBudget(fallbackId));
    return andThen(fallback, (budget) => (budget === null ? endUser : Object.freeze({ ...endUser, budget })));
  });
}
