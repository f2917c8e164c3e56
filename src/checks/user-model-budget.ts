/**
 * Per-model budget of the internal user (`LiteLLM_UserTable.model_max_budget`), as the newest
 * LiteLLM enforces it in auth: `_check_user_model_budget` → `model_max_budget_limiter
 * .is_user_within_model_budget` → `_is_entity_within_model_budget`, right after the key's own
 * per-model budget, on the virtual-key path and before the JWT path returns; skipped with the
 * other budgets (`skip_budget_checks`). The user is the key's owner (`valid_token.user_id`, the
 * JWT's user id); no user id or no user row, no check (`_read_user_model_max_budget` swallows a
 * missing row). Same rules as the key's (key-model-budget.ts): the entry of the model, else of the
 * model without its `provider/` prefix, only with a readable `budget_duration`; a negative limit
 * is none; spend reaching the limit refuses (`>=`): 400 budget_exceeded, "LiteLLM User: <id>,
 * exceeded budget for model=<model>".
 *
 * Spend, as for the key: with `tollgate.metering`, Tollgate's windowed counter
 * (`user_model_spend:<user>:<budget model>:<duration>` as LiteLLM keeps it, model-budget-scopes.ts);
 * without, the user row's `model_spend` JSON, whose window is the user's budget reset.
 */
import type { Check, Denial, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { modelsOf } from './key-model-budget';
import { isOverScopedModelBudget } from './model-budget-scopes';
import { callerUserId } from './context';
import { hasOwnKeys } from '../util/own-keys';

export function userOverModelBudget(snapshot: Snapshot, userId: string, model: string): Denial | null {
  const user = snapshot.user;
  if (user === null || !isOverScopedModelBudget(snapshot, { scope: 'user', id: userId, limits: user.model_max_budget ?? {} }, user.model_spend ?? {}, model)) return null;
  return budgetExceeded(`LiteLLM User: ${userId}, exceeded budget for model=${model}`);
}

export const userModelBudget: Check = {
  name: 'user_model_budget',
  spec: 'litellm-auth.md §2.7 step 8 [newest]',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const user = ctx.snapshot.user;
    if (user === null || !hasOwnKeys(user.model_max_budget ?? {}) || areBudgetChecksSkipped(ctx)) return null;
    // `valid_token.user_id` names the user in the message and the counter: for a JWT the token's
    // user id, which may differ from the id of the row matched by email or SSO id.
    const userId = callerUserId(ctx.snapshot);
    if (userId === null) return null;
    for (const model of modelsOf(ctx)) {
      const refusal = userOverModelBudget(ctx.snapshot, userId, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
