/**
 * The snapshot a JWT identity is checked against (`JWTAuthManager.get_objects`, litellm-auth.md
 * §3.3 step 8): organization, user, end user, team membership, plus what common_checks reads
 * (tags, the team's DB access groups and object permission, global spend), and the agent the
 * request names (v3 rate-limits it when no key names one). No key and no project: a JWT has neither.
 *
 * Reads run in parallel, from process memory where it can answer; the refusals are then applied
 * in LiteLLM's order (organization, user, end user), and the `user_id_upsert` write happens only
 * once nothing before it refused.
 */
import { authErrorFromException, authErrorFromHttpExceptionDict } from '../../checks/errors';
import { endUserOverBudget } from '../../checks/end-user-budget';
import type { Denial, Snapshot, UnknownEndUser } from '../../checks/types';
import type { AccessGroup, Agent, Budget, EndUser, ObjectPermission, Organization, Tag, Team, TeamMembership, User, WindowSpend } from '../../domain/entities';
import type { RequestFacts } from '../../domain/request';
import { isInfoRoute } from '../../routes/classify';
import { needsVectorStorePermissions } from '../../checks/vector-store-ids';
import {
  budgetWindowSpendOf,
  defaultEndUserBudget,
  EMPTY_SNAPSHOT,
  groupsById,
  loadEndUser,
  NO_PERMISSIONS,
  permissionsById,
  unknownEndUserOf,
} from '../../snapshot/load-snapshot';
import type { AuthStore } from '../../store/auth-store';
import { teamMemberDefaultBudgetId } from '../../checks/team-member-budget';
import { personalBudgetsApply } from '../../checks/budget-scope';
import { accessGroupsOf, agentOf, budgetOf, globalSpendOf, membershipOf, objectPermissionsOf, organizationOf, tagsNamed, userOf } from '../../store/memory-first';
import { requestAgentIdOf } from '../../ratelimit/rate-limits';
import { allReady, andThen, type MaybePromise } from '../../util/maybe-promise';
import { tagsOfRequest } from '../../snapshot/request-tags';
import type { ClaimIdentity } from './claim-identity';
import type { JwtLookups } from './team-selection';

export type JwtSnapshotResult =
  | { readonly kind: 'loaded'; readonly snapshot: Snapshot; readonly userId: string | null }
  | { readonly kind: 'refused'; readonly denial: Denial; readonly check: string };

type OrgResult = { readonly org: Organization | null } | { readonly denial: Denial };

const NO_ORG: OrgResult = Object.freeze({ org: null });

/** `get_org_object` (a missing org is a plain exception → 401) or `get_org_object_by_alias`. */
function claimedOrganization(lookups: JwtLookups, identity: ClaimIdentity): MaybePromise<OrgResult> {
  const orgId = identity.orgId;
  if (orgId !== null) {
    return andThen(organizationOf(lookups.store, orgId), (org) => {
      if (org !== null) return { org };
      return {
        denial: authErrorFromException(
          `Organization doesn't exist in db. Organization=${orgId}. Create organization via \`/organization/new\` call.`,
        ),
      };
    });
  }
  if (identity.orgAlias === null) return NO_ORG;
  return organizationByAlias(lookups, identity.orgAlias);
}

function organizationByAlias(lookups: JwtLookups, alias: string): MaybePromise<OrgResult> {
  return andThen(lookups.directory.organizationIdsWithAlias(alias), (ids) => {
    if (ids.length > 1) {
      return {
        denial: authErrorFromHttpExceptionDict(400, {
          error: `Multiple organizations found with alias '${alias}'. Please use org_id_jwt_field instead or ensure organization aliases are unique.`,
        }),
      };
    }
    return andThen(ids.length === 1 ? organizationOf(lookups.store, ids[0] as string) : null, (org): OrgResult => {
      if (org !== null) return { org };
      return {
        denial: authErrorFromHttpExceptionDict(404, {
          error: `Organization with alias '${alias}' doesn't exist in db. Create organization via \`/organization/new\` call.`,
        }),
      };
    });
  });
}

/** `get_user_object` before any write: by id (cached), then by `sso_user_id` or email. */
function existingUser(lookups: JwtLookups, identity: ClaimIdentity): MaybePromise<User | null> {
  const userId = identity.userId;
  if (userId === null) return null;
  return andThen(userOf(lookups.store, userId), (user) =>
    user !== null
      ? user
      : andThen(lookups.directory.findUserBySsoIdOrEmail(userId, identity.userEmail), (match) =>
          // The directory remembers a match for seconds and no invalidation reaches it: the row
          // itself comes from the user cache, which a blocked or changed user's invalidation does.
          match === null ? null : userOf(lookups.store, match.user_id),
        ),
  );
}

const NO_GROUPS: readonly AccessGroup[] = Object.freeze([]);
const NO_TAGS: readonly Tag[] = Object.freeze([]);

type Loaded = [
  OrgResult,
  Organization | null,
  User | null,
  EndUser | null,
  TeamMembership | null,
  readonly Tag[],
  readonly AccessGroup[],
  number | null,
  Budget | null,
  readonly ObjectPermission[],
  Agent | null,
  Budget | null,
];

/**
 * Synchronous when every entity is in process memory (a warm caller); a promise otherwise, or when
 * a user is created (`user_id_upsert`).
 */
export function loadJwtSnapshot(
  lookups: JwtLookups,
  identity: ClaimIdentity,
  team: Team | null,
  facts: RequestFacts,
): MaybePromise<JwtSnapshotResult> {
  const { store, policy } = lookups;
  const userId = identity.userId;
  const teamId = team?.team_id ?? null;
  // The body's tags with the x-litellm-tags header's, as the tag budget check reads them (a token has no key tags).
  const tagNames = tagsOfRequest(facts.body, facts, null);
  const groupIds = team?.access_group_ids ?? NO_IDS;
  // LiteLLM's org budget check uses the token's org, else the team's (`valid_token.org_id`).
  const teamOrgId = identity.orgId === null && identity.orgAlias === null ? (team?.organization_id ?? null) : null;
  // vector_store_access_check reads the team's object permission for every caller (§4.11), and
  // only a request that names vector stores (or whose body was cut before it could) needs it.
  const permissionId = team?.object_permission_id ?? null;
  const needsPermission = permissionId !== null && needsVectorStorePermissions(facts);
  const agentIdNamed = requestAgentIdOf(facts);
  const memberBudgetId = teamMemberDefaultBudgetId(team, null, userId);
  const loaded = allReady<Loaded>([
    claimedOrganization(lookups, identity),
    teamOrgId !== null ? organizationOf(store, teamOrgId) : null,
    existingUser(lookups, identity),
    // `get_end_user_object`, with litellm_settings.max_end_user_budget_id for rows without a budget.
    loadEndUser(store, identity.endUserId, policy),
    userId !== null && teamId !== null ? membershipOf(store, userId, teamId) : null,
    tagNames.length > 0 ? tagsNamed(store, tagNames) : NO_TAGS,
    groupIds.length > 0 ? accessGroupsOf(store, groupIds) : NO_GROUPS,
    policy.maxBudget !== null && policy.maxBudget > 0 ? globalSpendOf(store) : null,
    defaultEndUserBudget(store, identity.endUserId, policy),
    needsPermission ? objectPermissionsOf(store, [permissionId]) : NO_PERMISSIONS,
    // Read only once the token verified (this runs after), as a key's agent is only for a key that exists.
    agentIdNamed !== null ? agentOf(store, agentIdNamed) : null,
    // The team's default member budget, read beside the membership it stands in for when that has none.
    memberBudgetId !== null ? budgetOf(store, memberBudgetId) : null,
  ]);
  // The team's multi-window budgets (`_team_multi_budget_check` runs for JWT callers too), read
  // beside the rest, as the team is known already; the user's and end user's once their rows are.
  const teamWindowSpend = budgetWindowSpendOf(store, null, team);
  return andThen(allReady<[Loaded, ReadonlyMap<string, WindowSpend | number>]>([loaded, teamWindowSpend]), ([ready]) =>
    andThen(refuseOrAssemble(lookups, identity, team, facts, ready), (result) => withWindowSpend(store, result, personalBudgetsApply(team, policy))),
  );
}

/**
 * Every multi-window budget common_checks reads for a JWT caller: the team's, the user's (without
 * a team, as for a personal key) and the end user's. The team's were read above, so a cold caller
 * waits for the user's and end user's only; warm, all are memory lookups.
 */
function withWindowSpend(store: AuthStore, result: JwtSnapshotResult, userWindowsApply: boolean): MaybePromise<JwtSnapshotResult> {
  if (result.kind !== 'loaded') return result;
  const { team, user, endUser } = result.snapshot;
  return andThen(budgetWindowSpendOf(store, null, team, user, endUser, userWindowsApply), (budgetWindowSpend) =>
    budgetWindowSpend.size === 0 ? result : { ...result, snapshot: Object.freeze({ ...result.snapshot, budgetWindowSpend }) },
  );
}

const NO_IDS: readonly string[] = Object.freeze([]);

/** The refusals in LiteLLM's order (organization, user, end user), the user upsert, then the snapshot. */
function refuseOrAssemble(
  lookups: JwtLookups,
  identity: ClaimIdentity,
  team: Team | null,
  facts: RequestFacts,
  [claimedOrg, teamOrg, user, endUser, membership, tags, groups, globalSpend, endUserDefaultBudget, permissions, agent, memberBudget]: Loaded,
): MaybePromise<JwtSnapshotResult> {
  const { settings } = lookups;
  const userId = identity.userId;
  const groupIds = team?.access_group_ids ?? NO_IDS;
  const unknownEndUser = unknownEndUserOf(identity.endUserId, endUser, endUserDefaultBudget);
  if ('denial' in claimedOrg) return { kind: 'refused', denial: claimedOrg.denial, check: 'jwt_organization' };
  if (userId !== null && user === null) {
    // `user_allowed_email_domain` turns the upsert off for other domains (`valid_user_email`).
    if (!settings.userIdUpsert || identity.validUserEmail === false) return userMissing(userId);
    const defaults = settings.newUserDefaults;
    const created = lookups.directory.upsertUser({
      userId,
      email: identity.userEmail,
      role: defaults.userRole,
      maxBudget: defaults.maxBudget,
      models: defaults.models,
    });
    const organization = claimedOrg.org ?? teamOrg;
    // Null: the id names another user's row under MariaDB's collation, and cannot have its own.
    return created.then((createdUser) =>
      createdUser === null
        ? userMissing(userId)
        : assemble(facts, userId, team, groupIds, [organization, createdUser, endUser, unknownEndUser, membership, tags, groups, globalSpend, permissions, agent, memberBudget]),
    );
  }
  return assemble(facts, userId, team, groupIds, [
    claimedOrg.org ?? teamOrg,
    user,
    endUser,
    unknownEndUser,
    membership,
    tags,
    groups,
    globalSpend,
    permissions,
    agent,
    memberBudget,
  ]);
}

type Resolved = [
  Organization | null,
  User | null,
  EndUser | null,
  UnknownEndUser | undefined,
  TeamMembership | null,
  readonly Tag[],
  readonly AccessGroup[],
  number | null,
  readonly ObjectPermission[],
  Agent | null,
  Budget | null,
];

/** The end user's budget (`_check_end_user_budget` inside get_end_user_object), then the snapshot. */
/** LiteLLM's refusal of a user id with no row, when user_id_upsert may not create one. */
function userMissing(userId: string): JwtSnapshotResult {
  return {
    kind: 'refused',
    denial: authErrorFromException(`User doesn't exist in db. 'user_id'=${userId}. Create user via \`/user/new\` call. Got error - `),
    check: 'jwt_user',
  };
}

function assemble(
  facts: RequestFacts,
  userId: string | null,
  team: Team | null,
  groupIds: readonly string[],
  [organization, user, endUser, unknownEndUser, membership, tags, groups, globalSpend, permissions, agent, teamMemberDefaultBudget]: Resolved,
): JwtSnapshotResult {
  // Before common_checks, not on info routes.
  if (endUser !== null && !isInfoRoute(facts.route)) {
    const denial = endUserOverBudget(endUser);
    if (denial !== null) return { kind: 'refused', denial, check: 'end_user_budget_before_key_lookup' };
  }
  return {
    kind: 'loaded',
    userId,
    snapshot: Object.freeze({
      ...EMPTY_SNAPSHOT,
      team,
      membership,
      user,
      endUser,
      unknownEndUser,
      organization,
      tags: tags.length > 0 ? Object.freeze(tags) : NO_TAGS,
      accessGroups: groupsById(groupIds, groups),
      globalSpend,
      objectPermissions: permissionsById(permissions),
      agent,
      jwtUserId: userId,
      teamMemberDefaultBudget,
    }),
  };
}
