/**
 * Verified claims → who the caller says it is (`JWTHandler.get_*`, `get_rbac_role`,
 * `JWTAuthManager.get_user_info`, litellm-auth.md §3.3 steps 2 and 5). Pure: nothing is looked up.
 *
 * A token whose `iss` names a `litellm_jwtauth.issuers` entry is read with that entry's claim
 * fields where it sets them (newer LiteLLM's per-issuer configuration, `issuerClaim`); every
 * other setting, and every field the entry leaves unset, is the top-level one.
 */
import type { Json } from '../../domain/entities';
import { authErrorFromException } from '../../checks/errors';
import type { Denial } from '../../checks/types';
import { claimReadAt, idAt, idOf, isInexactId, listAt, MISSING, scopesOf, stringsAt, userIdAt, type ClaimRead, type Claims } from './claims';
import { pyStrOfClaim } from './written-floats';
import type { RbacRole } from './settings-schema';
import type { IssuerClaimFields, IssuerSettings, JwtSettings } from './settings';

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
  /**
   * The team claim as Python prints it (`1.0`, `True`, `{'a': 1}`) when it is a value LiteLLM's
   * team lookup fails on (a float, true, a non-empty object or list): its 404 names it. Else null.
   */
  readonly unreadableTeamId: string | null;
  /** `object_id_jwt_field` when the token's role is TEAM: it names the team directly. */
  readonly objectTeamId: string | null;
  readonly teamAlias: string | null;
  /** `team_ids_jwt_field` (group teams), in token order. */
  readonly groupTeamIds: readonly string[];
  /** The teams an `x-litellm-team-id` header may name: the group teams and the specific team. */
  readonly allowedTeamIds: readonly string[];
}

/**
 * The `issuers` entry the claims' `iss` names (LiteLLM `_get_configured_issuer`: the first entry
 * whose `issuer` is exactly it), or null. The verifier chose that entry's keys by the same `iss`
 * and required it, and Envoy's jwt_authn verified it, so it cannot name another issuer's entry.
 */
export function issuerOf(claims: Claims, settings: Pick<JwtSettings, 'issuers'>): IssuerSettings | null {
  const iss = claims['iss'];
  if (typeof iss !== 'string' || iss === '') return null;
  return settings.issuers.find((entry) => entry.issuer === iss) ?? null;
}

/**
 * An issuer's own claim (LiteLLM `_apply_issuer_claim_mappings`, read back by the `get_*`): the
 * value at the entry's path when the token holds one there, not null and not "". MISSING, the
 * entry's field unset or its claim absent, means the top-level field is read, as LiteLLM's
 * getters fall back to it: a mapping is an override per token, not a replacement.
 */
function issuerClaim(claims: Claims, issuer: IssuerSettings | null, field: keyof IssuerClaimFields): ClaimRead | typeof MISSING {
  const path = issuer?.fields[field] ?? null;
  if (path === null) return MISSING;
  const read = claimReadAt(claims, path);
  return read === MISSING || read.value === null || read.value === '' ? MISSING : read;
}

/**
 * `get_team_ids_from_jwt` of an issuer's claim: a list, or a single string as a one-item list
 * (the top-level field names no team with a string); anything else names none, without falling
 * back to the top-level field.
 */
function issuerTeamIds(value: Json): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

interface TeamClaim {
  readonly id: string | null;
  readonly isDefault: boolean;
  /** `get_team_id` returned a value (not None): the token's role is TEAM, whatever the value. */
  readonly present: boolean;
  readonly unreadable: string | null;
}

/**
 * `get_team_id`: an issuer's own claim (a list's first element; never `team_id_default`), else
 * the top-level field, where a missing path falls back to `team_id_default`; a present null does not.
 */
function teamIdOf(claims: Claims, settings: JwtSettings, issuer: IssuerSettings | null): TeamClaim {
  const own = issuerClaim(claims, issuer, 'teamId');
  if (own !== MISSING) return teamClaimOf(own);
  const field = settings.fields.teamId;
  const read = claimReadAt(claims, field);
  if (field === null || read === MISSING) {
    const id = settings.teamIdDefault;
    return { id, isDefault: id !== null, present: id !== null, unreadable: null };
  }
  return teamClaimOf(read);
}

/**
 * A team claim as LiteLLM's `find_and_validate_specific_team_id` takes it: a falsy value (false,
 * 0, an empty object or list, "") names no team; a string or an integer is the id (42 → "42"); any
 * other value (a float, true, an object, a list) goes to `get_team_object`, whose Prisma lookup of
 * a String column fails on it, which it answers with its 404 "Team doesn't exist in db".
 */
function teamClaimOf(read: ClaimRead): TeamClaim {
  const { value } = read;
  // A list's first element (an empty list is no team: get_team_id's default, None).
  const first = Array.isArray(value) ? (value[0] ?? null) : value;
  const float = read.float;
  const present = first !== null;
  if (first === null || first === false || first === '' || first === 0) return { id: null, isDefault: false, present, unreadable: null };
  if (typeof first === 'object' && (Array.isArray(first) ? first.length === 0 : Object.keys(first).length === 0)) {
    return { id: null, isDefault: false, present, unreadable: null };
  }
  if (typeof first === 'string' || (typeof first === 'number' && Number.isFinite(first) && Number.isInteger(first) && !float)) {
    return { id: idOf(read), isDefault: false, present, unreadable: null };
  }
  return { id: null, isDefault: false, present, unreadable: pyStrOfClaim(first, float) };
}

/**
 * The path of an id claim this token would be read by that holds an integer too large to read
 * exactly (claims.ts `isInexactId`), or null: the issuer's own claim where it holds one, else the
 * top-level field's; the user id only where no e-mail stands in for a non-string one.
 */
function inexactIdClaimOf(claims: Claims, settings: JwtSettings, issuer: IssuerSettings | null, userEmail: string | null): string | null {
  const fields: (keyof IssuerClaimFields & keyof JwtSettings['fields'])[] = ['userEmail', 'teamId', 'orgId', 'endUserId'];
  if (userEmail === null) fields.push('userId');
  for (const field of fields) {
    const own = issuerClaim(claims, issuer, field);
    const path = own !== MISSING ? (issuer?.fields[field] ?? null) : settings.fields[field];
    if (isInexactId(own !== MISSING ? own : claimReadAt(claims, path))) return path;
  }
  const { objectId, orgAlias, teamAlias } = settings.fields;
  return [objectId, orgAlias, teamAlias].find((path) => isInexactId(claimReadAt(claims, path))) ?? null;
}

/**
 * `get_user_id(…, default_value=None) is not None`, as `get_rbac_role` tests it: any user claim
 * but null makes a user token, one that names no user (`""`, `false`, an object) included.
 */
function userClaimed(claims: Claims, settings: JwtSettings, issuer: IssuerSettings | null): boolean {
  if (issuerClaim(claims, issuer, 'userId') !== MISSING) return true;
  const read = claimReadAt(claims, settings.fields.userId);
  return read !== MISSING && read.value !== null;
}

function rbacRoleOf(claims: Claims, settings: JwtSettings, isAdmin: boolean, teamClaimed: boolean, userClaimed: boolean): RbacRole | null {
  if (isAdmin) return 'proxy_admin';
  if (teamClaimed) return 'team';
  if (userClaimed) return 'internal_user';
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
  const issuer = issuerOf(claims, settings);
  /** An id claim: the issuer's own where the token holds it, else the top-level field's. */
  const idClaim = (field: keyof IssuerClaimFields & keyof JwtSettings['fields']): string | null => {
    const own = issuerClaim(claims, issuer, field);
    return own !== MISSING ? idOf(own) : idAt(claims, settings.fields[field]);
  };
  const userEmail = idClaim('userEmail');
  // Refused rather than read as no id, which would leave the token a teamless or userless caller.
  const inexact = inexactIdClaimOf(claims, settings, issuer, userEmail);
  if (inexact !== null) return authErrorFromException(`JWT claim '${inexact}' holds an integer too large to read exactly`);
  const isAdmin = scopes.includes(settings.adminJwtScope);
  const specificTeam = teamIdOf(claims, settings, issuer);
  const specificTeamId = specificTeam.id;
  const rbacRole = rbacRoleOf(claims, settings, isAdmin, specificTeam.present, userClaimed(claims, settings, issuer));
  const objectId = idAt(claims, settings.fields.objectId);
  const objectIsTeam = objectId !== null && rbacRole === 'team';
  const objectIsUser = objectId !== null && rbacRole === 'internal_user';
  const ownTeamIds = issuerClaim(claims, issuer, 'teamIds');
  const groupTeamIds = ownTeamIds !== MISSING ? issuerTeamIds(ownTeamIds.value) : listAt(claims, settings.fields.teamIds);
  // get_user_id's email default applies to the top-level field only: an issuer's own claim is taken as it is.
  const ownUserId = issuerClaim(claims, issuer, 'userId');
  const claimedUserId = ownUserId !== MISSING ? idOf(ownUserId) : userIdAt(claims, settings.fields.userId, userEmail);
  const allowedTeamIds = [...groupTeamIds];
  if (specificTeamId !== null && !allowedTeamIds.includes(specificTeamId)) allowedTeamIds.push(specificTeamId);
  return {
    scopes,
    isAdmin,
    rbacRole,
    userId: objectIsUser ? objectId : claimedUserId,
    userEmail,
    validUserEmail: validEmail(settings, userEmail),
    orgId: idClaim('orgId'),
    orgAlias: idAt(claims, settings.fields.orgAlias),
    endUserId: idClaim('endUserId'),
    specificTeamId,
    specificTeamIdIsDefault: specificTeam.isDefault,
    unreadableTeamId: specificTeam.unreadable,
    objectTeamId: objectIsTeam ? objectId : null,
    teamAlias: idAt(claims, settings.fields.teamAlias),
    groupTeamIds,
    allowedTeamIds,
  };
}
