/**
 * Who is calling, in LiteLLM's order (litellm-auth.md §2.4–§2.6), before any database read:
 * public route → no master key configured → missing/malformed credential → master key →
 * master-key-only route → the `sk-` rule. A virtual key is then looked up by its hash.
 */
import type { Denial } from '../checks/types';
import { deny } from '../checks/types';
import type { RequestFacts } from '../domain/request';
import { isMasterKeyOnlyRoute, isPublicRoute } from '../routes/classify';
import type { Policy } from '../config/policy';
import { hashKey, secretsEqual } from './key-hash';

export type Caller =
  | { readonly kind: 'public_route' }
  /** No master key is configured: LiteLLM lets every request through (a startup warning says so). */
  | { readonly kind: 'open_proxy' }
  | { readonly kind: 'master_key' }
  | { readonly kind: 'virtual_key'; readonly keyHash: string; readonly rawKey: string }
  | { readonly kind: 'refused'; readonly denial: Denial };

export function identifyCaller(facts: RequestFacts, masterKey: string | null, policy: Policy): Caller {
  if (isPublicRoute(facts.route, policy.publicRoutes)) return { kind: 'public_route' };
  if (masterKey === null) return { kind: 'open_proxy' };

  const credential = facts.credential;
  if (credential.kind === 'none') return { kind: 'refused', denial: deny(401, 'auth_error', 'No api key passed in.') };
  if (credential.kind === 'malformed' || credential.value === '') {
    return {
      kind: 'refused',
      denial: deny(401, 'auth_error', 'Malformed API Key passed in. Ensure Key has `Bearer ` prefix.'),
    };
  }
  const rawKey = credential.value;
  if (secretsEqual(rawKey, masterKey)) return { kind: 'master_key' };

  if (isMasterKeyOnlyRoute(facts.route)) {
    return {
      kind: 'refused',
      denial: deny(401, 'auth_error', `Tried to access route=${facts.route}, which is only for MASTER KEY`),
    };
  }
  // Stops a leaked hash from being replayed as if it were a key.
  if (!rawKey.startsWith('sk-')) {
    const shown = `${rawKey.slice(0, 4)}****${rawKey.slice(-4)}`;
    return {
      kind: 'refused',
      denial: deny(
        401,
        'auth_error',
        `LiteLLM Virtual Key expected. Received=${shown}, expected to start with 'sk-'.`,
      ),
    };
  }
  return { kind: 'virtual_key', keyHash: hashKey(rawKey), rawKey };
}
