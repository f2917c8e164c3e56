/**
 * The snapshot a JWT identity is checked against (`JWTAuthManager.get_objects`, litellm-auth.md
 * §3.3 step 8): organization, user, end user, team membership, plus what common_checks reads
 * (tags, the team's DB access groups, global spend). No key and no project: a JWT has neither.
 *
 * Reads run in parallel; the refusals are then applied in LiteLLM's order (organization, user,
 * end user), and the `user_id_upsert` write happens only once nothing before it refused.
 */
import { authErrorFromException, authErrorFromHttpExceptionDict } from '../../checks/errors';
import { endUserOverBudget } from '../../checks/end-user-budget';
import type { Denial, Snapshot } from '../../checks/types';
import type { AccessGroup, Organization, Team, User } from '../../domain/entities';
import type { RequestFacts } from '../../domain/request';
import { isInfoRoute } from '../../routes/classify';
import { EMPTY_SNAPSHOT, loadEndUser } from '../../snapshot/load-snapshot';
import { tagsFromBody } from '../../snapshot/request-tags';
import type { ClaimIdentity } from './claim-identity';
import type { JwtLookups } from './team-selection';

export type JwtSnapshotResult =
  | { readonly kind: 'loaded'; readonly snapshot: Snapshot; readonly userId: string | null }
  | { readonly kind: 'refused'; readonly denial: Denial; readonly check: string };

type OrgResult = { readonly org: Organization | null } | { readonly denial: Denial };

/** `get_org_object` (a missing org is a plain exception → 401) or `get_org_object_by_alias`. */
async function claimedOrganization(lookups: JwtLookups, identity: ClaimIdentity): Promise<OrgResult> {
  if (identity.orgId !== null) {
    const org = await lookups.store.findOrganization(identity.orgId);
    if (org !== null) return { org };
    return {
      denial: authErrorFromException(
        `Organization doesn't exist in db. Organization=${identity.orgId}. Create organization via \`/organization/new\` call.`,
      ),
    };
  }
  if (identity.orgAlias === null) return { org: null };
  const alias = identity.orgAlias;
  const ids = await lookups.directory.organizationIdsWithAlias(alias);
  if (ids.length > 1) {
    return {
      denial: authErrorFromHttpExceptionDict(400, {
        error: `Multiple organizations found with alias '${alias}'. Please use org_id_jwt_field instead or ensure organization aliases are unique.`,
      }),
    };
  }
  const org = ids.length === 1 ? await lookups.store.findOrganization(ids[0]) : null;
  if (org !== null) return { org };
  return {
    denial: authErrorFromHttpExceptionDict(404, {
      error: `Organization with alias '${alias}' doesn't exist in db. Create organization via \`/organization/new\` call.`,
    }),
  };
}

/** `get_user_object` before any write: by id (cached), then by `sso_user_id` or email. */
async function existingUser(lookups: JwtLookups, identity: ClaimIdentity): Promise<User | null> {
  if (identity.userId === null) return null;
  return (
    (await lookups.store.findUser(identity.userId)) ??
    (await lookups.directory.findUserBySsoIdOrEmail(identity.userId, identity.userEmail))
  );
}

async function accessGroupsOf(lookups: JwtLookups, team: Team | null): Promise<ReadonlyMap<string, AccessGroup>> {
  const ids = team?.access_group_ids ?? [];
  const groups = ids.length > 0 ? await lookups.store.findAccessGroups(ids) : [];
  return new Map(groups.map((g) => [g.access_group_id, g]));
}

export async function loadJwtSnapshot(
  lookups: JwtLookups,
  identity: ClaimIdentity,
  team: Team | null,
  facts: RequestFacts,
): Promise<JwtSnapshotResult> {
  const { store, settings, policy } = lookups;
  const userId = identity.userId;
  const teamId = team?.team_id ?? null;
  const tagNames = tagsFromBody(facts.body);
  // LiteLLM's org budget check uses the token's org, else the team's (`valid_token.org_id`).
  const teamOrgId = identity.orgId === null && identity.orgAlias === null ? (team?.organization_id ?? null) : null;
  const [claimedOrg, teamOrg, user, endUser, membership, tags, accessGroups, globalSpend] = await Promise.all([
    claimedOrganization(lookups, identity),
    teamOrgId !== null ? store.findOrganization(teamOrgId) : null,
    existingUser(lookups, identity),
    // `get_end_user_object`, with litellm_settings.max_end_user_budget_id for rows without a budget.
    loadEndUser(store, identity.endUserId, policy),
    userId !== null && teamId !== null ? store.findMembership(userId, teamId) : null,
    tagNames.length > 0 ? store.findTags(tagNames) : [],
    accessGroupsOf(lookups, team),
    policy.maxBudget !== null && policy.maxBudget > 0 ? store.globalSpend() : null,
  ]);

  if ('denial' in claimedOrg) return { kind: 'refused', denial: claimedOrg.denial, check: 'jwt_organization' };
  let resolvedUser = user;
  if (userId !== null && resolvedUser === null) {
    // `user_allowed_email_domain` turns the upsert off for other domains (`valid_user_email`).
    if (!settings.userIdUpsert || identity.validUserEmail === false) {
      return {
        kind: 'refused',
        denial: authErrorFromException(
          `User doesn't exist in db. 'user_id'=${userId}. Create user via \`/user/new\` call. Got error - `,
        ),
        check: 'jwt_user',
      };
    }
    const defaults = settings.newUserDefaults;
    resolvedUser = await lookups.directory.upsertUser({
      userId,
      email: identity.userEmail,
      role: defaults.userRole,
      maxBudget: defaults.maxBudget,
      models: defaults.models,
    });
  }
  // `_check_end_user_budget` inside get_end_user_object: before common_checks, not on info routes.
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
      user: resolvedUser,
      endUser,
      organization: claimedOrg.org ?? teamOrg,
      tags: Object.freeze(tags),
      accessGroups,
      globalSpend,
    }),
  };
}
