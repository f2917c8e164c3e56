/**
 * The budgets a reservation must fit in: the same entities, limits and scope as the budget
 * checks (litellm-auth.md §8), read from the snapshot the checks just passed. Pure.
 */
import { areBudgetChecksSkipped, personalBudgetsApply } from '../checks/budget-scope';
import { keyBudgetThrottle, keyMaxBudgetWithTempIncrease } from '../checks/key-budget';
import type { CheckContext } from '../checks/types';
import { isLlmApiRoute } from '../routes/classify';
import { counterSlots, type CounterSlot } from './counter-slots';
import type { SpendTarget } from './targets';

export interface BudgetLimit {
  readonly slot: CounterSlot;
  /** The hard limit; null: counted (so the reservation shows in its counter) but never refusing. */
  readonly max: number | null;
}

function maxBudgetOf(ctx: CheckContext, target: SpendTarget): number | null {
  const { key, team, membership, user, endUser, organization, project, tags } = ctx.snapshot;
  switch (target.kind) {
    case 'key':
      // A key throttled over its budget passed the check by being slowed, not by fitting in it.
      if (key === null || !isLlmApiRoute(ctx.request.route, ctx.policy.passThroughEndpoints) || keyBudgetThrottle(ctx) !== null) return null;
      return keyMaxBudgetWithTempIncrease(key, ctx.now);
    case 'team':
      return team?.max_budget ?? null;
    case 'team_member':
      // The membership's own budget row, else the team's default member budget (team_member_budget.ts),
      // which also holds a caller with no membership row (its counter: counter-slots.ts). As the
      // check (common_checks 4.2), only for a caller whose user row exists.
      if (user === null) return null;
      if (membership !== null && membership.budget !== null) return membership.budget.max_budget;
      return ctx.snapshot.teamMemberDefaultBudget?.max_budget ?? null;
    case 'user':
      // The user budget applies without a team only (§8 notes; personal_user_budget): personal keys,
      // team-less JWT users; team keys too with apply_user_budget_to_team_keys.
      return personalBudgetsApply(team, ctx.policy) ? (user?.max_budget ?? null) : null;
    case 'end_user':
      return endUser?.budget?.max_budget ?? null;
    case 'organization': {
      const max = organization?.budget?.max_budget ?? null;
      return max !== null && max > 0 ? max : null;
    }
    case 'project':
      return project?.budget?.max_budget ?? null;
    case 'tag':
      return tags.find((t) => t.tag_name === target.id)?.budget?.max_budget ?? null;
  }
}

/** Empty when no budget check applies to the request (info routes, free models). */
export function budgetLimitsOf(ctx: CheckContext): BudgetLimit[] {
  if (areBudgetChecksSkipped(ctx)) return [];
  return counterSlots(ctx.snapshot, ctx.now.getTime())
    .map((slot) => ({ slot, max: maxBudgetOf(ctx, slot.target) }))
    .filter((limit) => limit.max !== null);
}
