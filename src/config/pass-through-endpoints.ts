/**
 * `general_settings.pass_through_endpoints` as LiteLLM's auth reads them (litellm-auth.md §2.3):
 * an endpoint whose `auth` is set and not `true` is called without a key, and one that sets no
 * `auth` (or `auth: null`) is treated as `auth: true`, as newer LiteLLM does (GHSA-7h34-mmrh-6g58:
 * `PassThroughGenericEndpoint.auth` defaults to true and the runtime reads `endpoint.get("auth",
 * True)`, so an entry that omits it is no longer an open forwarder); one that names a header in
 * `headers.litellm_user_api_key` takes the key from it when no usual header carries one; and
 * `custom_auth_parser: langfuse` reads the key as the user name of a Basic credential (Langfuse
 * SDKs send their public key there). Those rules see an endpoint's exact `path`, as LiteLLM's
 * auth does. With `include_subpath: true` LiteLLM also serves `path/…` (`initialize_pass_through_endpoints`):
 * without its auth dependency (`auth` set and not "true" in any case) with no key at all, with it
 * as an LLM API route (`path/*` joins `openai_routes`).
 */
export interface PassThroughEndpoint {
  readonly path: string;
  /** `auth: true`, or no `auth` at all; anything else (false, "true", 1) leaves the exact path unauthenticated. */
  readonly authenticated: boolean;
  /**
   * `str(auth).lower() == "true"`, or no `auth` at all: LiteLLM registers the routes with its auth
   * dependency and counts the path (and, with `include_subpath`, `path/*`) among `openai_routes`.
   */
  readonly guarded: boolean;
  /** `include_subpath: true` with a `target`: `path/…` is registered too. */
  readonly includeSubpath: boolean;
  /** A `target`: LiteLLM registers the endpoint's routes only then. */
  readonly registered: boolean;
  /** The header named by `headers.litellm_user_api_key`, lower-cased; null when none is. */
  readonly keyHeader: string | null;
  readonly langfuseAuth: boolean;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The entries LiteLLM can use: objects with a string `path`; anything else is left out. */
export function passThroughEndpointsOf(entries: readonly unknown[] | null | undefined): readonly PassThroughEndpoint[] {
  const endpoints: PassThroughEndpoint[] = [];
  for (const entry of entries ?? []) {
    if (!isObject(entry) || typeof entry['path'] !== 'string') continue;
    const headers = entry['headers'];
    const keyHeader = isObject(headers) && typeof headers['litellm_user_api_key'] === 'string' ? headers['litellm_user_api_key'] : '';
    const auth = entry['auth'];
    // A YAML `auth:` with no value is null: newer LiteLLM (`pass_through_auth_mode`) reads it as unset.
    const enforced = auth === true || auth === undefined || auth === null;
    const registered = entry['target'] !== undefined && entry['target'] !== null;
    endpoints.push(
      Object.freeze({
        path: entry['path'],
        authenticated: enforced,
        guarded: enforced || (typeof auth === 'string' && auth.toLowerCase() === 'true'),
        includeSubpath: registered && entry['include_subpath'] === true,
        registered,
        keyHeader: keyHeader === '' ? null : keyHeader.toLowerCase(),
        langfuseAuth: entry['custom_auth_parser'] === 'langfuse',
      }),
    );
  }
  return Object.freeze(endpoints);
}

/** The endpoints configured for this route, in order (LiteLLM walks them all). */
export function passThroughEndpointsFor(endpoints: readonly PassThroughEndpoint[], route: string): readonly PassThroughEndpoint[] {
  return endpoints.length === 0 ? endpoints : endpoints.filter((endpoint) => endpoint.path === route);
}

/**
 * A route LiteLLM answers without a key: an endpoint's exact path whose `auth` is not `true`, or
 * a sub-path of one registered without the auth dependency.
 */
export function isUnauthenticatedPassThrough(endpoints: readonly PassThroughEndpoint[], route: string): boolean {
  // A loop, not `some`: asked on every Check, it then makes no closure.
  for (const endpoint of endpoints) {
    if (endpoint.path === route ? !endpoint.authenticated : !endpoint.guarded && isSubpathOf(endpoint, route)) return true;
  }
  return false;
}

/** `path/…` of an endpoint registered with `include_subpath`. */
export function isSubpathOf(endpoint: PassThroughEndpoint, route: string): boolean {
  return endpoint.includeSubpath && route.length > endpoint.path.length && route.startsWith(endpoint.path) && route.charCodeAt(endpoint.path.length) === 47; // '/'
}
