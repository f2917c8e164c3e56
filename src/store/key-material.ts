/**
 * New virtual keys: the raw `sk-…` key is shown once; only its hash is stored.
 * The hash is LiteLLM's `hash_token` (sha256 hex of the whole raw key, `sk-` included), so keys
 * created here are valid for LiteLLM too, and LiteLLM's keys are valid here.
 */
import { randomBytes } from 'node:crypto';
import { abbreviateKey, hashKey } from '../auth/key-hash';

/** 32 random bytes → 43 url-safe characters after `sk-`. */
const KEY_ENTROPY_BYTES = 32;

export interface KeyMaterial {
  /** The raw key: return it to the operator once, never store or log it. */
  readonly key: string;
  /** sha256 hex of `key`: `LiteLLM_VerificationToken.token`. */
  readonly token: string;
  /** LiteLLM's `key_name` display form (`abbreviate_api_key`): `sk-...` + the last 4 characters. */
  readonly keyName: string;
}

export function newKeyMaterial(): KeyMaterial {
  const key = `sk-${randomBytes(KEY_ENTROPY_BYTES).toString('base64url')}`;
  return { key, token: hashKey(key), keyName: abbreviateKey(key) };
}
