/**
 * Who is calling, in LiteLLM's order (litellm-auth.md §2.4–§2.6), before any database read:
 * public route → JWT (with enable_jwt_auth) → unauthenticated pass-through endpoint → no master
 * key configured → missing/malformed credential → `/user/auth` → master key → otherwise a
 * presented virtual key. What a virtual key must satisfy (the `sk-` rule, master-key-only routes,
 * existence, …) is checked by the ordered pipeline in checks/order.ts; a JWT by auth/jwt.
 */
import type { Denial } from '../checks/types';
import { authErrorFromException, authErrorFromHttpException } from '../checks/errors';
import type { RequestFacts } from '../domain/request';
import { isPublicRoute } from '../routes/classify';
import { isUnauthenticatedPassThrough } from '../config/pass-through-endpoints';
import type { Policy } from '../config/policy';
import { PresentedKey, SecretDigest } from './key-hash';
import type { JwtSource } from './jwt/authenticator';
import { recognizeJwt, type JwtRecognition } from './jwt/recognize';

export type Caller =
  | { readonly kind: 'public_route' }
  /** No master key is configured: LiteLLM lets every request through (a startup warning says so). */
  | { readonly kind: 'open_proxy' }
  | { readonly kind: 'master_key' }
  /** `/user/auth` with `general_settings.allow_user_auth`: LiteLLM answers an empty `UserAPIKeyAuth()`, no check. */
  | { readonly kind: 'user_auth_route' }
  /**
   * A configured pass-through endpoint whose `auth` is not true: after the pre-DB checks and the
   * JWT test, LiteLLM answers an empty `UserAPIKeyAuth()`, with no further check.
   */
  | { readonly kind: 'unauthenticated_pass_through' }
  /** A JWT: a bearer token to verify, or claims Envoy's jwt_authn verified (auth/jwt). */
  | { readonly kind: 'jwt'; readonly source: JwtSource }
  /** `lookup` is false when the value cannot be a virtual key (no `sk-`): it is never looked up. */
  | { readonly kind: 'virtual_key'; readonly keyHash: string; readonly lookup: boolean }
  | { readonly kind: 'refused'; readonly denial: Denial };

const USER_AUTH_ROUTE = '/user/auth';

export function identifyCaller(
  facts: RequestFacts,
  masterKey: string | null,
  policy: Policy,
  jwt: JwtRecognition | null = null,
): Caller {
  // LiteLLM's WebSocket auth refuses a handshake without a usable key before anything else.
  if (facts.credential.kind === 'refused') return { kind: 'refused', denial: authErrorFromHttpException(403, facts.credential.message) };
  if (isPublicRoute(facts.route, policy.publicRoutes)) return { kind: 'public_route' };
  // LiteLLM takes the JWT branch before it looks at the master key, even when none is configured.
  const jwtSource = recognizeJwt(facts, jwt);
  if (jwtSource !== null) return { kind: 'jwt', source: jwtSource };
  // check_api_key_for_custom_headers_or_pass_through_endpoints, before the master key is looked at.
  if (isUnauthenticatedPassThrough(policy.passThroughEndpoints, facts.route)) return { kind: 'unauthenticated_pass_through' };
  if (masterKey === null) return { kind: 'open_proxy' };

  const credential = facts.credential;
  // LiteLLM raises both as plain exceptions (→ 401 "Authentication Error, …"). It also echoes the
  // malformed value; we do not, since that value is usually a secret sent the wrong way.
  if (credential.kind === 'none') return { kind: 'refused', denial: authErrorFromException('No api key passed in.') };
  if (credential.kind === 'malformed' || credential.value === '') {
    return {
      kind: 'refused',
      denial: authErrorFromException('Malformed API Key passed in. Ensure Key has `Bearer ` prefix.'),
    };
  }
  // LiteLLM decides /user/auth here, before the master key is compared (litellm-auth.md §2.4).
  if (facts.route === USER_AUTH_ROUTE) {
    return policy.allowUserAuth
      ? { kind: 'user_auth_route' }
      : { kind: 'refused', denial: authErrorFromHttpException(403, "'allow_user_auth' not set or set to False") };
  }
  const rawKey = credential.value;
  const presented = new PresentedKey(rawKey);
  if (presented.equals(masterKeyDigest(masterKey))) return { kind: 'master_key' };
  // Stops a leaked hash from being replayed as a key, and unknown junk from reaching the database.
  return { kind: 'virtual_key', keyHash: presented.hash, lookup: rawKey.startsWith('sk-') };
}

/** The configured master key rarely changes (never within a process), so its digest is kept. */
let masterDigest: SecretDigest | null = null;

function masterKeyDigest(masterKey: string): SecretDigest {
  if (masterDigest === null || masterDigest.secret !== masterKey) masterDigest = new SecretDigest(masterKey);
  return masterDigest;
}
