/**
 * Load, then decide: every entity the checks may read, gathered in as few dependent steps as
 * possible (key ∥ end user, then team ∥ user ∥ membership ∥ project ∥ tags ∥ global spend,
 * then organization ∥ access groups). Through the cached store a warm request does no I/O.
 */
import type { Snapshot } from '../checks/types';
import type { Policy } from '../config/policy';
import type { AccessGroup, EndUser } from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import type { AuthStore } from '../store/auth-store';
import { tagsFromBody } from './request-tags';

const EMPTY_GROUPS: ReadonlyMap<string, AccessGroup> = new Map();

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
});

/** `keyHash` null: the credential cannot be a virtual key, so only the end user is loaded. */
export async function loadSnapshot(
  store: AuthStore,
  facts: RequestFacts,
  keyHash: string | null,
  policy: Policy,
): Promise<Snapshot> {
  const [key, endUser] = await Promise.all([
    keyHash !== null ? store.findKey(keyHash) : null,
    loadEndUser(store, facts.endUserId, policy),
  ]);
  if (key === null) return Object.freeze({ ...EMPTY_SNAPSHOT, endUser });

  const tagNames = tagsFromBody(facts.body);
  const [team, user, membership, project, tags, globalSpend] = await Promise.all([
    key.team_id !== null ? store.findTeam(key.team_id) : null,
    key.user_id !== null ? store.findUser(key.user_id) : null,
    key.user_id !== null && key.team_id !== null ? store.findMembership(key.user_id, key.team_id) : null,
    key.project_id !== null ? store.findProject(key.project_id) : null,
    tagNames.length > 0 ? store.findTags(tagNames) : [],
    policy.maxBudget !== null && policy.maxBudget > 0 ? store.globalSpend() : null,
  ]);

  // LiteLLM: the key's own organization wins over its team's (schema.md §3.1, documented choice).
  const organizationId = key.organization_id ?? team?.organization_id ?? null;
  const groupIds = [...key.access_group_ids, ...(team?.access_group_ids ?? [])];
  const [organization, groups] = await Promise.all([
    organizationId !== null ? store.findOrganization(organizationId) : null,
    groupIds.length > 0 ? store.findAccessGroups(groupIds) : [],
  ]);

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
  });
}

/** The end user, with litellm_settings.max_end_user_budget_id applied when it has no budget of its own. */
async function loadEndUser(store: AuthStore, endUserId: string | null, policy: Policy): Promise<EndUser | null> {
  if (endUserId === null) return null;
  const endUser = await store.findEndUser(endUserId);
  if (endUser === null || endUser.budget !== null || policy.maxEndUserBudgetId === null) return endUser;
  const fallback = await store.findBudget(policy.maxEndUserBudgetId);
  return fallback === null ? endUser : Object.freeze({ ...endUser, budget: fallback });
}
