/**
 * §2.7 step 8, per-model key budget (`model_max_budget_limiter.is_key_within_model_budget`):
 * `key.model_max_budget = {model: {max_budget | budget_limit, budget_duration | time_period}}`.
 * As the newest limiter (`resolve_model_budget`, `_is_entity_within_model_budget`): the entry of
 * the requested model, else of the model without its `provider/` prefix, skipping an entry that
 * has no readable `budget_duration` (LiteLLM can neither key nor enforce it); a negative or
 * missing limit is no limit; spend never recorded is 0; the key is refused when its spend has
 * reached the limit (`>=`, so a limit of 0 refuses at once): 400 budget_exceeded.
 *
 * Deliberate differences, forced by Envoy's position in front of the proxy:
 * - Spend source: LiteLLM counts per-model spend per window in its router limiter's cache
 *   (`virtual_key_spend:<key>:<model>:<duration>` in memory/Redis), which Tollgate cannot read.
 *   The best available source is the key row's `model_spend` JSON (`{model: spend}`), which
 *   LiteLLM's spend writer keeps; its window is the key's budget reset, not `budget_duration`.
 * - Over budget with `budget_fallbacks` for that model, newer LiteLLM rewrites the request to the
 *   fallback model; an ext_authz server cannot rewrite the body, so Tollgate denies.
 * - The Bedrock base-model candidates LiteLLM derives from its price map are not derived.
 */
import type { Json, JsonObject, VirtualKey } from '../domain/entities';
import { UNREAD_MODEL } from '../domain/request';
import { isDuration } from '../spend/budget-window';
import type { Check, CheckContext, Denial } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { isJsonObject, requestedModels } from './context';
import { hasOwnKeys } from '../util/own-keys';

/** `_budget_model_candidates`: the model as sent, then without its `provider/` prefix(es). */
function candidatesOf(model: string): readonly string[] {
  const bare = model.split('/').pop() ?? model;
  return bare === model ? [model] : [model, bare];
}

/** A pydantic float field: numbers, and strings that parse as one (`"0.0000001"`). */
function asFloat(value: Json | undefined): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

export interface ResolvedBudget {
  /** The name the entry is configured under. */
  readonly budgetModel: string;
  readonly maxBudget: number | null;
}

/** `resolve_model_budget`: the first candidate whose entry is usable (`_usable_budget_config`). */
export function resolveModelBudget(limits: JsonObject, model: string): ResolvedBudget | null {
  for (const candidate of candidatesOf(model)) {
    const config = Object.hasOwn(limits, candidate) ? limits[candidate] : undefined;
    if (!isJsonObject(config)) continue;
    const duration = config['budget_duration'] ?? config['time_period'];
    if (typeof duration !== 'string' || !isDuration(duration)) continue;
    const limit = config['max_budget'] ?? config['budget_limit'];
    if (limit !== undefined && limit !== null && asFloat(limit) === null) continue; // fails validation
    return { budgetModel: candidate, maxBudget: asFloat(limit) };
  }
  return null;
}

/**
 * `_is_entity_within_model_budget`, shared by the key, user and end-user scopes: the resolved
 * entry's limit against the spend recorded under the entry's name (else under the model as sent,
 * LiteLLM's pre-upgrade counter), 0 when none was recorded.
 */
export function isOverModelBudget(limits: JsonObject, modelSpend: JsonObject, model: string): boolean {
  const resolved = resolveModelBudget(limits, model);
  if (resolved === null || resolved.maxBudget === null || resolved.maxBudget < 0) return false;
  const spend = asFloat(modelSpend[resolved.budgetModel]) ?? (resolved.budgetModel === model ? null : asFloat(modelSpend[model])) ?? 0;
  return spend >= resolved.maxBudget;
}

export function keyOverModelBudget(key: VirtualKey, model: string): Denial | null {
  if (!isOverModelBudget(key.model_max_budget, key.model_spend, model)) return null;
  return budgetExceeded(
    `LiteLLM Virtual Key: ${key.token}, key_alias: ${key.key_alias ?? 'None'}, exceeded budget for model=${model}`,
  );
}

/**
 * LiteLLM reads the request's model from its context (`_get_model_from_request_context`: the
 * body, else the path of an Azure deployment or Gemini route), and checks each model of a list or
 * comma-joined body model. A model Tollgate could not read is not checked here (the model access
 * checks refuse it where a key is limited to some models).
 */
export function modelsOf(ctx: CheckContext): readonly string[] {
  return requestedModels(ctx).filter((model) => model !== UNREAD_MODEL);
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
      const refusal = keyOverModelBudget(key, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
