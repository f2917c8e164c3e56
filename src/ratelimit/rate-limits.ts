/**
 * LiteLLM's rpm / tpm limits, read from the same rows as the budgets: the key, its user, its
 * team and the end user (whose limits live on its budget row). LiteLLM enforces them in its
 * parallel request limiter hook, after authentication; Tollgate does it right after the checks.
 * Pure: what applies is decided here, counting happens in Redis (admission.ts).
 */
import type { Snapshot } from '../checks/types';
import type { SpendTarget } from '../spend/targets';
import { targetName } from '../spend/targets';

export type RateMetric = 'rpm' | 'tpm';

/** LiteLLM's names for who is limited, as they appear in its 429 message. */
export type RateLimitType = 'key' | 'user' | 'team' | 'customer';

export interface RateLimit {
  readonly target: SpendTarget;
  readonly type: RateLimitType;
  readonly metric: RateMetric;
  readonly limit: number;
}

/**
 * Every limit that applies to this request, key, user, team, end user in that order; a null limit
 * is unlimited (a 0 limit admits nothing, as in LiteLLM). Runs on every Check, and most entities
 * have no limits: nothing is built for those.
 */
export function rateLimitsOf(snapshot: Snapshot): RateLimit[] {
  const { key, user, team, endUser } = snapshot;
  const out: RateLimit[] = [];
  if (key !== null) addLimits(out, 'key', key.token, 'key', key.rpm_limit, key.tpm_limit);
  if (user !== null) addLimits(out, 'user', user.user_id, 'user', user.rpm_limit, user.tpm_limit);
  if (team !== null) addLimits(out, 'team', team.team_id, 'team', team.rpm_limit, team.tpm_limit);
  if (endUser !== null && endUser.budget !== null) {
    addLimits(out, 'end_user', endUser.user_id, 'customer', endUser.budget.rpm_limit, endUser.budget.tpm_limit);
  } else if (snapshot.unknownEndUser !== undefined) {
    const { user_id: id, budget } = snapshot.unknownEndUser;
    addLimits(out, 'end_user', id, 'customer', budget.rpm_limit, budget.tpm_limit);
  }
  return out;
}

function addLimits(
  out: RateLimit[],
  kind: SpendTarget['kind'],
  id: string,
  type: RateLimitType,
  rpm: number | null,
  tpm: number | null,
): void {
  if (rpm === null && tpm === null) return;
  const target: SpendTarget = { kind, id };
  if (rpm !== null) out.push({ target, type, metric: 'rpm', limit: rpm });
  if (tpm !== null) out.push({ target, type, metric: 'tpm', limit: tpm });
}

/** The entities whose token windows a metered response feeds (tpm is counted for all, limited or not). */
export const TOKEN_COUNTED_KINDS: ReadonlySet<SpendTarget['kind']> = new Set(['key', 'user', 'team', 'end_user']);

/** The minute a sliding window bucket covers. */
export function minuteOf(nowMs: number): number {
  return Math.floor(nowMs / 60_000);
}

/** `<prefix>rl:<target>:<rpm|tpm>:<minute>`: one bucket per entity, metric and minute (TTL two minutes). */
export function rateBucketKey(prefix: string, target: SpendTarget, metric: RateMetric, minute: number): string {
  return `${prefix}rl:${targetName(target)}:${metric}:${minute}`;
}

/** Buckets outlive the window they are read in (current + previous minute). */
export const RATE_BUCKET_TTL_MS = 120_000;
