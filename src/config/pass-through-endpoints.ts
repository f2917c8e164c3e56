/**
 * `general_settings.pass_through_endpoints` as LiteLLM's auth reads them (litellm-auth.md §2.3):
 * an endpoint whose `auth` is not `true` is called without a key; one that names a header in
 * `headers.litellm_user_api_key` takes the key from it when no usual header carries one; and
 * `custom_auth_parser: langfuse` reads the key as the user name of a Basic credential (Langfuse
 * SDKs send their public key there). Those rules see an endpoint's exact `path`, as LiteLLM's
 * auth does. With `include_subpath: true` LiteLLM also serves `path/…` (`initialize_pass_through_endpoints`):
 * without its auth dependency (`auth` not "true" in any case) with no key at all, with it as any
 * keyed route.
 */
export interface PassThroughEndpoint {
  readonly path: string;
  /** `auth: true`; anything else (absent, false, "true") leaves the exact path unauthenticated. */
  readonly authenticated: boolean;
  /** `str(auth).lower() == "true"`: LiteLLM registers the routes with its auth dependency and counts the path among `openai_routes`. */
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
    const registered = entry['target'] !== undefined && entry['target'] !== null;
    endpoints.push(
      Object.freeze({
        path: entry['path'],
        authenticated: auth === true,
        guarded: auth === true || (typeof auth === 'string' && auth.toLowerCase() === 'true'),
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
