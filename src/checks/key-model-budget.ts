/**
 * §2.7 step 8, per-model key budget (`model_max_budget_limiter.is_key_within_model_budget`):
 * `key.model_max_budget = {model: {max_budget | budget_limit, budget_duration | time_period}}`.
 * The limit of the requested model (or of the model without its `provider/` prefix) applies when it
 * is a positive number; LiteLLM denies when the spend is strictly above it (400 budget_exceeded).
 *
 * Deliberate differences, both forced by Envoy's position in front of the proxy:
 * - Spend source: LiteLLM counts per-model spend per window in its router limiter's cache
 *   (`virtual_key_spend:<key>:<model>:<duration>` in memory/Redis), which Tollgate cannot read.
 *   The best available source is the key row's `model_spend` JSON (`{model: spend}`), which
 *   LiteLLM's spend writer keeps; its window is the key's budget reset, not `budget_duration`.
 * - Over budget with `budget_fallbacks` for that model, newer LiteLLM rewrites the request to the
 *   fallback model; an ext_authz server cannot rewrite the body, so Tollgate denies.
 */
import type { Json, JsonObject, VirtualKey } from '../domain/entities';
import { UNREAD_MODEL } from '../domain/request';
import type { Check, CheckContext, Denial } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { isJsonObject, requestedModels } from './context';
import { hasOwnKeys } from '../util/own-keys';

/** `_get_model_without_custom_llm_provider`: `openai/o1-preview` → `o1-preview`. */
function withoutProvider(model: string): string {
  return model.includes('/') ? (model.split('/').pop() ?? model) : model;
}

/** A pydantic float field: numbers, and strings that parse as one (`"0.0000001"`). */
function asFloat(value: Json | undefined): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** `BudgetConfig(**info).max_budget` (`budget_limit` is its alias) of the requested model, if any. */
function modelMaxBudget(limits: JsonObject, model: string): number | null {
  const config = limits[model] ?? limits[withoutProvider(model)];
  if (!isJsonObject(config)) return null;
  return asFloat(config['max_budget'] ?? config['budget_limit']);
}

function modelSpend(spend: JsonObject, model: string): number | null {
  return asFloat(spend[model]) ?? asFloat(spend[withoutProvider(model)]);
}

export function keyOverModelBudget(key: VirtualKey, model: string): Denial | null {
  const maxBudget = modelMaxBudget(key.model_max_budget, model);
  if (maxBudget === null || !(maxBudget > 0)) return null;
  const spend = modelSpend(key.model_spend, model);
  if (spend === null || !(spend > maxBudget)) return null;
  return budgetExceeded(
    `LiteLLM Virtual Key: ${key.token}, key_alias: ${key.key_alias ?? 'None'}, exceeded budget for model=${model}`,
  );
}

/**
 * LiteLLM passes `request_data.get("model")`: the model the body names, never one read from the
 * path alone (Azure deployments, Gemini routes). Each model of a list or comma-joined body model
 * is checked. A body Envoy cut short is not exposed, but the model found in its prefix is the
 * request's model: taken as the body's (on a route whose path also names one, it may be the
 * path's; that errs towards checking).
 */
function bodyModelsOf(ctx: CheckContext): readonly string[] {
  const { body, bodyTruncated } = ctx.request;
  const namedInBody = body !== null ? body['model'] !== undefined && body['model'] !== null : bodyTruncated;
  return namedInBody ? requestedModels(ctx).filter((model) => model !== UNREAD_MODEL) : NO_MODELS;
}

const NO_MODELS: readonly string[] = Object.freeze([]);

export const keyModelBudget: Check = {
  name: 'key_model_budget',
  spec: 'litellm-auth.md §2.7 step 8, §8',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    if (key === null || !hasOwnKeys(key.model_max_budget) || areBudgetChecksSkipped(ctx)) return null;
    for (const model of bodyModelsOf(ctx)) {
      const refusal = keyOverModelBudget(key, model);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
