/**
 * Per-model budget of the key's team (`LiteLLM_TeamTable.model_max_budget`) *[newest]*, as LiteLLM's
 * limiter enforces it (`model_max_budget_limiter.is_team_within_model_budget` →
 * `_is_entity_within_model_budget`): skipped with the other budgets (`skip_budget_checks`), and
 * skipped for a model the key's own `model_max_budget` spend-gates (`team_model_budget_applies`:
 * the key's entry then overrides the team's cap, and only the key is charged). Same rules as the
 * key's (key-model-budget.ts): the entry of the model, else of the model without its `provider/`
 * prefix, only with a readable `budget_duration`; a negative limit is none; spend reaching the
 * limit refuses (`>=`): 400 budget_exceeded, "LiteLLM Team: <id>, exceeded budget for model=<model>".
 *
 * Order: LiteLLM checks the scopes key, user, team, end user (its `caller_within_model_budget`,
 * which "mirrors the per-model budget enforcement that user_api_key_auth runs"); so here, after
 * the user's per-model budget and before the end user's, on the JWT path too, whose post-call
 * increment charges the team's counter as well.
 *
 * Spend: with `tollgate.metering`, Tollgate's windowed counter (`team_model_spend:<team>:<budget
 * model>:<duration>` as LiteLLM keeps it, model-budget-scopes.ts). Without, the team row's
 * `model_spend` JSON, whose window is the team's budget reset.
 */
import type { Check, Denial, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { modelsOf } from './key-model-budget';
import { isOverScopedModelBudget, teamModelBudgetApplies } from './model-budget-scopes';
import { hasOwnKeys } from '../util/own-keys';

export function teamOverModelBudget(snapshot: Snapshot, model: string): Denial | null {
  const team = snapshot.team;
  if (team === null || !teamModelBudgetApplies(model, snapshot.key?.model_max_budget ?? null)) return null;
  const owner = { scope: 'team', id: team.team_id, limits: team.model_max_budget ?? {} } as const;
  if (!isOverScopedModelBudget(snapshot, owner, team.model_spend ?? {}, model)) return null;
  return budgetExceeded(`LiteLLM Team: ${team.team_id}, exceeded budget for model=${model}`);
}

export const teamModelBudget: Check = {
  name: 'team_model_budget',
  spec: 'litellm-auth.md §2.7 step 8 [newest]',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const team = ctx.snapshot.team;
    if (team === null || !hasOwnKeys(team.model_max_budget ?? {}) || areBudgetChecksSkipped(ctx)) return null;
    for (const model of modelsOf(ctx)) {
      const refusal = teamOverModelBudget(ctx.snapshot, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
