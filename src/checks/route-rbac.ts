/**
 * Route RBAC inside common_checks (`_is_allowed_route` → `_is_api_route_allowed` →
 * `RouteChecks.non_proxy_admin_allowed_routes_check`, litellm-auth.md §6.3).
 *
 * Admin status comes from the *user row* only: a key without a user is not an admin, whatever
 * else it carries. The seed's `litellm-dashboard` UI-token shortcut is not reproduced (newer
 * LiteLLM removed it and routes UI tokens through the same RBAC).
 */
import type { Json, User, UserRole } from '../domain/entities';
import { USER_ROLES } from '../domain/entities';
import { LITELLM_ROUTES } from '../routes/route-groups';
import {
  checkRouteAccess,
  isGlobalSpendTrackingRoute,
  isInfoRoute,
  isLlmApiRoute,
  routeMatchesAllowedRoute,
  tokenAllowedRoutesAdmit,
} from '../routes/classify';
import type { Check, CheckContext, Denial } from './types';
import { authErrorFromException, authErrorFromHttpException } from './errors';
import { callerUserId, wholeRequestBody } from './context';
import { adminViewerRefusal } from './admin-viewer-access';

/** `_get_user_role`: the user row's role; an unknown string is `internal_user`; no user → null. */
export function userRoleOf(user: User | null): UserRole | null {
  if (user === null) return null;
  const role = USER_ROLES.find((r) => r === user.user_role);
  return role ?? 'internal_user';
}

/** `_user_is_org_admin`: the user is `org_admin` of the body's `organization_id`. */
function isOrgAdminForRequest(user: User | null, body: Readonly<Record<string, Json>>): boolean {
  if (user === null) return false;
  const orgId = body['organization_id'];
  return user.organization_memberships.some((m) => m.organization_id === orgId && m.user_role === 'org_admin');
}

/** `check_passthrough_route_access`: key, else team, `metadata.allowed_passthrough_routes`. */
function passthroughRouteAllowed(ctx: CheckContext): boolean {
  const keyList = ctx.snapshot.key?.metadata['allowed_passthrough_routes'];
  const teamList = ctx.snapshot.team?.metadata['allowed_passthrough_routes'];
  const list = Array.isArray(keyList) && keyList.length > 0 ? keyList : Array.isArray(teamList) ? teamList : [];
  return list.some((entry) => typeof entry === 'string' && routeMatchesAllowedRoute(ctx.request.route, entry));
}

/**
 * The `user_id` query parameter of `/user/info?user_id=…`: the last one when it is repeated, as
 * Starlette's `QueryParams.get` (and FastAPI's `Query`, so the handler) reads it. A `#…` tail is
 * no part of the query.
 */
function queryParam(path: string, name: string): string | null {
  const query = path.indexOf('?');
  if (query < 0) return null;
  const fragment = path.indexOf('#', query);
  return new URLSearchParams(path.slice(query + 1, fragment < 0 ? undefined : fragment)).getAll(name).at(-1) ?? null;
}

/**
 * `SensitiveDataMasker(visible_prefix=6, visible_suffix=2)` as used by `_mask_user_id` (newer
 * LiteLLM): ids of 4 characters or fewer become `***`.
 */
export function maskUserId(userId: string): string {
  const chars = Array.from(userId); // Python counts code points
  if (chars.length <= 4) return '***';
  if (chars.length <= 8) return '*'.repeat(chars.length);
  return `${chars.slice(0, 6).join('')}${'*'.repeat(chars.length - 8)}${chars.slice(-2).join('')}`;
}

function adminOnlyRouteRefusal(user: User | null, route: string): Denial {
  const role = user?.user_role || 'unknown';
  const userId = user?.user_id || 'unknown';
  return authErrorFromException(
    `Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${route}. Your role=${role}. Your user_id=${maskUserId(userId)}`,
  );
}

/** `/user/info?user_id=X` for someone else's X; other info routes are left to their handlers. */
function infoRouteRefusal(ctx: CheckContext): Denial | null {
  if (ctx.request.route !== '/user/info') return null;
  const requested = queryParam(ctx.request.path, 'user_id');
  const own = callerUserId(ctx.snapshot);
  if (!requested || requested === own) return null;
  return authErrorFromHttpException(
    403,
    `key not allowed to access this user's info. user_id=${requested}, key's user_id=${own ?? 'None'}`,
  );
}

/** `non_proxy_admin_allowed_routes_check`, branch by branch, first match decides. */
export function nonAdminRouteRefusal(ctx: CheckContext): Denial | null {
  const route = ctx.request.route;
  const { user, key } = ctx.snapshot;
  const role = userRoleOf(user);
  // LiteLLM honours admin_only_routes only on premium installs; Tollgate always does.
  if (ctx.policy.adminOnlyRoutes.includes(route)) {
    return authErrorFromHttpException(403, `user not allowed to access this route. Route=${route} is an admin only route`);
  }
  if (isLlmApiRoute(route, ctx.policy.passThroughEndpoints)) return null;
  if (isInfoRoute(route)) return infoRouteRefusal(ctx);
  if (isGlobalSpendTrackingRoute(route) && key !== null && Object.hasOwn(key.permissions, 'get_spend_routes')) {
    return null;
  }
  if (role === 'proxy_admin_viewer') return adminViewerRefusal(ctx, role);
  if (role === 'internal_user' && checkRouteAccess(route, LITELLM_ROUTES.internal_user_routes)) return null;
  if (isOrgAdminForRequest(user, wholeRequestBody(ctx)) && checkRouteAccess(route, LITELLM_ROUTES.org_admin_allowed_routes)) {
    return null;
  }
  if (role === 'internal_user_viewer' && checkRouteAccess(route, LITELLM_ROUTES.internal_user_view_only_routes)) {
    return null;
  }
  if (checkRouteAccess(route, LITELLM_ROUTES.self_managed_routes)) return null;
  // The MCP layer does its own authorization.
  if (route.startsWith('/v1/mcp/') || route.startsWith('/mcp-rest/')) return null;
  if (passthroughRouteAllowed(ctx)) return null;
  // A NULL allowed_routes column is stored as [] (README §2), so this also covers LiteLLM's
  // "allowed_routes is None" branch: both end in the admin-only refusal.
  if (key !== null && tokenAllowedRoutesAdmit(route, key.allowed_routes)) return null;
  return adminOnlyRouteRefusal(user, route);
}

export const routeRbac: Check = {
  name: 'route_rbac',
  spec: 'litellm-auth.md §6.3',
  statuses: [401, 403],
  errorTypes: ['auth_error'],
  decide: (ctx) => (ctx.snapshot.user?.user_role === 'proxy_admin' ? null : nonAdminRouteRefusal(ctx)),
};
