/**
 * Per-model budget of the end user (customer) the request names, as LiteLLM enforces it in auth
 * right after the key's (and the user's) per-model budgets ("Check 5b",
 * `model_max_budget_limiter.is_end_user_within_model_budget` → `_is_entity_within_model_budget`),
 * skipped with the other budgets. The limits are `end_user_model_max_budget`, which LiteLLM copies
 * from the end user's `LiteLLM_BudgetTable.model_max_budget` (`_apply_budget_limits_to_end_user_params`;
 * for an end user without a row, from `litellm_settings.max_end_user_budget_id`'s row). Same rules
 * as the key's (key-model-budget.ts): 400 budget_exceeded, "LiteLLM End User: <id>, exceeded
 * budget for model=<model>".
 *
 * Deliberate difference: LiteLLM counts the spend per window in its limiter's cache
 * (`end_user_model_spend:<id>:<model>:<duration>`), which Tollgate cannot read, and no table keeps
 * an end user's spend per model (LiteLLM_EndUserTable has no `model_spend`). Every end user's
 * per-model spend is therefore 0 here, as LiteLLM reads a counter never written: only a limit of
 * 0 refuses.
 */
import type { JsonObject } from '../domain/entities';
import type { Check, Denial, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { isOverModelBudget, modelsOf } from './key-model-budget';
import { hasOwnKeys } from '../util/own-keys';

const NO_RECORDED_SPEND: JsonObject = Object.freeze({});

/** The end user's id and per-model limits: its own (or default) budget row, else the default for one without a row. */
function endUserLimitsOf(snapshot: Snapshot): { readonly endUserId: string; readonly limits: JsonObject } | null {
  const endUser = snapshot.endUser;
  if (endUser !== null) {
    const limits = endUser.budget?.model_max_budget ?? null;
    return limits === null ? null : { endUserId: endUser.user_id, limits };
  }
  const unknown = snapshot.unknownEndUser;
  if (unknown === undefined || unknown.budget.model_max_budget === null) return null;
  return { endUserId: unknown.user_id, limits: unknown.budget.model_max_budget };
}

export function endUserOverModelBudget(endUserId: string, limits: JsonObject, model: string): Denial | null {
  if (!isOverModelBudget(limits, NO_RECORDED_SPEND, model)) return null;
  return budgetExceeded(`LiteLLM End User: ${endUserId}, exceeded budget for model=${model}`);
}

export const endUserModelBudget: Check = {
  name: 'end_user_model_budget',
  spec: 'litellm-auth.md §2.7 step 8',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const found = endUserLimitsOf(ctx.snapshot);
    if (found === null || !hasOwnKeys(found.limits) || areBudgetChecksSkipped(ctx)) return null;
    for (const model of modelsOf(ctx)) {
      const refusal = endUserOverModelBudget(found.endUserId, found.limits, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
