/**
 * The budget of the caller as a member of its team, checked twice by LiteLLM with different rules
 * (litellm-auth.md §12): the key path uses a strict `>` and ignores a zero budget; common_checks
 * uses `>=` and so denies at `max_budget == 0`. A request can pass one and fail the other; both
 * are reproduced, each at its own position.
 */
import type { Check } from './types';
import { budgetExceeded, defaultBudgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { callerUserId } from './context';
import { pyFloat } from './python-format';

/** Builder step 2.7.6: `team_member_spend > max_budget`, only when `max_budget > 0`. Default message. */
export const teamMemberBudgetOnKeyPath: Check = {
  name: 'team_member_budget_key_path',
  spec: 'litellm-auth.md §2.7 step 6',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const { key, membership } = ctx.snapshot;
    if (key === null || membership === null || areBudgetChecksSkipped(ctx)) return null;
    const maxBudget = membership.budget?.max_budget ?? null;
    if (maxBudget === null || !(maxBudget > 0) || !(membership.spend > maxBudget)) return null;
    return defaultBudgetExceeded(membership.spend, maxBudget);
  },
};

/** common_checks step 4.2 (`_check_team_member_budget`): needs a team, a user row and a caller user id. */
export const teamMemberBudget: Check = {
  name: 'team_member_budget',
  spec: 'litellm-auth.md §4 step 4.2',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const { team, user, membership } = ctx.snapshot;
    const userId = callerUserId(ctx.snapshot);
    if (team === null || user === null || userId === null || membership === null) return null;
    if (membership.team_id !== team.team_id || membership.user_id !== userId || areBudgetChecksSkipped(ctx)) {
      return null;
    }
    const maxBudget = membership.budget?.max_budget ?? null;
    if (maxBudget === null || !(membership.spend >= maxBudget)) return null;
    return budgetExceeded(
      `Budget has been exceeded! User=${userId} in Team=${team.team_id} Current cost: ${pyFloat(membership.spend)}, Max budget: ${pyFloat(maxBudget)}`,
    );
  },
};
