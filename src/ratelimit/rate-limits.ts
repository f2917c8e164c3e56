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

interface Limited {
  readonly target: SpendTarget;
  readonly type: RateLimitType;
  readonly rpm: number | null;
  readonly tpm: number | null;
}

function limitedOf(snapshot: Snapshot): Limited[] {
  const { key, user, team, endUser } = snapshot;
  const out: Limited[] = [];
  if (key !== null) out.push({ target: { kind: 'key', id: key.token }, type: 'key', rpm: key.rpm_limit, tpm: key.tpm_limit });
  if (user !== null) out.push({ target: { kind: 'user', id: user.user_id }, type: 'user', rpm: user.rpm_limit, tpm: user.tpm_limit });
  if (team !== null) out.push({ target: { kind: 'team', id: team.team_id }, type: 'team', rpm: team.rpm_limit, tpm: team.tpm_limit });
  if (endUser !== null && endUser.budget !== null) {
    const budget = endUser.budget;
    out.push({ target: { kind: 'end_user', id: endUser.user_id }, type: 'customer', rpm: budget.rpm_limit, tpm: budget.tpm_limit });
  }
  return out;
}

/** Every limit that applies to this request; a null limit is unlimited (a 0 limit admits nothing, as in LiteLLM). */
export function rateLimitsOf(snapshot: Snapshot): RateLimit[] {
  return limitedOf(snapshot).flatMap(({ target, type, rpm, tpm }) => [
    ...(rpm !== null ? [{ target, type, metric: 'rpm' as const, limit: rpm }] : []),
    ...(tpm !== null ? [{ target, type, metric: 'tpm' as const, limit: tpm }] : []),
  ]);
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
