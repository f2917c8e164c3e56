/**
 * Tokens whose signature has been verified, by the SHA-256 of the token (never the token itself).
 * Checking a signature costs 100–300 µs of CPU (jose on WebCrypto, RS256 or ES256), several
 * times a warm virtual-key Check, and a session sends the same token on every request. What a
 * verification found can only change with the key that verified it or with time, so the verifier
 * (verify.ts) uses an entry only while that very key object is still among the token's candidate
 * keys, and while its `exp` and `nbf` still hold; otherwise the token is verified again. A
 * refetched key set is made of new key objects, so a rotation, a removal or any refetch sends a
 * token through full verification once more. Refusals are never remembered.
 */
import { LRUCache } from 'lru-cache';
import { deepFreeze } from '../../cache/codec';
import type { Claims } from './claims';
import type { PublicKey } from './public-key';

/** What the token's header named, the key that verified it, and the claims it carried (frozen). */
export interface VerifiedToken {
  readonly alg: string;
  readonly kid: string | null;
  readonly issuer: unknown;
  readonly key: PublicKey;
  readonly claims: Claims;
}

/** A few thousand sessions; a typical token is 1–2 KB and its claims take about as much memory. */
export const DEFAULT_VERIFIED_TOKENS = 4096;
/**
 * And at most this many bytes of tokens (each counted at its own length): tokens may be up to
 * `max_token_bytes` (16 KiB) each, and 4 096 of those would be ~64 MB of claims for the
 * collector to mark on every full collection.
 */
export const DEFAULT_VERIFIED_TOKEN_BYTES = 8 * 1024 * 1024;

export class VerifiedTokens {
  private readonly entries: LRUCache<string, VerifiedToken>;
  private hitCount = 0;

  constructor(maxEntries: number = DEFAULT_VERIFIED_TOKENS, maxBytes: number = DEFAULT_VERIFIED_TOKEN_BYTES) {
    this.entries = new LRUCache({ max: Math.max(1, maxEntries), maxSize: Math.max(1, maxBytes) });
  }

  /** Verifications answered from here since start. */
  get hits(): number {
    return this.hitCount;
  }

  get size(): number {
    return this.entries.size;
  }

  get(tokenHash: string): VerifiedToken | undefined {
    return this.entries.get(tokenHash);
  }

  /**
   * The claims are frozen: every later request of the session shares them. `tokenBytes` is what
   * the entry counts against the byte bound; a token larger than the whole bound is not kept.
   */
  remember(tokenHash: string, token: VerifiedToken, tokenBytes: number): void {
    this.entries.set(tokenHash, { ...token, claims: deepFreeze(token.claims) }, { size: Math.max(1, tokenBytes) });
  }

  forget(tokenHash: string): void {
    this.entries.delete(tokenHash);
  }

  countHit(): void {
    this.hitCount += 1;
  }
}
