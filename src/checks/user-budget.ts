/**
 * common_checks step 4.1: the personal budget of the key's user, for keys without a team (and
 * team keys too with general_settings.apply_user_budget_to_team_keys, newer LiteLLM).
 * Seed behaviour: `max_budget < spend` (strict); newer LiteLLM switched to `>=` with a Redis counter.
 */
import type { Check } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped, personalBudgetsApply } from './budget-scope';
import { pyFloat } from './python-format';

export const personalUserBudget: Check = {
  name: 'personal_user_budget',
  spec: 'litellm-auth.md §4 step 4.1',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const { team, user } = ctx.snapshot;
    if (user === null || user.max_budget === null || !personalBudgetsApply(team, ctx.policy) || areBudgetChecksSkipped(ctx)) return null;
    if (!(user.max_budget < user.spend)) return null;
    return budgetExceeded(
      `ExceededBudget: User=${user.user_id} over budget. Spend=${pyFloat(user.spend)}, Budget=${pyFloat(user.max_budget)}`,
    );
  },
};
