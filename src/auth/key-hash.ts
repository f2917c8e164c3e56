import { createHash, timingSafeEqual } from 'node:crypto';

/** LiteLLM's `hash_token`: sha256 hex of the whole raw key, `sk-` included. */
export function hashKey(rawKey: string): string {
  return createHash('sha256').update(rawKey, 'utf8').digest('hex');
}

/**
 * Constant-time string equality. Both sides are hashed first so the comparison
 * neither leaks the secret's length nor exits early on the first differing byte.
 */
export function secretsEqual(presented: string, secret: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** LiteLLM's `abbreviate_api_key`: safe to show in messages and logs. */
export function abbreviateKey(rawKey: string): string {
  return `sk-...${rawKey.slice(-4)}`;
}
