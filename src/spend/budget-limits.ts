/**
 * The budgets a reservation must fit in: the same entities, limits and scope as the budget
 * checks (litellm-auth.md §8) and the window checks (window-budgets.ts), read from the snapshot
 * the checks just passed. Pure.
 */
import { budgetedModelsOf, isSpendGated, modelBudgetName, modelBudgetOwners, modelBudgetsOf, type ModelBudgetCounter } from '../checks/model-budget-scopes';
import { areBudgetChecksSkipped, personalBudgetsApply } from '../checks/budget-scope';
import { keyBudgetThrottle, keyMaxBudgetWithTempIncrease } from '../checks/key-budget';
import type { CheckContext } from '../checks/types';
import { isLlmApiRoute } from '../routes/classify';
import { counterSlots, type CounterSlot } from './counter-slots';
import type { SpendTarget } from './targets';
import type { BudgetWindowLimit, WindowSpend } from '../domain/entities';
import { windowSpendId, type WindowEntity } from './window-limits';

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
export function budgetLimitsOf(ctx: CheckContext): readonly BudgetLimit[] {
  return reservationLimitsOf(ctx).budgets;
}

/**
 * One multi-window budget (`budget_limits`) a reservation must fit in: the window, whose it is
 * (as its refusal names it), its spend as the checks read it, and the counter (an entry of the
 * budgets) whose reserved total holds the requests in flight of its entity.
 */
export interface WindowBudgetLimit {
  readonly window: BudgetWindowLimit;
  /** LiteLLM's name for the entity in its message: `Key`, `Team=<id>`, `User=<id>`, `End User=<id>`. */
  readonly who: string;
  /** As the snapshot holds it: a state (its tail completed from Redis), or the spend itself. */
  readonly spend: WindowSpend | number;
  /** Its entity's window tail, read again by the reservation from the state's settled end. */
  readonly tail: SpendTarget;
  /** Its entity's counter among the budgets (0-based). */
  readonly budget: number;
}

/** An entity whose windows a reservation holds, with its name in the window refusal. */
interface WindowEntityOf {
  readonly target: SpendTarget;
  readonly who: string;
  readonly windows: readonly BudgetWindowLimit[];
}

const NO_WINDOW_ENTITIES: readonly WindowEntityOf[] = Object.freeze([]);
const NO_WINDOW_LIMITS: readonly WindowBudgetLimit[] = Object.freeze([]);

function hasWindows(row: { readonly budget_limits?: readonly BudgetWindowLimit[] } | null): boolean {
  return row !== null && (row.budget_limits?.length ?? 0) > 0;
}

/**
 * The windows the window checks judge for this request (window-budgets.ts: the team's, the key's,
 * a user's where personal budgets apply, the end user's), in their order.
 */
function windowsOf(ctx: CheckContext): readonly WindowEntityOf[] {
  const { key, team, user, endUser } = ctx.snapshot;
  // Most Checks: no entity has windows, and nothing is allocated for them.
  if (!hasWindows(key) && !hasWindows(team) && !hasWindows(user) && !hasWindows(endUser)) return NO_WINDOW_ENTITIES;
  const found: WindowEntityOf[] = [];
  if (team !== null && (team.budget_limits?.length ?? 0) > 0) found.push({ target: { kind: 'team', id: team.team_id }, who: `Team=${team.team_id}`, windows: team.budget_limits ?? [] });
  if (key !== null && (key.budget_limits?.length ?? 0) > 0) found.push({ target: { kind: 'key', id: key.token }, who: 'Key', windows: key.budget_limits ?? [] });
  if (user !== null && (user.budget_limits?.length ?? 0) > 0 && personalBudgetsApply(team, ctx.policy)) {
    found.push({ target: { kind: 'user', id: user.user_id }, who: `User=${user.user_id}`, windows: user.budget_limits ?? [] });
  }
  if (endUser !== null && (endUser.budget_limits?.length ?? 0) > 0) {
    found.push({ target: { kind: 'end_user', id: endUser.user_id }, who: `End User=${endUser.user_id}`, windows: endUser.budget_limits ?? [] });
  }
  return found;
}

/**
 * Every budget a reservation must fit in: the entities' own (`max_budget`, budgetLimitsOf) and
 * their multi-window budgets. An entity with windows but no budget of its own is among the
 * budgets too, with no limit, so that its reserved total holds what its requests in flight may
 * spend. Empty when no budget check applies to the request (info routes, free models).
 */
export function reservationLimitsOf(ctx: CheckContext): ReservationLimits {
  if (areBudgetChecksSkipped(ctx)) return NO_LIMITS;
  const slots = counterSlots(ctx.snapshot, ctx.now.getTime());
  const withWindows = windowsOf(ctx);
  const budgets: BudgetLimit[] = [];
  for (const slot of slots) {
    const max = maxBudgetOf(ctx, slot.target);
    if (max !== null || (withWindows.length > 0 && withWindows.some((w) => sameTarget(w.target, slot.target)))) budgets.push({ slot, max });
  }
  const modelBudgets = modelBudgetLimitsOf(ctx);
  if (withWindows.length === 0) return { budgets, windows: NO_WINDOW_LIMITS, modelBudgets };
  const windows: WindowBudgetLimit[] = [];
  const spends = ctx.snapshot.budgetWindowSpend;
  for (const { target, who, windows: entityWindows } of withWindows) {
    const budget = budgets.findIndex((limit) => sameTarget(limit.slot.target, target));
    if (budget < 0) continue;
    for (const window of entityWindows) {
      const spend = spends?.get(windowSpendId(target.kind as WindowEntity, target.id, window)) ?? 0;
      windows.push({ window, who, spend, tail: target, budget });
    }
  }
  return { budgets, windows, modelBudgets };
}

/** A per-model budget (`model_max_budget`) a reservation must fit in: its window, and its limit. */
export interface ModelBudgetLimit {
  readonly counter: ModelBudgetCounter;
  readonly max: number;
  /** How the per-model check names it in its refusal: the request's model as sent (not the entry's name), and the key's alias for a key's. */
  readonly model: string;
  readonly keyAlias?: string | null;
}

const NO_MODEL_BUDGET_LIMITS: readonly ModelBudgetLimit[] = Object.freeze([]);

/**
 * The per-model budgets the per-model checks judge for the request's models as read (a model
 * Envoy cut off names no window a response could be charged to: the checks alone hold it), each
 * window once, with its limit. The shared empty list for a caller without per-model budgets.
 */
function modelBudgetLimitsOf(ctx: CheckContext): readonly ModelBudgetLimit[] {
  const owners = modelBudgetOwners(ctx.snapshot);
  if (owners.length === 0) return NO_MODEL_BUDGET_LIMITS;
  const limits = new Map<string, ModelBudgetLimit>();
  for (const model of budgetedModelsOf(ctx.request)) {
    for (const budget of modelBudgetsOf(ctx.snapshot, model, owners)) {
      if (!isSpendGated(budget) || budget.maxBudget === null) continue;
      // The end user's per-model check runs on the virtual-key path only (JWT_CHECKS has the user's
      // and the team's): a JWT caller (no key) is not held to it, so no reservation may refuse on it.
      if (budget.scope === 'end_user' && ctx.snapshot.key === null) continue;
      const counter: ModelBudgetCounter = { scope: budget.scope, id: budget.id, budgetModel: budget.budgetModel, duration: budget.duration };
      const name = modelBudgetName(counter);
      if (limits.has(name)) continue;
      limits.set(name, counter.scope === 'key' ? { counter, max: budget.maxBudget, model, keyAlias: ctx.snapshot.key?.key_alias ?? null } : { counter, max: budget.maxBudget, model });
    }
  }
  return limits.size === 0 ? NO_MODEL_BUDGET_LIMITS : [...limits.values()];
}

export interface ReservationLimits {
  readonly budgets: readonly BudgetLimit[];
  readonly windows: readonly WindowBudgetLimit[];
  readonly modelBudgets: readonly ModelBudgetLimit[];
}

export const NO_LIMITS: ReservationLimits = Object.freeze({ budgets: Object.freeze([]), windows: Object.freeze([]), modelBudgets: NO_MODEL_BUDGET_LIMITS });

function sameTarget(a: SpendTarget, b: SpendTarget): boolean {
  return a.kind === b.kind && a.id === b.id && a.teamId === b.teamId;
}
