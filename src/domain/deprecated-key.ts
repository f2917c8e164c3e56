/**
 * Key rotation's grace period (LiteLLM's `LiteLLM_DeprecatedVerificationToken`, litellm-schema.md
 * §2.15): `/key/regenerate` with a `grace_period` moves the key row to the new hash and leaves a
 * row mapping the old hash to it, so the old key keeps working, as the new one, until `revoke_at`.
 */
export interface DeprecatedKey {
  /** sha256 hex of the rotated-out key. */
  readonly token: string;
  /** The hash the key row carries now (`LiteLLM_VerificationToken.token`). */
  readonly active_token_id: string;
  readonly revoke_at: Date;
}

/**
 * The hash an old key stands for at `now`, or null once its grace period is over. Asked on every
 * Check, so a mapping cached for any length of time never outlives `revoke_at` (LiteLLM's lookup
 * asks for `revoke_at > now`, and its cache checks the same before answering).
 */
export function activeTokenOf(mapping: DeprecatedKey | null, now: Date): string | null {
  if (mapping === null) return null;
  const revokeAt = mapping.revoke_at.getTime();
  // A revoke_at that is not a date (NaN) compares false: the old key is refused.
  return revokeAt > now.getTime() && mapping.active_token_id !== '' ? mapping.active_token_id : null;
}
