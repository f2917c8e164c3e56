/**
 * What kind of route a request is, in LiteLLM's terms (`route_checks.py::RouteChecks`,
 * litellm-auth.md §6.2). Every function is pure and takes the route as LiteLLM sees it:
 * the path without query string and without the proxy's base path.
 */
import { LITELLM_ROUTES, isRouteGroupName } from './route-groups';
import { isSubpathOf, type PassThroughEndpoint } from '../config/pass-through-endpoints';
import {
  checkRouteAccess,
  isWildcardRoutePattern,
  routeMatchesAllowedRoute,
  routeMatchesPlaceholderTemplate,
  routeMatchesStarletteTemplate,
  routeMatchesWildcardPattern,
} from './match';

// Ending as Python's `$` does (match.ts PYTHON_END).
const AZURE_DEPLOYMENT_ROUTE = /^\/openai\/deployments\/[^/]+\/[^/]+\/chat\/completions\n?$/;
const AZURE_ENGINE_ROUTE = /^\/engines\/[^/]+\/chat\/completions\n?$/;

function isMember(route: string, list: readonly string[]): boolean {
  return list.includes(route);
}

/**
 * LiteLLM `_is_azure_openai_route`: the Azure SDK shapes with a provider-qualified deployment
 * (`/openai/deployments/vertex_ai/gemini-1.5-flash/chat/completions`) and `/engines/{m}/chat/completions`.
 */
export function isAzureOpenAiRoute(route: string): boolean {
  return AZURE_DEPLOYMENT_ROUTE.test(route) || AZURE_ENGINE_ROUTE.test(route);
}

const NO_ENDPOINTS: readonly PassThroughEndpoint[] = Object.freeze([]);
const GOOGLE_AND_ANTHROPIC_ROUTES: readonly string[] = Object.freeze([...LITELLM_ROUTES.google_routes, ...LITELLM_ROUTES.anthropic_routes]);

/**
 * A route of a `general_settings.pass_through_endpoints` entry registered with LiteLLM's auth
 * dependency: LiteLLM appends its path to `openai_routes`, and with `include_subpath` also
 * `path.rstrip("/") + "/*"`, so these are LLM API routes and members of that group.
 */
export function isGuardedPassThroughPath(route: string, passThroughEndpoints: readonly PassThroughEndpoint[]): boolean {
  for (const endpoint of passThroughEndpoints) {
    if (!endpoint.guarded) continue;
    if (endpoint.path === route || (endpoint.includeSubpath && route.startsWith(`${stripTrailingSlashes(endpoint.path)}/`))) return true;
  }
  return false;
}

/** Python's `str.rstrip("/")`. */
function stripTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end -= 1; // '/'
  return path.slice(0, end);
}

/**
 * LiteLLM `is_registered_pass_through_route` for the configured endpoints: a registered
 * endpoint's path, or a sub-path of one registered with `include_subpath`. The `llm_api_routes`
 * group admits these.
 */
export function isRegisteredPassThroughRoute(route: string, passThroughEndpoints: readonly PassThroughEndpoint[]): boolean {
  for (const endpoint of passThroughEndpoints) {
    if (endpoint.registered && (endpoint.path === route || isSubpathOf(endpoint, route))) return true;
  }
  return false;
}

/**
 * LiteLLM `is_llm_api_route`, step for step (§6.2), with the configured pass-through endpoints
 * it registers. Decides which routes carry key budgets, the global budget, rate limits,
 * `enforce_user_param` and `reject_clientside_metadata_tags`.
 */
export function isLlmApiRoute(route: unknown, passThroughEndpoints: readonly PassThroughEndpoint[] = NO_ENDPOINTS): boolean {
  if (typeof route !== 'string') return false;
  if (passThroughEndpoints.length > 0 && isGuardedPassThroughPath(route, passThroughEndpoints)) return true;
  if (route.length > LLM_ROUTE_MEMO_MAX_LENGTH) return isBuiltInLlmApiRoute(route);
  const known = llmRouteMemo.get(route);
  if (known !== undefined) return known;
  const answer = isBuiltInLlmApiRoute(route);
  if (llmRouteMemo.size >= LLM_ROUTE_MEMO_SIZE) llmRouteMemo.clear();
  llmRouteMemo.set(route, answer);
  return answer;
}

/**
 * The answers for the routes seen, since a Check asks several times and the template walk takes
 * microseconds for a route outside the exact lists (Azure deployments, generateContent,
 * pass-throughs). Bounded in routes and in their length (at most ~1 MB of keys): a client
 * inventing paths, which it may do before any key is checked, costs a walk each and holds little.
 */
const llmRouteMemo = new Map<string, boolean>();
const LLM_ROUTE_MEMO_SIZE = 4096;
const LLM_ROUTE_MEMO_MAX_LENGTH = 256;

function isBuiltInLlmApiRoute(route: string): boolean {
  if (isMember(route, LITELLM_ROUTES.openai_routes)) return true;
  if (isMember(route, LITELLM_ROUTES.anthropic_routes)) return true;
  if (isMember(route, LITELLM_ROUTES.google_routes)) return true;
  if (checkRouteAccess(route, LITELLM_ROUTES.mcp_inference_routes)) return true;
  if (checkRouteAccess(route, LITELLM_ROUTES.agent_routes)) return true;
  if (isMember(route, LITELLM_ROUTES.litellm_native_routes)) return true;
  for (const template of LITELLM_ROUTES.openai_routes) {
    if (template.includes('{') && routeMatchesPlaceholderTemplate(route, template)) return true;
    if (isWildcardRoutePattern(template) && routeMatchesWildcardPattern(route, template)) return true;
  }
  for (const template of GOOGLE_AND_ANTHROPIC_ROUTES) {
    if (template.includes('{') && routeMatchesPlaceholderTemplate(route, template)) return true;
  }
  if (isAzureOpenAiRoute(route)) return true;
  // LiteLLM: a plain substring test, so any path containing "/openai" or "/cohere" anywhere
  // (e.g. "/team/openai-admins") counts as an LLM route. Copied as is.
  return LITELLM_ROUTES.mapped_pass_through_routes.some((prefix) => route.includes(prefix));
}

/** LLM API routes whose handlers call no model, so LiteLLM's pre-call hooks never run for them. */
const MODEL_FREE_LLM_ROUTES: readonly string[] = [
  '/models',
  '/v1/models',
  '/cursor/models',
  '/cursor/v1/models',
  '/utils/token_counter',
  '/utils/transform_request',
];

/**
 * The routes LiteLLM's rate limiter sees: it runs as the pre-call hook of the endpoints that call
 * a model (and of pass-throughs), so listing models, counting tokens, reading a key's info or
 * managing teams is neither counted nor refused.
 */
export function isRateLimitedRoute(route: string, passThroughEndpoints: readonly PassThroughEndpoint[] = NO_ENDPOINTS): boolean {
  return isLlmApiRoute(route, passThroughEndpoints) && !isMember(route, MODEL_FREE_LLM_ROUTES);
}

/** LiteLLM `is_info_route`: exact membership in `info_routes`. */
export function isInfoRoute(route: string): boolean {
  return isMember(route, LITELLM_ROUTES.info_routes);
}

/** LiteLLM `is_management_route`. */
export function isManagementRoute(route: string): boolean {
  return checkRouteAccess(route, LITELLM_ROUTES.management_routes);
}

/** The MCP test used by `_enforce_user_param_check`: member of, or matching, `mcp_routes`. */
export function isMcpRoute(route: string): boolean {
  return checkRouteAccess(route, LITELLM_ROUTES.mcp_routes);
}

export function isMasterKeyOnlyRoute(route: string): boolean {
  return isMember(route, LITELLM_ROUTES.master_key_only_routes);
}

export function isGlobalSpendTrackingRoute(route: string): boolean {
  return isMember(route, LITELLM_ROUTES.global_spend_tracking_routes);
}

/** LiteLLM `is_generate_content_route`: Google routes that may carry the key as `?key=`. */
export function isGenerateContentRoute(route: string): boolean {
  return route.includes('generateContent') || route.includes('streamGenerateContent');
}

/**
 * Public routes need no credential (§2.4): LiteLLM's `public_routes`, plus the operator's
 * `general_settings.public_routes` (exact, or trailing-`*` prefix).
 * LiteLLM honours the configured list only for premium installs; Tollgate has no licence
 * tiers, so a configured list always applies.
 */
export function isPublicRoute(route: string, configuredPublicRoutes: readonly string[] = []): boolean {
  if (isMember(route, LITELLM_ROUTES.public_routes)) return true;
  // Asked on every Check: without a configured list no closure is made.
  if (configuredPublicRoutes.length === 0) return false;
  if (configuredPublicRoutes.includes(route)) return true;
  return configuredPublicRoutes.some((pattern) => routeMatchesWildcardPattern(route, pattern));
}

/**
 * LiteLLM `is_virtual_key_allowed_to_call_route` without the raise (§6.4): does a key's
 * `allowed_routes` admit this route? An empty list means no restriction.
 * Entries may be routes (exact or sub-path), `LiteLLMRoutes` group names, or `prefix*` patterns.
 * The configured pass-through endpoints LiteLLM registers belong to `openai_routes`, and
 * `llm_api_routes` admits them too; those it keeps in its database are not known here.
 */
export function keyAllowedRoutesAdmit(
  route: string,
  allowedRoutes: readonly string[],
  passThroughEndpoints: readonly PassThroughEndpoint[] = NO_ENDPOINTS,
): boolean {
  if (allowedRoutes.length === 0) return true;
  if (allowedRoutes.some((entry) => routeMatchesAllowedRoute(route, entry))) return true;
  for (const entry of allowedRoutes) {
    if (!isRouteGroupName(entry)) continue;
    if (checkRouteAccess(route, LITELLM_ROUTES[entry])) return true;
    if (entry === 'openai_routes' && isGuardedPassThroughPath(route, passThroughEndpoints)) return true;
    if (entry === 'llm_api_routes' && isRegisteredPassThroughRoute(route, passThroughEndpoints)) return true;
  }
  return allowedRoutes.some((entry) => routeMatchesWildcardPattern(route, entry));
}

/**
 * The `allowed_routes` step inside the non-admin RBAC check (§6.3 step 12): exact, sub-path or
 * trailing-`*`; group names are *not* expanded there. An empty list admits nothing.
 */
export function tokenAllowedRoutesAdmit(route: string, allowedRoutes: readonly string[]): boolean {
  return allowedRoutes.some(
    (entry) => routeMatchesAllowedRoute(route, entry) || routeMatchesWildcardPattern(route, entry),
  );
}

/**
 * JWT `_allowed_routes_check`: entries are group names (their templates compiled like
 * Starlette's `compile_path`) or literal routes compared exactly.
 */
export function allowedRoutesCheck(route: string, allowedRoutes: readonly string[]): boolean {
  return allowedRoutes.some((entry) =>
    isRouteGroupName(entry)
      ? LITELLM_ROUTES[entry].some((template) => routeMatchesStarletteTemplate(route, template))
      : entry === route,
  );
}

export { checkRouteAccess, routeMatchesAllowedRoute, routeMatchesWildcardPattern, routeMatchesPlaceholderTemplate };
