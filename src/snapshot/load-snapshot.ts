/**
 * Load, then decide: every entity the checks may read, gathered in as few dependent steps as
 * possible (key ∥ end user, then team ∥ user ∥ membership ∥ project ∥ tags ∥ global spend ∥ key
 * budget ∥ agent, then organization ∥ access groups ∥ object permissions). Through the cached
 * store a warm request does no I/O.
 */
import type { Snapshot } from '../checks/types';
import { requestedVectorStoreIds } from '../checks/vector-store-ids';
import type { Policy } from '../config/policy';
import type { AccessGroup, EndUser, ObjectPermission } from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import type { AuthStore } from '../store/auth-store';
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

/** `keyHash` null: the credential cannot be a virtual key, so only the end user is loaded. */
export async function loadSnapshot(
  store: AuthStore,
  facts: RequestFacts,
  keyHash: string | null,
  policy: Policy,
  overlay?: SpendOverlay,
): Promise<Snapshot> {
  const [key, endUser] = await Promise.all([
    keyHash !== null ? store.findKey(keyHash) : null,
    loadEndUser(store, facts.endUserId, policy),
  ]);
  if (key === null) return Object.freeze({ ...EMPTY_SNAPSHOT, endUser });

  const tagNames = tagsFromBody(facts.body);
  const [team, user, membership, project, tags, globalSpend, keyBudget, agent] = await Promise.all([
    key.team_id !== null ? store.findTeam(key.team_id) : null,
    key.user_id !== null ? store.findUser(key.user_id) : null,
    key.user_id !== null && key.team_id !== null ? store.findMembership(key.user_id, key.team_id) : null,
    key.project_id !== null ? store.findProject(key.project_id) : null,
    tagNames.length > 0 ? store.findTags(tagNames) : [],
    policy.maxBudget !== null && policy.maxBudget > 0 ? store.globalSpend() : null,
    key.budget_id !== null ? store.findBudget(key.budget_id) : null,
    key.agent_id !== null ? store.findAgent(key.agent_id) : null,
  ]);

  // LiteLLM: the key's own organization wins over its team's (schema.md §3.1, documented choice).
  const organizationId = key.organization_id ?? team?.organization_id ?? null;
  const groupIds = [...key.access_group_ids, ...(team?.access_group_ids ?? [])];
  // Vector-store permissions matter only to a request that names vector stores (§4.11).
  const permissionIds =
    requestedVectorStoreIds(facts.body).length > 0
      ? [key.object_permission_id, team?.object_permission_id ?? null].filter((id): id is string => id !== null)
      : [];
  const [organization, groups, permissions] = await Promise.all([
    organizationId !== null ? store.findOrganization(organizationId) : null,
    groupIds.length > 0 ? store.findAccessGroups(groupIds) : [],
    permissionIds.length > 0 ? store.findObjectPermissions(permissionIds) : [],
  ]);

  const loaded: Snapshot = Object.freeze({
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
  return overlay === undefined ? loaded : overlay(loaded);
}

/** The end user, with litellm_settings.max_end_user_budget_id applied when it has no budget of its own. */
export async function loadEndUser(store: AuthStore, endUserId: string | null, policy: Policy): Promise<EndUser | null> {
  if (endUserId === null) return null;
  const endUser = await store.findEndUser(endUserId);
  if (endUser === null || endUser.budget !== null || policy.maxEndUserBudgetId === null) return endUser;
  const fallback = await store.findBudget(policy.maxEndUserBudgetId);
  return fallback === null ? endUser : Object.freeze({ ...endUser, budget: fallback });
}
