/**
 * The JWT-only refusals decided from claims and configuration alone (litellm-auth.md §3.3 steps
 * 3, 4, 6 and 10): `enforce_rbac` with `role_permissions`, scope-based model access, the admin
 * route list, and `validate_object_id`. Pure functions returning LiteLLM's denials.
 */
import { authErrorFromException, authErrorFromHttpException, authErrorFromHttpExceptionDict } from '../../checks/errors';
import { pyList, pyRepr } from '../../checks/python-format';
import type { Denial } from '../../checks/types';
import type { Json } from '../../domain/entities';
import type { RequestFacts } from '../../domain/request';
import { allowedRoutesCheck } from '../../routes/classify';
import { LITELLM_ROUTES, isRouteGroupName } from '../../routes/route-groups';
import { servedModelNamesOf } from '../../routes/handler-model';
import type { ClaimIdentity } from './claim-identity';
import type { JwtSettings } from './settings';

/**
 * LiteLLM's `request_data.get("model")`: the body's model as sent (path parameters such as the
 * Azure deployment are copied into the body first, §2.1). Tollgate's parsed model stands in when
 * the body is absent or truncated.
 */
export function requestDataModel(facts: RequestFacts): Json {
  const body = facts.body;
  if (body !== null && Object.hasOwn(body, 'model')) return body['model'] ?? null;
  return facts.model === null ? null : typeof facts.model === 'string' ? facts.model : [...facts.model];
}

function isFalsy(value: Json): boolean {
  return value === null || value === '' || value === false || value === 0 || (Array.isArray(value) && value.length === 0);
}

/** An f-string of the model: a string as is, a list as Python prints it. */
function pyText(value: Json): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'string' ? pyRepr(v) : String(v))).join(', ')}]`;
  return String(value);
}

/** `JWTAuthManager.check_rbac_role`. Only a string model can be "in" the role's list. */
export function rbacRefusal(identity: ClaimIdentity, settings: JwtSettings, facts: RequestFacts): Denial | null {
  if (!settings.enforceRbac) return null;
  const role = identity.rbacRole;
  if (role === null) {
    return authErrorFromHttpException(
      403,
      'Unmatched token passed in. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.',
    );
  }
  const permission = settings.rolePermissions.find((p) => p.role === role);
  const model = requestDataModel(facts);
  if (permission?.models != null && model !== null && !(typeof model === 'string' && permission.models.includes(model))) {
    return authErrorFromHttpException(
      403,
      `Role=${role} not allowed to call model=${pyText(model)}. Allowed models=${pyList(permission.models)}`,
    );
  }
  const roleModels = permission?.models;
  const servedOutside = roleModels == null ? null : servedModelOutside(facts, roleModels);
  if (servedOutside !== null && roleModels != null) {
    return authErrorFromHttpException(403, `Role=${role} not allowed to call model=${servedOutside}. Allowed models=${pyList(roleModels)}`);
  }
  if (permission?.routes != null && !allowedRoutesCheck(facts.route, permission.routes)) {
    return authErrorFromHttpException(
      403,
      `Role=${role} not allowed to call route=${facts.route}. Allowed routes=${pyList(permission.routes)}`,
    );
  }
  return null;
}

/** `check_scope_based_access`: the model must be granted by a scope the token carries. */
export function scopeRefusal(identity: ClaimIdentity, settings: JwtSettings, facts: RequestFacts): Denial | null {
  if (!settings.enforceScopeBasedAccess || settings.scopeMappings.length === 0) return null;
  const allowed = settings.scopeMappings.filter((m) => identity.scopes.includes(m.scope)).flatMap((m) => m.models);
  const model = requestDataModel(facts);
  if (!isFalsy(model) && !(typeof model === 'string' && allowed.includes(model))) {
    return authErrorFromHttpExceptionDict(403, { error: `model=${pyText(model)} not allowed. Allowed_models=${pyList(allowed)}` });
  }
  const servedOutside = servedModelOutside(facts, allowed);
  return servedOutside === null ? null : authErrorFromHttpExceptionDict(403, { error: `model=${servedOutside} not allowed. Allowed_models=${pyList(allowed)}` });
}

/**
 * A model LiteLLM's handler serves in place of the body's (the path's or `?model=`,
 * checks/served-model.ts) that the list does not hold: LiteLLM's JWT checks read the body's model
 * alone, so a role or scope limited to one model could be served another (a deliberate difference,
 * as for the key's and team's model checks). Null when the handler serves the body's model.
 */
function servedModelOutside(facts: RequestFacts, allowed: readonly string[]): string | null {
  const served = servedModelNamesOf(facts);
  if (served === null) return null;
  if (typeof served === 'string') return allowed.includes(served) ? null : served;
  return served.find((name) => !allowed.includes(name)) ?? null;
}

/** `get_actual_routes`: group names expanded into their routes, for the admin refusal message. */
function actualRoutes(allowed: readonly string[]): string[] {
  return allowed.flatMap((entry) => (isRouteGroupName(entry) ? [...LITELLM_ROUTES[entry]] : [entry]));
}

/** `check_admin_access`: an admin token may call only `admin_allowed_routes` (a plain exception → 401). */
export function adminRouteRefusal(settings: JwtSettings, route: string): Denial | null {
  if (allowedRoutesCheck(route, settings.adminAllowedRoutes)) return null;
  return authErrorFromException(
    `Admin not allowed to access this route. Route=${route}, Allowed Routes=${pyList(actualRoutes(settings.adminAllowedRoutes))}`,
  );
}

/** `validate_object_id` (reads `general_settings.enforce_rbac`): a non-admin needs a user or a team. */
export function objectIdRefusal(settings: JwtSettings, userId: string | null, teamId: string | null): Denial | null {
  if (!settings.requireObjectId || userId !== null || teamId !== null) return null;
  return authErrorFromHttpException(
    403,
    'No user or team id found in token. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.',
  );
}

/** `allowed_routes_check(TEAM, route)`: the routes a team token may call. */
export function teamMayCallRoute(settings: JwtSettings, route: string): boolean {
  return allowedRoutesCheck(route, settings.teamAllowedRoutes);
}
