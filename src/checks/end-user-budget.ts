/**
 * The end user's (customer's) budget, checked twice by LiteLLM: once while resolving the end user,
 * before the key is even looked up (§2.5), and again inside common_checks (§4 step 5).
 */
import type { EndUser } from '../domain/entities';
import { isInfoRoute } from '../routes/classify';
import type { Check, Denial } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { pyFloat } from './python-format';

/** LiteLLM: `spend > max_budget` (strict), using the end user's own or the default budget row. */
export function endUserOverBudget(endUser: EndUser): Denial | null {
  const maxBudget = endUser.budget?.max_budget ?? null;
  if (maxBudget === null || !(endUser.spend > maxBudget)) return null;
  return budgetExceeded(
    `ExceededBudget: End User=${endUser.user_id} over budget. Spend=${pyFloat(endUser.spend)}, Budget=${pyFloat(maxBudget)}`,
  );
}

/**
 * `get_end_user_object` → `_check_end_user_budget`. Skipped on info routes, but not for free
 * models: LiteLLM decides `skip_budget_checks` only later. An unknown end user passes.
 */
export const endUserBudgetBeforeKeyLookup: Check = {
  name: 'end_user_budget_before_key_lookup',
  spec: 'litellm-auth.md §2.5',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const endUser = ctx.snapshot.endUser;
    if (endUser === null || isInfoRoute(ctx.request.route)) return null;
    return endUserOverBudget(endUser);
  },
};

/** common_checks step 5: the same comparison, skipped with the other budgets. */
export const endUserBudget: Check = {
  name: 'end_user_budget',
  spec: 'litellm-auth.md §4 step 5',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const endUser = ctx.snapshot.endUser;
    if (endUser === null || areBudgetChecksSkipped(ctx)) return null;
    return endUserOverBudget(endUser);
  },
};
