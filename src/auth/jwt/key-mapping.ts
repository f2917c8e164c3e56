/**
 * JWT → virtual-key mapping (newer LiteLLM's `_resolve_jwt_to_virtual_key`, litellm-auth.md §3.4).
 * Runs once the token is verified and before any other JWT policy (LiteLLM resolves the mapping
 * before `auth_builder`: a mapped token is the key, whatever its scopes or roles say). The claim
 * named by `virtual_key_claim_field` is looked up among the active LiteLLM_JWTKeyMapping rows:
 *
 *   a row maps it          → the request is decided as that key (the virtual-key pipeline)
 *   no row, or no claim    → `unregistered_jwt_client_behavior`: reject (403) or the team path
 *   no row, auto_register  → the team path first, then a key registered for the claim (authenticator.ts);
 *                            no claim: 403, as under reject
 *
 * The answer comes from the cache layer, "no mapping" included, so a warm caller costs no round trip.
 */
import { authErrorFromHttpException } from '../../checks/errors';
import type { Denial } from '../../checks/types';
import type { AuthStore } from '../../store/auth-store';
import { jwtKeyMappingOf } from '../../store/memory-first';
import { andThen, type MaybePromise } from '../../util/maybe-promise';
import type { Json } from '../../domain/entities';
import { claimReadAt, MISSING, type Claims } from './claims';
import { isWrittenFloat, pyStrOfClaim } from './written-floats';
import type { VirtualKeyMappingSettings } from './settings';

export type KeyMappingResult =
  /** The token stands for this key (sha256 hex, `LiteLLM_VerificationToken.token`). */
  | { readonly kind: 'mapped'; readonly keyHash: string }
  /** No mapping, under fallback_team_mapping: the usual JWT path decides. */
  | { readonly kind: 'unmapped' }
  /**
   * No mapping under auto_register: the token goes through the JWT policy as an unmapped one and,
   * if that resolves a caller, a key is created and mapped to this claim value for it
   * (LiteLLM's `_PendingAutoRegister`, then `_auto_register_jwt_mapping`).
   */
  | { readonly kind: 'register'; readonly claimName: string; readonly claimValue: string }
  | { readonly kind: 'refused'; readonly denial: Denial };

const UNMAPPED: KeyMappingResult = Object.freeze({ kind: 'unmapped' });

/**
 * The claim's value as LiteLLM looks it up: `get_nested_value` (null is no value), then Python's
 * `str()` (an int claim `42` is looked up as "42", one written `42.0` as "42.0", a bool as "True").
 * Null when the token lacks it.
 */
export function mappedClaimValue(claims: Claims, claimField: string): string | null {
  const read = claimReadAt(claims, claimField);
  return read === MISSING || read.value === null ? null : pyStrOfClaim(read.value, read.float);
}

/**
 * Whether the claim holds an integer beyond 2^53, anywhere in it. JSON.parse (jose's, and Envoy's
 * Struct, which holds doubles) rounds such a number to a neighbour: 9007199254740993 arrives as
 * 9007199254740992, another client's value, where LiteLLM's Python reads it exactly. Fractions,
 * and numbers the token wrote as floats (`1e20`), are safe: both sides read the same double and
 * print it the same shortest way.
 */
function holdsInexactInteger(value: Json, float: boolean): boolean {
  if (typeof value === 'number') return !float && Number.isInteger(value) && !Number.isSafeInteger(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((item, index) => holdsInexactInteger(item, isWrittenFloat(value, index)));
  return Object.entries(value).some(([key, item]) => holdsInexactInteger(item as Json, isWrittenFloat(value, key)));
}

export function resolveKeyMapping(settings: VirtualKeyMappingSettings, store: AuthStore, claims: Claims): MaybePromise<KeyMappingResult> {
  const field = settings.claimField;
  const read = claimReadAt(claims, field);
  if (read === MISSING || read.value === null) {
    // LiteLLM applies the no-match policy here too: leaving the claim out must not get round `reject`,
    // nor `auto_register`, which has no value to register such a token by.
    if (settings.unregistered === 'fallback_team_mapping') return UNMAPPED;
    return refused(`JWT Key Mapping: Required claim '${field}' is missing from the JWT. Access denied.`);
  }
  // Refused under either behaviour: looked up, it could reach another client's key; left to the
  // team path, a client whose exact value is mapped would escape the key it is held to.
  if (holdsInexactInteger(read.value, read.float)) return refused(`JWT Key Mapping: Claim '${field}' holds an integer too large to compare exactly. Access denied.`);
  const value = pyStrOfClaim(read.value, read.float);
  return andThen(jwtKeyMappingOf(store, field, value), (keyHash): KeyMappingResult => {
    if (keyHash !== null) return { kind: 'mapped', keyHash };
    if (settings.unregistered === 'fallback_team_mapping') return UNMAPPED;
    if (settings.unregistered === 'auto_register') return { kind: 'register', claimName: field, claimValue: value };
    return refused(`JWT Key Mapping: No registered mapping for ${field}='${value}'. Access denied.`);
  });
}

/** LiteLLM raises HTTPException(403, detail); its auth exception handler makes it a 403 auth_error. */
function refused(message: string): KeyMappingResult {
  return { kind: 'refused', denial: authErrorFromHttpException(403, message) };
}
