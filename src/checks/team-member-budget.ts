/**
 * The budget of the caller as a member of its team, checked twice by LiteLLM with different rules
 * (litellm-auth.md §12): the key path uses a strict `>` and ignores a zero budget; common_checks
 * uses `>=` and so denies at `max_budget == 0`. A request can pass one and fail the other; both
 * are reproduced, each at its own position.
 */
import type { Budget, Team, TeamMembership } from '../domain/entities';
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

/**
 * The budget row to load as the team's default for its members: newer LiteLLM's
 * `_check_team_member_budget` reads `team.metadata.team_member_budget_id` when the membership has
 * no budget row of its own (none at all, or one without `budget_id`). Null: nothing to load.
 */
export function teamMemberDefaultBudgetId(team: Team | null, membership: TeamMembership | null, userId: string | null): string | null {
  if (team === null || userId === null || membership?.budget != null) return null;
  const id = team.metadata['team_member_budget_id'];
  return typeof id === 'string' ? id : null;
}

/**
 * common_checks step 4.2 (`_check_team_member_budget`): needs a team, a user row and a caller user
 * id. The membership's own budget row wins; without one, newer LiteLLM falls back to the team's
 * default member budget, and a caller with no membership row at all has spent 0 in the team.
 */
export const teamMemberBudget: Check = {
  name: 'team_member_budget',
  spec: 'litellm-auth.md §4 step 4.2',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const { team, user, membership } = ctx.snapshot;
    const userId = callerUserId(ctx.snapshot);
    if (team === null || user === null || userId === null || areBudgetChecksSkipped(ctx)) return null;
    if (membership !== null && (membership.team_id !== team.team_id || membership.user_id !== userId)) return null;
    const budget: Budget | null = membership?.budget ?? ctx.snapshot.teamMemberDefaultBudget ?? null;
    const maxBudget = budget?.max_budget ?? null;
    const spend = membership?.spend ?? ctx.snapshot.nonMemberTeamSpend ?? 0;
    if (maxBudget === null || !(spend >= maxBudget)) return null;
    return budgetExceeded(
      `Budget has been exceeded! User=${userId} in Team=${team.team_id} Current cost: ${pyFloat(spend)}, Max budget: ${pyFloat(maxBudget)}`,
    );
  },
};
