/**
 * `general_settings.pass_through_endpoints` as LiteLLM's auth reads them (litellm-auth.md §2.3):
 * an endpoint whose `auth` is not `true` is called without a key; one that names a header in
 * `headers.litellm_user_api_key` takes the key from it when no usual header carries one; and
 * `custom_auth_parser: langfuse` reads the key as the user name of a Basic credential (Langfuse
 * SDKs send their public key there). Only an endpoint's exact `path` is matched, as LiteLLM does.
 */
export interface PassThroughEndpoint {
  readonly path: string;
  /** `auth: true`; anything else (absent, false, "true") leaves the endpoint unauthenticated. */
  readonly authenticated: boolean;
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
    endpoints.push(
      Object.freeze({
        path: entry['path'],
        authenticated: entry['auth'] === true,
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

/** A route one of whose endpoints leaves `auth` off: LiteLLM answers it without a key. */
export function isUnauthenticatedPassThrough(endpoints: readonly PassThroughEndpoint[], route: string): boolean {
  // A loop, not `some`: asked on every Check, it then makes no closure.
  for (const endpoint of endpoints) if (endpoint.path === route && !endpoint.authenticated) return true;
  return false;
}
