/**
 * Verified claims → who the caller says it is (`JWTHandler.get_*`, `get_rbac_role`,
 * `JWTAuthManager.get_user_info`, litellm-auth.md §3.3 steps 2 and 5). Pure: nothing is looked up.
 */
import type { Denial } from '../../checks/types';
import { claimAt, idAt, listAt, MISSING, scopesOf, stringsAt, userIdAt, type Claims } from './claims';
import type { RbacRole } from './settings-schema';
import type { JwtSettings } from './settings';

export interface ClaimIdentity {
  readonly scopes: readonly string[];
  /** The admin scope is present. */
  readonly isAdmin: boolean;
  /** `get_rbac_role`; null when the token matches no role. */
  readonly rbacRole: RbacRole | null;
  /** The user id claim, else the email claim, else (for INTERNAL_USER) the object id. */
  readonly userId: string | null;
  readonly userEmail: string | null;
  /** False when `user_allowed_email_domain` is set and the email is absent or elsewhere. */
  readonly validUserEmail: boolean | null;
  readonly orgId: string | null;
  readonly orgAlias: string | null;
  readonly endUserId: string | null;
  /** `get_team_id`: the team id claim, or `team_id_default` when the claim is missing. */
  readonly specificTeamId: string | null;
  /** `specificTeamId` is `team_id_default`, not a claim. */
  readonly specificTeamIdIsDefault: boolean;
  /** `object_id_jwt_field` when the token's role is TEAM: it names the team directly. */
  readonly objectTeamId: string | null;
  readonly teamAlias: string | null;
  /** `team_ids_jwt_field` (group teams), in token order. */
  readonly groupTeamIds: readonly string[];
  /** The teams an `x-litellm-team-id` header may name: the group teams and the specific team. */
  readonly allowedTeamIds: readonly string[];
}

/** `get_team_id`: a missing path falls back to `team_id_default`; a present null does not. */
function teamIdOf(claims: Claims, settings: JwtSettings): { readonly id: string | null; readonly isDefault: boolean } {
  const field = settings.fields.teamId;
  if (field === null || claimAt(claims, field) === MISSING) {
    return { id: settings.teamIdDefault, isDefault: settings.teamIdDefault !== null };
  }
  return { id: idAt(claims, field), isDefault: false };
}

function rbacRoleOf(claims: Claims, settings: JwtSettings, isAdmin: boolean, teamId: string | null): RbacRole | null {
  if (isAdmin) return 'proxy_admin';
  if (teamId !== null) return 'team';
  if (idAt(claims, settings.fields.userId) !== null) return 'internal_user';
  const userRoles = stringsAt(claims, settings.fields.userRoles);
  const allowed = settings.userAllowedRoles;
  if (userRoles !== null && allowed !== null && userRoles.some((role) => allowed.includes(role))) return 'internal_user';
  const jwtRoles = stringsAt(claims, settings.fields.roles);
  if (settings.roleMappings === null || jwtRoles === null || jwtRoles.length === 0) return null;
  // The first mapping (in configuration order) whose role the token carries.
  return settings.roleMappings.find((mapping) => jwtRoles.includes(mapping.role))?.internalRole ?? null;
}

function validEmail(settings: JwtSettings, email: string | null): boolean | null {
  const domain = settings.userAllowedEmailDomain;
  if (domain === null) return null;
  return email !== null && email.split('@').pop() === domain;
}

export function claimIdentityOf(claims: Claims, settings: JwtSettings): ClaimIdentity | Denial {
  const scopes = scopesOf(claims);
  if (!Array.isArray(scopes)) return scopes;
  const isAdmin = scopes.includes(settings.adminJwtScope);
  const specificTeam = teamIdOf(claims, settings);
  const specificTeamId = specificTeam.id;
  const rbacRole = rbacRoleOf(claims, settings, isAdmin, specificTeamId);
  const userEmail = idAt(claims, settings.fields.userEmail);
  const objectId = idAt(claims, settings.fields.objectId);
  const objectIsTeam = objectId !== null && rbacRole === 'team';
  const objectIsUser = objectId !== null && rbacRole === 'internal_user';
  const groupTeamIds = listAt(claims, settings.fields.teamIds);
  const allowedTeamIds = [...groupTeamIds];
  if (specificTeamId !== null && !allowedTeamIds.includes(specificTeamId)) allowedTeamIds.push(specificTeamId);
  return {
    scopes,
    isAdmin,
    rbacRole,
    userId: objectIsUser ? objectId : userIdAt(claims, settings.fields.userId, userEmail),
    userEmail,
    validUserEmail: validEmail(settings, userEmail),
    orgId: idAt(claims, settings.fields.orgId),
    orgAlias: idAt(claims, settings.fields.orgAlias),
    endUserId: idAt(claims, settings.fields.endUserId),
    specificTeamId,
    specificTeamIdIsDefault: specificTeam.isDefault,
    objectTeamId: objectIsTeam ? objectId : null,
    teamAlias: idAt(claims, settings.fields.teamAlias),
    groupTeamIds,
    allowedTeamIds,
  };
}
