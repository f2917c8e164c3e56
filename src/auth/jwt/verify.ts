/**
 * Verifying a bearer JWT (`JWTHandler.auth_jwt` / `get_public_key`, litellm-auth.md §3.2) with jose:
 * size limit → header → algorithm allowlist → key (static, then each JWKS URL, refetching once
 * for an unknown `kid`) → signature, `exp`/`nbf` with the configured clock skew, issuer, audience.
 *
 * Refusals are LiteLLM's plain exceptions (401 auth_error). A key set that cannot be obtained at
 * all throws JwksUnavailableError (→ UNAVAILABLE). The token itself never leaves this module:
 * messages name the `kid` and the key URLs, never the token.
 */
import { hash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { authErrorFromException } from '../../checks/errors';
import { pyList } from '../../checks/python-format';
import type { Denial } from '../../checks/types';
import type { JsonObject } from '../../domain/entities';
import type { Claims } from './claims';
import { markWrittenFloats } from './written-floats';
import { JwksUnavailableError } from './errors';
import type { JwksCache } from './jwks-cache';
import { shownUrl } from './jwks-fetch';
import type { PublicKey } from './public-key';
import type { JwtSettings, KeySourceSettings } from './settings';
import { VerifiedTokens, type VerifiedToken } from './verified-tokens';
import { isPromise, type MaybePromise } from '../../util/maybe-promise';

/** LiteLLM's `SUPPORTED_JWT_ALGORITHMS`. `none` and every HS* (shared-secret) algorithm are absent. */
export const ALLOWED_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
]);

/** The claims PyJWT reads as integers (`int(payload[claim])`). */
const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;

type Refusal = { readonly kind: 'refused'; readonly denial: Denial };

export type Verification = { readonly kind: 'verified'; readonly claims: Claims } | Refusal;

function refused(message: string): Refusal {
  return { kind: 'refused', denial: authErrorFromException(message) };
}

/** "Validation fails: …" with PyJWT's wording for the failure, as LiteLLM wraps it. */
function validationFails(reason: string): Refusal {
  return refused(`Validation fails: ${reason}`);
}

function claimFailure(error: errors.JWTClaimValidationFailed): Refusal {
  const claim = error.claim;
  if (error.reason === 'missing') return validationFails(`Token is missing the "${claim}" claim`);
  if (claim === 'nbf' || claim === 'iat') return validationFails(`The token is not yet valid (${claim})`);
  if (claim === 'aud') return validationFails("Audience doesn't match");
  if (claim === 'iss') return validationFails('Invalid issuer');
  return validationFails(error.message);
}

function failureOf(error: unknown): Refusal {
  if (error instanceof errors.JWTExpired) return refused('Token Expired');
  if (error instanceof errors.JWTClaimValidationFailed) return claimFailure(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return validationFails('Signature verification failed');
  if (error instanceof errors.JOSEAlgNotAllowed) return validationFails('The specified alg value is not allowed');
  return validationFails('Invalid token');
}

/**
 * LiteLLM `parse_keys`: a set with one key matches when the `kid`s agree or the token has none;
 * with several, the `kid` must match. Several counts every entry of the document, the ones no
 * signature can use included (a Keycloak set lists its encryption key too). A key bound to
 * another `alg` never matches.
 */
export function keysMatching(keys: readonly PublicKey[], kid: string | null, alg: string): PublicKey[] {
  const single = keys.length === 1 && (keys[0].entriesInSet ?? 1) === 1;
  const byKid = single ? keys.filter((k) => k.kid === kid || kid === null) : keys.filter((k) => kid !== null && k.kid === kid);
  return byKid.filter((k) => k.alg === null || k.alg === alg);
}

/** Statically configured keys are trusted on purpose: one without a `kid` matches any token. */
function staticKeysMatching(keys: readonly PublicKey[], kid: string | null, alg: string): PublicKey[] {
  return keys.filter((k) => (k.kid === null || k.kid === kid) && (k.alg === null || k.alg === alg));
}

/** What a token's header names, read without verifying it: it only chooses the keys to try. */
type TokenHeader = Pick<VerifiedToken, 'alg' | 'kid' | 'issuer'>;

function readHeader(token: string): TokenHeader | null {
  try {
    const header = decodeProtectedHeader(token);
    return {
      alg: typeof header.alg === 'string' ? header.alg : '',
      kid: typeof header.kid === 'string' ? header.kid : null,
      issuer: decodeJwt(token).iss,
    };
  } catch {
    return null;
  }
}

/** jose's own rules for `exp` and `nbf` (`exp <= now - tolerance` is expired), in whole seconds. */
function timeClaimsHold(claims: Claims, toleranceS: number, nowMs: number): boolean {
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.exp === 'number' && claims.exp <= now - toleranceS) return false;
  if (typeof claims.nbf === 'number' && claims.nbf > now + toleranceS) return false;
  return true;
}

/** A token being verified, with what was read from it before its keys are known. */
interface PresentedToken {
  readonly token: string;
  readonly tokenHash: string;
  readonly tokenBytes: number;
  readonly header: TokenHeader;
  /** Its earlier verification, if remembered. */
  readonly known: VerifiedToken | undefined;
  readonly source: KeySourceSettings;
}

/** A verification, with the key that verified the token. */
type KeyVerification = { readonly kind: 'verified'; readonly claims: Claims; readonly key: PublicKey } | Refusal;

export class TokenVerifier {
  constructor(
    private readonly settings: JwtSettings,
    private readonly jwks: JwksCache,
    private readonly verified: VerifiedTokens = new VerifiedTokens(),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A token verified before is answered at once, without a promise, while its key sets are in
   * memory (verified-tokens.ts says when a repeat may be trusted); anything else is awaited.
   */
  verify(token: string): MaybePromise<Verification> {
    const tokenBytes = Buffer.byteLength(token, 'utf8');
    if (tokenBytes > this.settings.maxTokenBytes) {
      return validationFails(`token is larger than ${this.settings.maxTokenBytes} bytes`);
    }
    const tokenHash = hash('sha256', token, 'hex');
    const known = this.verified.get(tokenHash);
    const header = known ?? readHeader(token);
    if (header === null) return validationFails('Invalid token');
    const { alg, kid, issuer } = header;
    if (!ALLOWED_ALGORITHMS.includes(alg)) return validationFails('The specified alg value is not allowed');

    // The unverified `iss` only chooses where keys come from; verification then requires it.
    const source = this.settings.issuers.find((s) => s.issuer === issuer) ?? this.settings.defaultKeys;
    // Asked for on every request, remembered token or not: a key set past its stale TTL, or an
    // endpoint down with nothing cached, decides the same way for both.
    const presented: PresentedToken = { token, tokenHash, tokenBytes, header, known, source };
    const candidates = this.keysInMemory(source, kid, alg) ?? this.candidateKeys(source, kid, alg);
    return isPromise(candidates) ? candidates.then((keys) => this.verifyAgainst(presented, keys)) : this.verifyAgainst(presented, candidates);
  }

  /** With the candidate keys known: a remembered token whose key and time claims still hold, else jose. */
  private verifyAgainst(presented: PresentedToken, candidates: readonly PublicKey[]): MaybePromise<Verification> {
    const { known, tokenHash, source } = presented;
    if (known !== undefined) {
      if (candidates.includes(known.key) && timeClaimsHold(known.claims, this.settings.clockSkewSeconds, this.now())) {
        this.verified.countHit();
        return { kind: 'verified', claims: known.claims };
      }
      this.verified.forget(tokenHash);
    }
    if (candidates.length === 0) {
      if (source.jwksUrls.length === 0 && source.staticKeys.length === 0) {
        return refused('Missing JWT Public Key URL from environment.');
      }
      // LiteLLM names the URLs as configured; credentials in one are masked, the caller is anyone.
      return refused(`No matching public key found. keys=${pyList(source.jwksUrls.map(shownUrl))}, kid=${presented.header.kid ?? 'None'}`);
    }
    return this.verifyAndRemember(presented, candidates);
  }

  private async verifyAndRemember(presented: PresentedToken, candidates: readonly PublicKey[]): Promise<Verification> {
    const { token, tokenHash, tokenBytes, header, source } = presented;
    const result = await this.verifyWithAny(token, candidates, source);
    if (result.kind === 'refused') return result;
    this.verified.remember(tokenHash, { alg: header.alg, kid: header.kid, issuer: header.issuer, key: result.key, claims: result.claims }, tokenBytes);
    return { kind: 'verified', claims: result.claims };
  }

  /**
   * The candidate keys when a key set in memory (or a static key) matches: found without waiting.
   * Undefined when `candidateKeys` must be asked. A set that is not in memory (its endpoint down
   * or slow) is not waited for once another matched, as LiteLLM's get_public_key stops at the
   * first URL with the `kid`: one dead URL of JWT_PUBLIC_KEY_URL must not hold up, for a fetch
   * timeout every second, the tokens a live one serves.
   */
  private keysInMemory(source: KeySourceSettings, kid: string | null, alg: string): PublicKey[] | undefined {
    const found = staticKeysMatching(source.staticKeys, kid, alg);
    for (const url of source.jwksUrls) {
      const keys = this.jwks.usableKeys(url);
      if (keys !== undefined) found.push(...keysMatching(keys, kid, alg));
    }
    // No match among sets in memory means a refetch for the unknown `kid`: candidateKeys does that.
    return found.length > 0 || source.jwksUrls.length === 0 ? found : undefined;
  }

  /** Static keys, then each URL's set; one rate-limited refetch per URL when nothing matches. */
  private async candidateKeys(source: KeySourceSettings, kid: string | null, alg: string): Promise<PublicKey[]> {
    const found = staticKeysMatching(source.staticKeys, kid, alg);
    const unavailable: JwksUnavailableError[] = [];
    const searched: string[] = [];
    for (const url of source.jwksUrls) {
      try {
        const matching = keysMatching(await this.jwks.keysFor(url), kid, alg);
        found.push(...matching);
        if (matching.length === 0) searched.push(url);
      } catch (error) {
        if (!(error instanceof JwksUnavailableError)) throw error;
        unavailable.push(error);
      }
    }
    if (found.length > 0) return found;
    for (const url of searched) found.push(...keysMatching(await this.jwks.refetchForUnknownKid(url), kid, alg));
    // A set we could not load might hold the key: that is "cannot decide", not a refusal.
    if (found.length === 0 && unavailable.length > 0) throw unavailable[0];
    return found;
  }

  private async verifyWithAny(token: string, keys: readonly PublicKey[], source: KeySourceSettings): Promise<KeyVerification> {
    const options: JWTVerifyOptions = {
      algorithms: [...ALLOWED_ALGORITHMS],
      clockTolerance: this.settings.clockSkewSeconds,
      currentDate: new Date(this.now()),
      ...(source.issuer !== null ? { issuer: source.issuer } : {}),
      ...(source.audience !== null ? { audience: typeof source.audience === 'string' ? source.audience : [...source.audience] } : {}),
    };
    let last: unknown = null;
    for (const candidate of keys) {
      try {
        const { payload } = await jwtVerify(token, candidate.key, options);
        // JSON's 1e400 is Infinity: jose takes it for a number, so an `exp` of 1e400 would never
        // expire and an `nbf` of -1e400 always hold. PyJWT's int() of it raises, and LiteLLM
        // refuses the token with that message.
        if (TIME_CLAIMS.some((claim) => typeof payload[claim] === 'number' && !Number.isFinite(payload[claim]))) {
          return validationFails('cannot convert float infinity to integer');
        }
        // PyJWT refuses a token issued in the future (`iat` past now + leeway); jose checks `iat`
        // only against a maximum age, so it is checked here.
        if (typeof payload.iat === 'number' && payload.iat > Math.floor(this.now() / 1000) + this.settings.clockSkewSeconds) {
          return validationFails('The token is not yet valid (iat)');
        }
        // Python reads a claim written `1.0` as a float and prints it so; JSON.parse cannot tell.
        markWrittenFloats(payload as JsonObject, token);
        return { kind: 'verified', claims: payload as JsonObject, key: candidate };
      } catch (error) {
        last = error;
        // Another key with the same `kid`/no `kid` may be the signer; other failures are final.
        if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JOSENotSupported) continue;
        if (error instanceof TypeError) continue;
        return failureOf(error);
      }
    }
    return last instanceof TypeError ? validationFails('Signature verification failed') : failureOf(last);
  }
}
