/**
 * §2.7 steps 1 and 8: the key's own budget, widened by an unexpired temporary increase.
 * LiteLLM: spend >= max for keys (teams use >), and only on LLM API routes.
 *
 * Newer LiteLLM (`budget_throttle.py`) throttles instead of refusing a key over that budget
 * when it opted in (`metadata.throttle_on_budget_exceeded: true`), has an rpm or tpm limit and
 * `litellm_settings.budget_exceeded_throttle_percentage` is valid: the request goes on, and the
 * rate limiter scales the key's own limits to that share (ratelimit/rate-limits.ts).
 */
import type { VirtualKey } from '../domain/entities';
import type { Policy } from '../config/policy';
import { isLlmApiRoute } from '../routes/classify';
import type { Check, CheckContext, Denial } from './types';
import { defaultBudgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';

const EXPLICIT_OFFSET = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/** Python `datetime.fromisoformat`, with a naive value taken as UTC (litellm-auth.md §2.7 step 1). */
function parseIsoAsUtc(text: string): Date | null {
  const normalised = text.trim().replace(' ', 'T');
  const date = new Date(EXPLICIT_OFFSET.test(normalised) ? normalised : `${normalised}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * `_update_key_budget_with_temp_budget_increase`: `metadata.temp_budget_increase` is added to
 * `max_budget` while `metadata.temp_budget_expiry` is in the future. No max budget, no increase.
 * An unreadable expiry counts as no increase (LiteLLM would fail the request with a 401 instead).
 */
export function keyMaxBudgetWithTempIncrease(key: VirtualKey, now: Date): number | null {
  if (key.max_budget === null) return null;
  const increase = key.metadata['temp_budget_increase'];
  const expiry = key.metadata['temp_budget_expiry'];
  if (typeof increase !== 'number' || typeof expiry !== 'string') return key.max_budget;
  const expiresAt = parseIsoAsUtc(expiry);
  if (expiresAt === null || !(expiresAt.getTime() > now.getTime())) return key.max_budget;
  return key.max_budget + increase;
}

/** The key's budget when this request is held to it and it is spent (`_virtual_key_max_budget_check`); else null. */
function exhaustedKeyBudget(ctx: CheckContext): number | null {
  const key = ctx.snapshot.key;
  if (key === null || !isLlmApiRoute(ctx.request.route, ctx.policy.passThroughEndpoints) || areBudgetChecksSkipped(ctx)) return null;
  const maxBudget = keyMaxBudgetWithTempIncrease(key, ctx.now);
  return maxBudget !== null && key.spend >= maxBudget ? maxBudget : null;
}

/** `should_throttle_budget_exceeded`: the share to throttle this key to once over budget, or null (refused). */
function throttleShareOf(key: VirtualKey, policy: Policy): number | null {
  const share = policy.budgetExceededThrottlePercentage ?? null;
  if (share === null || key.metadata['throttle_on_budget_exceeded'] !== true) return null;
  return key.rpm_limit === null && key.tpm_limit === null ? null : share;
}

/**
 * The share of its rpm / tpm limits a key over its budget is throttled to on this request
 * (`budget_throttle_pct`); null when the key is within budget or is refused instead.
 */
export function keyBudgetThrottle(ctx: CheckContext): number | null {
  const key = ctx.snapshot.key;
  if (key === null || exhaustedKeyBudget(ctx) === null) return null;
  return throttleShareOf(key, ctx.policy);
}

/**
 * The refusal a key throttled over its budget would have had without the throttle: for when its
 * rate limits cannot be applied, which would leave it running unlimited past its budget.
 */
export function throttledKeyRefusal(ctx: CheckContext): Denial | null {
  const key = ctx.snapshot.key;
  const maxBudget = exhaustedKeyBudget(ctx);
  if (key === null || maxBudget === null || throttleShareOf(key, ctx.policy) === null) return null;
  return defaultBudgetExceeded(key.spend, maxBudget);
}

export const keyBudget: Check = {
  name: 'key_budget',
  spec: 'litellm-auth.md §2.7 steps 1 and 8',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    const maxBudget = exhaustedKeyBudget(ctx);
    if (key === null || maxBudget === null || throttleShareOf(key, ctx.policy) !== null) return null;
    return defaultBudgetExceeded(key.spend, maxBudget);
  },
};
