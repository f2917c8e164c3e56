/**
 * common_checks step 7 (`_global_proxy_budget_check`): the proxy-wide `litellm_settings.max_budget`
 * against the last 30 days of spend, on LLM routes except the model list.
 */
import { isLlmApiRoute } from '../routes/classify';
import type { Check } from './types';
import { budgetExceeded, defaultBudgetExceededMessage } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { pyConfigNumber, pyFloat } from './python-format';

const MODEL_LIST_ROUTES: readonly string[] = ['/v1/models', '/models'];

export const globalProxyBudget: Check = {
  name: 'global_proxy_budget',
  spec: 'litellm-auth.md §4 step 7',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const maxBudget = ctx.policy.maxBudget;
    const spend = ctx.snapshot.globalSpend;
    const route = ctx.request.route;
    if (maxBudget === null || !(maxBudget > 0) || spend === null) return null;
    if (!isLlmApiRoute(route, ctx.policy.passThroughEndpoints) || MODEL_LIST_ROUTES.includes(route) || areBudgetChecksSkipped(ctx)) return null;
    if (!(spend > maxBudget)) return null;
    // The spend comes from the DB (a Python float); the limit is the YAML value as written.
    return budgetExceeded(defaultBudgetExceededMessage(pyFloat(spend), pyConfigNumber(maxBudget, ctx.policy.writtenAsFloat?.maxBudget)));
  },
};
