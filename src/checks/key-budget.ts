/**
 * §2.7 steps 1 and 8: the key's own budget, widened by an unexpired temporary increase.
 * LiteLLM: spend >= max for keys (teams use >), and only on LLM API routes.
 */
import type { VirtualKey } from '../domain/entities';
import { isLlmApiRoute } from '../routes/classify';
import type { Check } from './types';
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

export const keyBudget: Check = {
  name: 'key_budget',
  spec: 'litellm-auth.md §2.7 steps 1 and 8',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    if (key === null || !isLlmApiRoute(ctx.request.route, ctx.policy.passThroughEndpoints) || areBudgetChecksSkipped(ctx)) return null;
    const maxBudget = keyMaxBudgetWithTempIncrease(key, ctx.now);
    if (maxBudget === null || !(key.spend >= maxBudget)) return null;
    return defaultBudgetExceeded(key.spend, maxBudget);
  },
};
