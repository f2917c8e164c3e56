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
  if (models.length === 0) return false;
  for (const model of models) if (!isZeroCostModel(policy, model)) return false;
  return true;
}

/**
 * Whether the caller's user is held to its personal budgets (common_checks 4.1 and the user's
 * multi-window budgets): without a team only, unless general_settings.apply_user_budget_to_team_keys
 * is on (newer LiteLLM; between v1.94 and v1.96 it enforced them on team keys unconditionally).
 */
export function personalBudgetsApply(team: { readonly team_id: string } | null, policy: Pick<Policy, 'applyUserBudgetToTeamKeys'>): boolean {
  return team === null || policy.applyUserBudgetToTeamKeys === true;
}

/**
 * The last context asked about and its answer: half a dozen budget checks ask, one after the
 * other, for every request. One entry is enough for that and, unlike a map keyed by context,
 * makes no garbage per Check; it keeps at most one finished request's context alive.
 */
let lastContext: CheckContext | null = null;
let lastAnswer = false;

/**
 * True when no budget check may refuse this request. A free `general_settings.completion_model`
 * standing in for a request naming no model skips nothing: LiteLLM's auth reads no model there.
 */
export function areBudgetChecksSkipped(ctx: CheckContext): boolean {
  if (ctx === lastContext) return lastAnswer;
  const skipped = isInfoRoute(ctx.request.route) || (ctx.request.namesNoModel !== true && isZeroCostRequest(requestedModels(ctx), ctx.policy));
  lastContext = ctx;
  lastAnswer = skipped;
  return skipped;
}
