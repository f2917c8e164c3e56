/**
 * §2.7 step 8, per-model key budget (`model_max_budget_limiter.is_key_within_model_budget`):
 * `key.model_max_budget = {model: {max_budget | budget_limit, budget_duration | time_period}}`.
 * As the newest limiter (`resolve_model_budget`, `_is_entity_within_model_budget`): the entry of
 * the requested model, else of the model without its `provider/` prefix, skipping an entry that
 * has no readable `budget_duration` (LiteLLM can neither key nor enforce it); a negative or
 * missing limit is no limit; spend never recorded is 0; the key is refused when its spend has
 * reached the limit (`>=`, so a limit of 0 refuses at once): 400 budget_exceeded.
 *
 * Spend source: LiteLLM counts per-model spend per window in its limiter's cache/Redis
 * (`virtual_key_spend:<key>:<budget model>:<duration>`), which Tollgate cannot read. With
 * `tollgate.metering` Tollgate keeps the same windowed counters itself (spend/model-budget-windows.ts)
 * and the check reads them (model-budget-scopes.ts). Without metering the best available source is
 * the key row's `model_spend` JSON (`{model: spend}`), which LiteLLM's spend writer keeps; its
 * window is then the key's budget reset, not `budget_duration`.
 *
 * Deliberate differences, forced by Envoy's position in front of the proxy:
 * - Over budget with `budget_fallbacks` for that model, newer LiteLLM rewrites the request to the
 *   fallback model; an ext_authz server cannot rewrite the body, so Tollgate denies.
 * - The Bedrock base-model candidates LiteLLM derives from its price map are not derived.
 */
import type { Check, CheckContext, Denial, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { budgetedModelsOf, isOverScopedModelBudget } from './model-budget-scopes';
import { hasOwnKeys } from '../util/own-keys';

export function keyOverModelBudget(snapshot: Snapshot, model: string): Denial | null {
  const key = snapshot.key;
  if (key === null || !isOverScopedModelBudget(snapshot, { scope: 'key', id: key.token, limits: key.model_max_budget }, key.model_spend, model)) return null;
  return budgetExceeded(
    `LiteLLM Virtual Key: ${key.token}, key_alias: ${key.key_alias ?? 'None'}, exceeded budget for model=${model}`,
  );
}

/**
 * LiteLLM reads the request's model from its context (`_get_model_from_request_context`: the
 * body, else the path of an Azure deployment or Gemini route), and checks each model of a list or
 * comma-joined body model. A model Tollgate could not read is checked as every model the caller's
 * scopes budget (budgetedModelsOf).
 */
export function modelsOf(ctx: CheckContext): readonly string[] {
  return budgetedModelsOf(ctx.request, ctx.snapshot);
}

export const keyModelBudget: Check = {
  name: 'key_model_budget',
  spec: 'litellm-auth.md §2.7 step 8, §8',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    if (key === null || !hasOwnKeys(key.model_max_budget) || areBudgetChecksSkipped(ctx)) return null;
    for (const model of modelsOf(ctx)) {
      const refusal = keyOverModelBudget(ctx.snapshot, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
