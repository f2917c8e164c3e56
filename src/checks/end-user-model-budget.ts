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
 * Spend: with `tollgate.metering`, Tollgate's windowed counter (`end_user_model_spend:<id>:<budget
 * model>:<duration>` as LiteLLM keeps it, model-budget-scopes.ts). Without, no table keeps an end
 * user's spend per model (LiteLLM_EndUserTable has no `model_spend`): every end user's per-model
 * spend is then 0, as LiteLLM reads a counter never written, and only a limit of 0 refuses.
 */
import type { JsonObject } from '../domain/entities';
import type { Check, Denial, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { modelsOf } from './key-model-budget';
import { endUserModelLimitsOf, isOverScopedModelBudget } from './model-budget-scopes';
import { hasOwnKeys } from '../util/own-keys';

const NO_RECORDED_SPEND: JsonObject = Object.freeze({});

export function endUserOverModelBudget(snapshot: Snapshot, endUserId: string, limits: JsonObject, model: string): Denial | null {
  if (!isOverScopedModelBudget(snapshot, { scope: 'end_user', id: endUserId, limits }, NO_RECORDED_SPEND, model)) return null;
  return budgetExceeded(`LiteLLM End User: ${endUserId}, exceeded budget for model=${model}`);
}

export const endUserModelBudget: Check = {
  name: 'end_user_model_budget',
  spec: 'litellm-auth.md §2.7 step 8',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const found = endUserModelLimitsOf(ctx.snapshot);
    if (found === null || !hasOwnKeys(found.limits) || areBudgetChecksSkipped(ctx)) return null;
    for (const model of modelsOf(ctx)) {
      const refusal = endUserOverModelBudget(ctx.snapshot, found.endUserId, found.limits, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
