/**
 * When budget checks apply at all. LiteLLM skips every budget for requests whose models are all
 * free (`skip_budget_checks`, §2.7.5). Tollgate also exempts info routes from every budget
 * (spec README §4.1, LiteLLM's later fix): model discovery keeps working for a team over budget.
 */
import { isInfoRoute } from '../routes/classify';
import type { Policy } from '../config/policy';
import type { CheckContext } from './types';
import { isZeroCostModel } from './model-router';
import { requestedModels } from './context';

/** LiteLLM `_is_model_cost_zero`: a model is requested and every requested model is explicitly free. */
export function isZeroCostRequest(models: readonly string[], policy: Policy): boolean {
  return models.length > 0 && models.every((model) => isZeroCostModel(policy, model));
}

/** Answers per context: half a dozen budget checks ask for every request. */
const skippedByContext = new WeakMap<CheckContext, boolean>();

/** True when no budget check may refuse this request. */
export function areBudgetChecksSkipped(ctx: CheckContext): boolean {
  const known = skippedByContext.get(ctx);
  if (known !== undefined) return known;
  const skipped = isInfoRoute(ctx.request.route) || isZeroCostRequest(requestedModels(ctx), ctx.policy);
  skippedByContext.set(ctx, skipped);
  return skipped;
}
