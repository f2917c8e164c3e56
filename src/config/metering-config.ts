/**
 * The `tollgate:` settings for metering, spend counters, reservations and rate limits
 * (docs/budgets.md), validated with the rest of the YAML file by litellm-config.ts.
 */
import { z } from 'zod';
import { tokenRateLimitTypeOf, type TokenRateLimitType } from '../metering/usage';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** Merged into the `tollgate:` section's schema. */
export const meteringConfigShape = {
  /** Record spend from Envoy's ext_proc stream into Redis counters and the database; budget checks read the counters. */
  metering: z.boolean().optional(),
  /** Reserve an estimated cost at Check and settle it at the response (bounds overshoot). */
  budget_reservation: z.boolean().optional(),
  reservation_ttl_seconds: positiveInt.optional(),
  reservation_default_output_tokens: nonNegativeInt.optional(),
  /** rpm / tpm limits from the key, user, team and end-user rows (needs Redis). */
  enforce_rate_limits: z.boolean().optional(),
  /** Emit Envoy AI Gateway's `rate_limit: "N/MINUTE"` dynamic metadata. */
  rate_limit_metadata: z.boolean().optional(),
  spend_flush_interval_ms: positiveInt.optional(),
  spend_flush_batch_size: positiveInt.optional(),
  spend_claim_idle_ms: positiveInt.optional(),
  spend_counter_idle_seconds: positiveInt.optional(),
  /** Recovery drills: hold each flushed batch before its commit / its acknowledgement. */
  spend_flush_drill: z.looseObject({ pause_before_commit_ms: nonNegativeInt.optional(), pause_before_ack_ms: nonNegativeInt.optional() }).optional(),
};

type MeteringConfig = { [K in keyof typeof meteringConfigShape]?: z.infer<(typeof meteringConfigShape)[K]> };

export interface MeteringSettings {
  readonly enabled: boolean;
  readonly budgetReservation: boolean;
  readonly reservationTtlMs: number;
  readonly reservationDefaultOutputTokens: number;
  readonly enforceRateLimits: boolean;
  /** general_settings.token_rate_limit_type: which of a response's tokens tpm windows count. */
  readonly tokenRateLimitType: TokenRateLimitType;
  readonly rateLimitMetadata: boolean;
  readonly flushIntervalMs: number;
  readonly flushBatchSize: number;
  readonly claimIdleMs: number;
  readonly counterIdleMs: number;
  readonly flushPauseBeforeCommitMs: number;
  readonly flushPauseBeforeAckMs: number;
}

/** `tokenRateLimitType` is general_settings.token_rate_limit_type, read as LiteLLM reads it (any value). */
export function meteringSettingsFrom(tollgate: MeteringConfig, tokenRateLimitType: unknown): MeteringSettings {
  return {
    enabled: tollgate.metering ?? false,
    budgetReservation: tollgate.budget_reservation ?? false,
    // Envoy's route timeout for LLM calls is 600 s: a reservation outlives any request it covers.
    reservationTtlMs: (tollgate.reservation_ttl_seconds ?? 660) * 1000,
    reservationDefaultOutputTokens: tollgate.reservation_default_output_tokens ?? 4096,
    enforceRateLimits: tollgate.enforce_rate_limits ?? true,
    tokenRateLimitType: tokenRateLimitTypeOf(tokenRateLimitType),
    rateLimitMetadata: tollgate.rate_limit_metadata ?? false,
    flushIntervalMs: tollgate.spend_flush_interval_ms ?? 1000,
    flushBatchSize: tollgate.spend_flush_batch_size ?? 200,
    claimIdleMs: tollgate.spend_claim_idle_ms ?? 30_000,
    counterIdleMs: (tollgate.spend_counter_idle_seconds ?? 7 * 86_400) * 1000,
    flushPauseBeforeCommitMs: tollgate.spend_flush_drill?.pause_before_commit_ms ?? 0,
    flushPauseBeforeAckMs: tollgate.spend_flush_drill?.pause_before_ack_ms ?? 0,
  };
}
