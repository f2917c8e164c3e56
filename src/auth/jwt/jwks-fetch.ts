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

/** The default fetcher: GET with a deadline; anything but a 2xx JSON document is a failure. */
export const httpJwksFetcher: JwksFetcher = async (url, timeoutMs) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(await readBounded(response));
  } catch (error) {
    throw new Error(`not a JSON key set: ${(error as Error).message}`);
  }
  return keysOfDocument(document);
};
