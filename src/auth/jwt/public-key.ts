/**
 * Verification keys as Tollgate holds them: a Node KeyObject of type `public`, with the JWK's
 * `kid`, `alg` and `use` when it had them. Only asymmetric keys can be made here: a shared secret
 * (`kty: oct`) is never a verification key, which is half of what stops HS256 tokens "signed"
 * with a published RSA key.
 */
import { createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface PublicKey {
  readonly kid: string | null;
  /** The JWK's `alg`; when set, only tokens with that `alg` may use the key. */
  readonly alg: string | null;
  readonly key: KeyObject;
  /**
   * How many entries the JWKS document it came from listed, usable or not (encryption keys,
   * symmetric ones): LiteLLM's `parse_keys` counts them all when it decides whether a token
   * without `kid` may use the set's key.
   */
  readonly entriesInSet?: number;
}

/** Fields LiteLLM copies from a JWK before building the key (handle_jwt `auth_jwt`). */
const PUBLIC_JWK_FIELDS = ['kty', 'crv', 'n', 'e', 'x', 'y'] as const;

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * A JWK from a key set or config → a public key; null when it is not a usable signature key
 * (symmetric, encryption-only, or malformed). Private members are dropped, never used.
 */
export function publicKeyFromJwk(jwk: Readonly<Record<string, unknown>>): PublicKey | null {
  const kty = text(jwk['kty']);
  if (kty === null || kty === 'oct' || jwk['use'] === 'enc') return null;
  const publicPart: Record<string, unknown> = {};
  for (const field of PUBLIC_JWK_FIELDS) if (jwk[field] !== undefined) publicPart[field] = jwk[field];
  try {
    const key = createPublicKey({ key: publicPart as JsonWebKey, format: 'jwk' });
    return { kid: text(jwk['kid']), alg: text(jwk['alg']), key };
  } catch {
    return null;
  }
}

/**
 * PEM text → a public key: an SPKI public key or an X.509 certificate (LiteLLM treats a PEM string
 * as a certificate). A private key is refused: it does not belong in a verifier's configuration.
 */
export function publicKeyFromPem(pem: string): PublicKey {
  if (pem.includes('PRIVATE KEY')) throw new Error('a private key was given where a public key is expected');
  const key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  if (key.type !== 'public' || key.asymmetricKeyType === undefined) throw new Error('not an asymmetric public key');
  return { kid: null, alg: null, key };
}
