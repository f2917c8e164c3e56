/**
 * `EnterpriseRouteChecks.should_call_route`: an instance started with `DISABLE_ADMIN_ENDPOINTS`
 * refuses management routes, one started with `DISABLE_LLM_API_ENDPOINTS` refuses LLM API routes
 * (config/disabled-routes.ts reads both), whoever calls, master key included.
 *
 * LiteLLM runs it in `user_api_key_auth` once the caller is authenticated, for every kind of caller
 * (master key, public routes, no master key, JWT). Tollgate runs it before any credential is read,
 * the only point every caller passes: a request on a disabled route with a bad key is answered 403
 * here, 401 there. Either way it is refused, and no lookup is spent on it.
 *
 * LiteLLM raises it outside its exception handler (FastAPI's `{"detail": …}` body); Tollgate answers
 * with the `{"error": …}` envelope as for the other route refusals (spec README §4.5), status 403.
 *
 * Tollgate judges the route Starlette serves, where LiteLLM judges the path as sent: a path ending in
 * `%0A` is served as the route without that newline (Python's `$` matches before a final one), but
 * misses LiteLLM's exact-membership lists, so `/chat/completions%0A` reached the chat endpoint of an
 * instance with DISABLE_LLM_API_ENDPOINTS.
 */
import { isLlmApiRoute, isManagementRoute } from '../routes/classify';
import type { Check } from './types';
import { authErrorFromHttpException } from './errors';

/**
 * LiteLLM's `LLM_API_EXEMPT_ROUTES`: model listing stays open on an admin instance, whose UI
 * needs it. Exact routes only, as LiteLLM's `in` test.
 */
const LLM_API_EXEMPT_ROUTES: readonly string[] = Object.freeze(['/models', '/v1/models']);

export const disabledRoutes: Check = {
  name: 'disabled_routes',
  spec: 'litellm-auth.md §2.7 step 14 (EnterpriseRouteChecks.should_call_route)',
  statuses: [403],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const disabled = ctx.policy.disabledRoutes;
    if (disabled === undefined || (!disabled.management && !disabled.llmApi)) return null;
    const route = servedRoute(ctx.request.route);
    // LiteLLM's if/elif: a route that is both (the agent routes, any path holding "/openai") is
    // judged as a management route first, then, if management routes are open, as an LLM API route.
    if (disabled.management && isManagementRoute(route)) {
      return authErrorFromHttpException(403, 'Management routes are disabled for this instance.');
    }
    if (disabled.llmApi && !LLM_API_EXEMPT_ROUTES.includes(route) && isLlmApiRoute(route, ctx.policy.passThroughEndpoints)) {
      return authErrorFromHttpException(403, 'LLM API routes are disabled for this instance.');
    }
    return null;
  },
};

/** The route Starlette dispatches `route` to: one final newline dropped (`re.match` with a `$` anchor). */
function servedRoute(route: string): string {
  return route.endsWith('\n') ? route.slice(0, -1) : route;
}
