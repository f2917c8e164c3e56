/**
 * A JWT that `virtual_key_claim_field` mapped to a virtual key (litellm-auth.md §3.4). Newer
 * LiteLLM resolves the key in `_resolve_jwt_to_virtual_key` and carries on down its virtual-key
 * path with it as `valid_token`, so the request is decided as if that key had been presented,
 * with these differences, in LiteLLM's order:
 *
 *   1. the key row is resolved first: a hash no row has is refused at once, with the resolver's
 *      own message (the builder's "Received API Key = …" rewrite is never reached);
 *   2. the steps of the key branch before the key lookup still run: an unauthenticated
 *      pass-through endpoint and a proxy without a master key let the request through, and
 *      `/user/auth` is decided by `allow_user_auth`;
 *   3. then the key's pipeline, without the `sk-` format test and the lookup (the key is known).
 */
import { keyFound, virtualKeyFormat } from '../checks/key-found';
import { PRE_DB_CHECKS, VIRTUAL_KEY_PIPELINE } from '../checks/order';
import { authErrorFromHttpException } from '../checks/errors';
import { deny, type Check, type Denial } from '../checks/types';
import type { Policy } from '../config/policy';
import { isUnauthenticatedPassThrough } from '../config/pass-through-endpoints';
import type { RequestFacts } from '../domain/request';

/** The key's pipeline after the pre-DB checks, as for a presented key, less what a known key skips. */
export const MAPPED_KEY_CHECKS: readonly Check[] = Object.freeze(
  VIRTUAL_KEY_PIPELINE.filter((check) => !PRE_DB_CHECKS.includes(check) && check !== virtualKeyFormat && check !== keyFound),
);

/** `KeyNotFoundError`: what LiteLLM's resolver raises for a mapping whose key row is gone. */
export function mappedKeyNotFound(keyHash: string): Denial {
  return deny(
    401,
    'token_not_found_in_db',
    `Authentication Error, Invalid proxy server token passed. key=${keyHash}, not found in db. Create key via \`/key/generate\` call.`,
    'key',
  );
}

export type MappedKeyShortcut = { readonly kind: 'allow' } | { readonly kind: 'deny'; readonly denial: Denial } | null;

const ALLOW: MappedKeyShortcut = Object.freeze({ kind: 'allow' });

/**
 * Step 2: what LiteLLM's key branch answers before it looks at `valid_token` (identify.ts decides
 * the same steps for presented keys). Null: the key's pipeline decides.
 */
export function mappedKeyShortcut(facts: RequestFacts, policy: Policy, masterKey: string | null): MappedKeyShortcut {
  if (isUnauthenticatedPassThrough(policy.passThroughEndpoints, facts.route)) return ALLOW;
  if (masterKey === null) return ALLOW;
  if (facts.route === '/user/auth') {
    return policy.allowUserAuth ? ALLOW : { kind: 'deny', denial: authErrorFromHttpException(403, "'allow_user_auth' not set or set to False") };
  }
  return null;
}
