import { createHash, hash, timingSafeEqual } from 'node:crypto';

/** LiteLLM's `hash_token`: sha256 hex of the whole raw key, `sk-` included. */
export function hashKey(rawKey: string): string {
  return createHash('sha256').update(rawKey, 'utf8').digest('hex');
}

/**
 * A presented credential, hashed once: its SHA-256 serves both the constant-time comparison with
 * the master key and, as hex, the virtual-key lookup (LiteLLM's `hash_token`).
 */
export class PresentedKey {
  private readonly digest: Buffer;

  constructor(rawKey: string) {
    // The one-shot hash() skips the Hash object createHash() builds: it runs once per Check.
    this.digest = hash('sha256', rawKey, 'buffer');
  }

  /** Constant-time, and independent of the secret's length (both sides are digests). */
  equals(secret: SecretDigest): boolean {
    return timingSafeEqual(this.digest, secret.digest);
  }

  get hash(): string {
    return this.digest.toString('hex');
  }
}

/** A configured secret (the master key), hashed once rather than on every request. */
export class SecretDigest {
  readonly digest: Buffer;

  constructor(readonly secret: string) {
    this.digest = createHash('sha256').update(secret, 'utf8').digest();
  }
}

/** LiteLLM's `abbreviate_api_key`: safe to show in messages and logs. */
export function abbreviateKey(rawKey: string): string {
  return `sk-...${rawKey.slice(-4)}`;
}
