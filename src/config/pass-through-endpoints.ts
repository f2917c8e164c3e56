/**
 * `general_settings.pass_through_endpoints` as LiteLLM's auth reads them (litellm-auth.md §2.3),
 * with newer LiteLLM's `pass_through_auth_mode` (GHSA-7h34-mmrh-6g58): only `auth: false` (or the
 * string "false", any case, stripped) serves an endpoint without a key; `true`, "true", and any
 * other value or none at all (`auth:` unset, null, "yes", 1, "") need a key, and LiteLLM then
 * counts the path (and, with `include_subpath`, `path/*`) among `openai_routes`. One that names a
 * header in `headers.litellm_user_api_key` takes the key from it when no usual header carries one;
 * and `custom_auth_parser: langfuse` reads the key as the user name of a Basic credential (Langfuse
 * SDKs send their public key there). Those rules see an endpoint's exact `path`, as LiteLLM's auth
 * does. With `include_subpath: true` LiteLLM also serves `path/…` (`initialize_pass_through_endpoints`),
 * with no key at all when the endpoint is public, else as an LLM API route.
 */
import { pyStrip } from '../util/python-strip';

export interface PassThroughEndpoint {
  readonly path: string;
  /** Any `auth` but false or "false" (`pass_through_auth_mode` not PUBLIC): the exact path needs a key. */
  readonly authenticated: boolean;
  /**
   * The same test, for the routes LiteLLM registers: it counts the path (and, with
   * `include_subpath`, `path/*`) among `openai_routes`, and serves its sub-paths keyed.
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
    const enforced = !isPublicAuth(auth);
    const registered = entry['target'] !== undefined && entry['target'] !== null;
    endpoints.push(
      Object.freeze({
        path: entry['path'],
        authenticated: enforced,
        guarded: enforced,
        includeSubpath: registered && entry['include_subpath'] === true,
        registered,
        keyHeader: keyHeader === '' ? null : keyHeader.toLowerCase(),
        langfuseAuth: entry['custom_auth_parser'] === 'langfuse',
      }),
    );
  }
  return Object.freeze(endpoints);
}

/**
 * `pass_through_auth_mode(auth) is PUBLIC`: a boolean false, or a string reading "false" once
 * stripped, in any case. Every other value (unset, null, "yes", 0, "") is ANY_KEY there, and
 * "true" or true GRANTED_KEYS: a key is needed either way. Older LiteLLM also served "true", "yes"
 * and null without a key; the newer reading is the stricter one.
 */
function isPublicAuth(auth: unknown): boolean {
  return auth === false || (typeof auth === 'string' && pyStrip(auth).toLowerCase() === 'false');
}

/** The endpoints configured for this route, in order (LiteLLM walks them all). */
export function passThroughEndpointsFor(endpoints: readonly PassThroughEndpoint[], route: string): readonly PassThroughEndpoint[] {
  return endpoints.length === 0 ? endpoints : endpoints.filter((endpoint) => endpoint.path === route);
}

/**
 * A route LiteLLM answers without a key: an endpoint's exact path, or a sub-path of one
 * registered with `include_subpath`, whose `auth` is false or "false".
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
