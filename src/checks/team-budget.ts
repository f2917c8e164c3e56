/** common_checks step 3 (`_team_max_budget_check`). LiteLLM: spend > max for teams (>= for keys). */
import type { Team } from '../domain/entities';
import type { Check, Denial } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { pyFloat } from './python-format';

export function teamOverBudget(team: Team): Denial | null {
  if (team.max_budget === null || !(team.spend > team.max_budget)) return null;
  return budgetExceeded(
    `Budget has been exceeded! Team=${team.team_id} Current cost: ${pyFloat(team.spend)}, Max budget: ${pyFloat(team.max_budget)}`,
  );
}

export const teamBudget: Check = {
  name: 'team_budget',
  spec: 'litellm-auth.md §4 step 3',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const team = ctx.snapshot.team;
    if (team === null || areBudgetChecksSkipped(ctx)) return null;
    return teamOverBudget(team);
  },
};
