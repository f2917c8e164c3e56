/**
 * LiteLLM's 429 for a crossed rpm / tpm limit. The message is the classic parallel request
 * limiter's text (as LiteLLM's docs show it; the spec and seeds do not cover the limiter), and,
 * like every HTTPException LiteLLM re-raises, type and param are the string "None".
 * Unlimited values print as Python's sys.maxsize, as LiteLLM does.
 */
import type { Denial } from '../checks/types';
import type { RateLimit, RateLimitType } from './rate-limits';

const PY_MAXSIZE = '9223372036854775807';

export function rateLimitDenial(
  type: RateLimitType,
  limits: readonly RateLimit[],
  used: ReadonlyMap<RateLimit, number>,
  retryAfterSeconds: number,
  unlimitedTokens: number | null = null,
): Denial {
  // An unlimited metric still prints what the entity used, as the classic limiter counts both
  // for every limited entity: the tokens of its tpm window when they were read (unlimitedTokens),
  // else 0 (no window counts requests without an rpm limit).
  const of = (metric: 'rpm' | 'tpm'): { current: string; limit: string } => {
    const limit = limits.find((l) => l.type === type && l.metric === metric);
    if (limit === undefined) return { current: metric === 'tpm' && unlimitedTokens !== null ? String(Math.ceil(unlimitedTokens)) : '0', limit: PY_MAXSIZE };
    return { current: String(Math.ceil(used.get(limit) ?? 0)), limit: String(limit.limit) };
  };
  const rpm = of('rpm');
  const tpm = of('tpm');
  // A limit of 0 refuses the entity's first request of the minute, so LiteLLM's limiter never
  // has a count for it and answers from its "no count yet" branch, in that branch's words.
  const message =
    rpm.limit === '0' || tpm.limit === '0'
      ? `Max parallel request limit reached Crossed TPM / RPM / Max Parallel Request Limit. Hit limit for ${type}. ` +
        `Current limits: max_parallel_requests: ${PY_MAXSIZE}, tpm_limit: ${tpm.limit}, rpm_limit: ${rpm.limit}`
      : `LiteLLM Rate Limit Handler for rate limit type = ${type}. Crossed TPM / RPM / Max Parallel Request Limit. ` +
        `current rpm: ${rpm.current}, rpm limit: ${rpm.limit}, current tpm: ${tpm.current}, tpm limit: ${tpm.limit}, ` +
        `current max_parallel_requests: 0, max_parallel_requests: ${PY_MAXSIZE}`;
  return {
    status: 429,
    type: 'None',
    param: 'None',
    message,
    // LiteLLM's limiter sends retry-after with every 429 (retry-after.ts: how long, and how ours differs).
    headers: [['retry-after', String(retryAfterSeconds)]],
  };
}

/**
 * Envoy AI Gateway's per-request limit ("Dynamic Per-Request Limits"): `"<count>/<UNIT>"` in the
 * ext_authz dynamic metadata. The tightest token limit that applies, per minute as LiteLLM's tpm.
 */
export function aiGatewayRateLimit(limits: readonly RateLimit[]): string | null {
  const tpm = limits.filter((l) => l.metric === 'tpm').map((l) => l.limit);
  return tpm.length === 0 ? null : `${Math.min(...tpm)}/MINUTE`;
}
