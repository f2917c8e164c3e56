/**
 * One HTTP fetch of a JWKS document (`JWT_PUBLIC_KEY_URL`, an issuer's `jwks_url`). LiteLLM caches
 * the `keys` array, or the whole body when there is none; so does this. Bounded in time and size:
 * the identity provider is outside our control and the fetch can sit on a request's path.
 */
import { publicKeyFromJwk, type PublicKey } from './public-key';

/** More than any real key set; stops a misbehaving endpoint from filling memory. */
const MAX_JWKS_BYTES = 1024 * 1024;

export type JwksFetcher = (url: string, timeoutMs: number) => Promise<PublicKey[]>;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `{"keys": [...]}`, a bare list of JWKs, or a single JWK. Unusable entries are skipped. */
export function keysOfDocument(document: unknown): PublicKey[] {
  const entries = isObject(document) && Array.isArray(document['keys']) ? document['keys'] : Array.isArray(document) ? document : [document];
  return entries.filter(isObject).flatMap((jwk) => {
    const key = publicKeyFromJwk(jwk);
    return key === null ? [] : [{ ...key, entriesInSet: entries.length }];
  });
}

async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_JWKS_BYTES) throw new Error(`response larger than ${MAX_JWKS_BYTES} bytes`);
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_JWKS_BYTES) {
      await reader.cancel();
      throw new Error(`response larger than ${MAX_JWKS_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A URL for showing (logs, refusal messages): credentials in it replaced by `***`, anything else
 * left as written.
 */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '***';
    parsed.password = parsed.password === '' ? '' : '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * fetch refuses a URL with credentials in it; httpx (LiteLLM) sends them as HTTP Basic auth, so a
 * `https://user:pass@idp/jwks` that works with LiteLLM works here too.
 */
function requestOf(url: string): { href: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { accept: 'application/json' };
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { href: url, headers };
  const basic = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  headers['authorization'] = `Basic ${Buffer.from(basic).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  return { href: parsed.toString(), headers };
}

/**
 * GET a JSON document under `signal`. Redirects are not followed (as httpx, LiteLLM's client, by
 * default): the key set must come from the configured URL, not from wherever it points.
 */
async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const { href, headers } = requestOf(url);
  const response = await fetch(href, { signal, headers, redirect: 'manual' });
  if (!response.ok) {
    await response.body?.cancel();
    const redirected = response.status >= 300 && response.status < 400 ? ' (redirects are not followed: configure the final URL)' : '';
    throw new Error(`HTTP ${response.status}${redirected}`);
  }
  try {
    return JSON.parse(await readBounded(response));
  } catch (error) {
    throw new Error(`not a JSON key set: ${(error as Error).message}`);
  }
}

/**
 * Newer LiteLLM (`_resolve_jwks_url`): a URL naming an OIDC discovery document
 * (`…/.well-known/openid-configuration`) is read for its `jwks_uri`, and the key set fetched from there.
 */
async function resolveJwksUrl(url: string, signal: AbortSignal): Promise<string> {
  if (!url.includes('.well-known/openid-configuration')) return url;
  const discovery = await getJson(url, signal);
  const jwksUri = isObject(discovery) ? discovery['jwks_uri'] : undefined;
  if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) {
    throw new Error("the OIDC discovery document has no http(s) 'jwks_uri'");
  }
  return jwksUri;
}

/** The default fetcher: GET with one deadline for all of it; anything but a 2xx JSON document is a failure. */
export const httpJwksFetcher: JwksFetcher = async (url, timeoutMs) => {
  const signal = AbortSignal.timeout(timeoutMs);
  return keysOfDocument(await getJson(await resolveJwksUrl(url, signal), signal));
};
