/**
 * The `proxy_admin_viewer` role (`RouteChecks._check_proxy_admin_viewer_access`, litellm-auth.md
 * §6.3 step 5): read everything, write nothing, and never call models.
 */
import { LITELLM_ROUTES } from '../routes/route-groups';
import { checkRouteAccess, isLlmApiRoute } from '../routes/classify';
import type { CheckContext, Denial } from './types';
import { authErrorFromHttpException } from './errors';
import { requestBody } from './context';

/** Management writes a viewer may never call, whatever the HTTP method. */
const VIEWER_BLOCKED_WRITE_ROUTES: ReadonlySet<string> = new Set([
  '/user/new',
  '/user/delete',
  '/user/bulk_update',
  '/team/new',
  '/team/update',
  '/team/delete',
  '/team/block',
  '/team/unblock',
  '/team/permissions_update',
  '/team/permissions_bulk_update',
  '/model/new',
  '/model/update',
  '/model/delete',
  '/jwt/key/mapping/new',
  '/jwt/key/mapping/update',
  '/jwt/key/mapping/delete',
  '/key/generate',
  '/key/delete',
  '/key/update',
  '/key/regenerate',
  '/key/service-account/generate',
  '/key/block',
  '/key/unblock',
  '/key/bulk_update',
  '/team/key/bulk_update',
]);

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

function isBlockedWrite(route: string): boolean {
  if (VIEWER_BLOCKED_WRITE_ROUTES.has(route)) return true;
  return route.startsWith('/key/') && (route.endsWith('/regenerate') || route.endsWith('/reset_spend'));
}

export function adminViewerRefusal(ctx: CheckContext, role: string): Denial | null {
  const route = ctx.request.route;
  const refused = (): Denial =>
    authErrorFromHttpException(403, `user not allowed to access this route, role= ${role}. Trying to access: ${route}`);
  if (isLlmApiRoute(route, ctx.policy.passThroughEndpoints)) {
    return authErrorFromHttpException(403, `user not allowed to access this OpenAI routes, role= ${role}`);
  }
  if (route === '/user/update') {
    const invalid = Object.keys(requestBody(ctx)).find((param) => param !== 'user_email' && param !== 'password');
    if (invalid === undefined) return null;
    return authErrorFromHttpException(
      403,
      `user not allowed to access this route, role= ${role}. Trying to access: ${route} and updating invalid param: ${invalid}. only user_email and password can be updated`,
    );
  }
  if (isBlockedWrite(route)) return refused();
  if (SAFE_METHODS.has(ctx.request.method.toUpperCase() || 'GET')) return null;
  if (checkRouteAccess(route, LITELLM_ROUTES.admin_viewer_routes)) return null;
  if (checkRouteAccess(route, LITELLM_ROUTES.global_spend_tracking_routes)) return null;
  return refused();
}
