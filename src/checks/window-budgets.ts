/**
 * Newer LiteLLM's multi-window budgets (`budget_limits`) in common_checks: `_team_multi_budget_check`
 * then `_virtual_key_multi_budget_check` (steps 3.1 and 3.2, right after the team's own budget),
 * `_user_multi_budget_check` beside the personal user budget (4.1, personal keys only) and
 * `_end_user_multi_budget_check` after the end user's budget (5). Each window refuses once the
 * spend within it reaches its `max_budget` (>=, for every entity). The spend is loaded with the
 * snapshot (budgetWindowSpend): summed from LiteLLM_SpendLogs since the window's start, through the
 * entity caches, and with metering brought up to the Check by the window tails in Redis
 * (spend/window-tail.ts).
 */
import type { BudgetWindowLimit } from '../domain/entities';
import { windowSpendId, type WindowEntity } from '../spend/window-limits';
import { windowSpendTotal } from '../spend/window-spend';
import type { Check, CheckContext, Denial } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped, personalBudgetsApply } from './budget-scope';
import { pyFixed } from './python-format';

/** The first window whose spend reached its budget, with that spend; null when none did. */
export function exceededWindow(
  ctx: CheckContext,
  entity: WindowEntity,
  entityId: string,
  windows: readonly BudgetWindowLimit[] | undefined,
): { readonly window: BudgetWindowLimit; readonly spend: number } | null {
  if (windows === undefined || windows.length === 0) return null;
  for (const window of windows) {
    const spend = windowSpendTotal(ctx.snapshot.budgetWindowSpend?.get(windowSpendId(entity, entityId, window)));
    if (spend >= window.max_budget) return { window, spend };
  }
  return null;
}

/** LiteLLM's text: `ExceededBudget: <who> over <duration> budget. Spend=$<.4f>, Limit=$<.2f>`. */
function windowExceeded(who: string, { window, spend }: { readonly window: BudgetWindowLimit; readonly spend: number }): Denial {
  return budgetExceeded(
    `ExceededBudget: ${who} over ${window.budget_duration} budget. Spend=$${pyFixed(spend, 4)}, Limit=$${pyFixed(window.max_budget, 2)}`,
  );
}

export const teamWindowBudgets: Check = {
  name: 'team_window_budgets',
  spec: 'litellm-auth.md §4 after step 3 [newer] (`_team_multi_budget_check`)',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const team = ctx.snapshot.team;
    if (team === null || team.budget_limits === undefined || team.budget_limits.length === 0 || areBudgetChecksSkipped(ctx)) return null;
    const exceeded = exceededWindow(ctx, 'team', team.team_id, team.budget_limits);
    return exceeded === null ? null : windowExceeded(`Team=${team.team_id}`, exceeded);
  },
};

export const keyWindowBudgets: Check = {
  name: 'key_window_budgets',
  spec: 'litellm-auth.md §4 after step 3 [newer] (`_virtual_key_multi_budget_check`)',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    if (key === null || key.budget_limits === undefined || key.budget_limits.length === 0 || areBudgetChecksSkipped(ctx)) return null;
    const exceeded = exceededWindow(ctx, 'key', key.token, key.budget_limits);
    // LiteLLM names no key in this message.
    return exceeded === null ? null : windowExceeded('Key', exceeded);
  },
};

/**
 * `_user_multi_budget_check`, run where the personal user budget is (step 4.1): only without a
 * team (a team key answers to team and team-member budgets, as newer LiteLLM's common_checks
 * decides for both user budgets) unless general_settings.apply_user_budget_to_team_keys is on,
 * for any caller whose user is known (a key's owner, a JWT user).
 */
export const userWindowBudgets: Check = {
  name: 'user_window_budgets',
  spec: 'litellm-auth.md §4 step 4.1 [newer] (`_user_multi_budget_check`)',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const { team, user } = ctx.snapshot;
    if (!personalBudgetsApply(team, ctx.policy) || user === null || user.budget_limits === undefined || user.budget_limits.length === 0 || areBudgetChecksSkipped(ctx)) {
      return null;
    }
    const exceeded = exceededWindow(ctx, 'user', user.user_id, user.budget_limits);
    return exceeded === null ? null : windowExceeded(`User=${user.user_id}`, exceeded);
  },
};

/** `_end_user_multi_budget_check`, after the end user's own budget (step 5); with or without a team. */
export const endUserWindowBudgets: Check = {
  name: 'end_user_window_budgets',
  spec: 'litellm-auth.md §4 step 5 [newer] (`_end_user_multi_budget_check`)',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const endUser = ctx.snapshot.endUser;
    if (endUser === null || endUser.budget_limits === undefined || endUser.budget_limits.length === 0 || areBudgetChecksSkipped(ctx)) return null;
    const exceeded = exceededWindow(ctx, 'end_user', endUser.user_id, endUser.budget_limits);
    return exceeded === null ? null : windowExceeded(`End User=${endUser.user_id}`, exceeded);
  },
};
