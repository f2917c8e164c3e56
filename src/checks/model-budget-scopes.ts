/**
 * Per-model budgets (`model_max_budget`) of every scope LiteLLM's newest limiter keeps them for
 * (`model_max_budget_limiter.py`): the key, the key's user, its team and the end user. Shared by
 * the four checks, the spend overlay that reads their windowed counters and the admission that
 * names the counters a response is charged to, so that all three agree on which counter a request
 * belongs to, as LiteLLM's `model_budget_spend_cache_key` is the sole owner of its counter's name.
 *
 * - `resolveModelBudget`: the entry of the model as sent, else of the model without its
 *   `provider/` prefix, skipping an entry without a readable `budget_duration` or with a limit
 *   that fails validation; the counter is keyed on the entry's name, not the request's model.
 * - The team's entry applies only when the key's own entry does not spend-gate the model
 *   (`team_model_budget_applies`): a key entry with a limit overrides the team's cap, and the
 *   request is then gated on and charged to the key alone.
 * - With metering, spend is the counter of the current window (`modelBudgetSpend`, 0 when never
 *   charged, and when Redis could not answer: spend/spend-counters.ts); without, the row's
 *   `model_spend` JSON (see each check for that fallback).
 */
import { servedModelNamesOf } from '../routes/handler-model';
import type { Json, JsonObject } from '../domain/entities';
import { UNREAD_MODEL, type RequestFacts } from '../domain/request';
import { isDuration } from '../spend/budget-window';
import { hasOwnKeys } from '../util/own-keys';
import { callerUserId, isJsonObject } from './context';
import type { Snapshot } from './types';

export type ModelBudgetScope = 'key' | 'user' | 'team' | 'end_user';

/** One windowed per-model counter: LiteLLM's `<scope prefix>:<id>:<budget model>:<duration>`. */
export interface ModelBudgetCounter {
  readonly scope: ModelBudgetScope;
  readonly id: string;
  readonly budgetModel: string;
  readonly duration: string;
}

export interface ResolvedBudget {
  /** The name the entry is configured under. */
  readonly budgetModel: string;
  /** The entry's `budget_duration` as written: the counter is keyed on it. */
  readonly duration: string;
  readonly maxBudget: number | null;
}

export interface ScopedModelBudget extends ModelBudgetCounter {
  readonly maxBudget: number | null;
}

/** `_budget_model_candidates`: the model as sent, then without its `provider/` prefix(es). */
function candidatesOf(model: string): readonly string[] {
  const bare = model.split('/').pop() ?? model;
  return bare === model ? [model] : [model, bare];
}

/** A pydantic float field: numbers, and strings that parse as one (`"0.0000001"`). */
export function asFloat(value: Json | undefined): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
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
    return { budgetModel: candidate, duration, maxBudget: asFloat(limit) };
  }
  return null;
}

/** `_spend_gated`: a limit that refuses once reached (a negative one is none). */
export function isSpendGated(budget: { readonly maxBudget: number | null }): boolean {
  return budget.maxBudget !== null && budget.maxBudget >= 0;
}

/** `team_model_budget_applies`: unless the key's own entry spend-gates the model. */
export function teamModelBudgetApplies(model: string, keyLimits: JsonObject | null): boolean {
  if (keyLimits === null || !hasOwnKeys(keyLimits)) return true;
  const resolved = resolveModelBudget(keyLimits, model);
  return resolved === null || !isSpendGated(resolved);
}

/** A stable name for a counter (a JSON list: no id, model or duration can spell another's). */
export function modelBudgetName(counter: ModelBudgetCounter): string {
  return JSON.stringify([counter.scope, counter.id, counter.budgetModel, counter.duration]);
}

/**
 * The request's models as the per-model checks read them (LiteLLM's `_get_model_from_request_context`,
 * each model of a list). With `snapshot`, a model Tollgate could not read (a body Envoy cut before
 * its `model`, or not JSON) stands for every model some scope of the caller budgets: padding a
 * prompt past Envoy's limit must not pass a per-model budget that is spent (this can refuse more
 * than LiteLLM, which reads the whole body, never allow more). Without (the charge), it is none:
 * no window can be named for a model nobody read.
 */
export function budgetedModelsOf(request: Pick<RequestFacts, 'model'>, snapshot?: Snapshot): readonly string[] {
  const model = request.model;
  if (model === null || model === '') return [];
  const models = typeof model === 'string' ? [model] : model;
  const read = models.filter((m) => m !== UNREAD_MODEL);
  if (snapshot === undefined || read.length === models.length) return read;
  const budgeted = modelBudgetOwners(snapshot).flatMap((owner) => Object.keys(owner.limits));
  return [...new Set([...read, ...budgeted])];
}

/** The end user's id and per-model limits: its own (or default) budget row, else the default for one without a row. */
export function endUserModelLimitsOf(snapshot: Snapshot): { readonly endUserId: string; readonly limits: JsonObject } | null {
  const endUser = snapshot.endUser;
  if (endUser !== null) {
    const limits = endUser.budget?.model_max_budget ?? null;
    return limits === null ? null : { endUserId: endUser.user_id, limits };
  }
  const unknown = snapshot.unknownEndUser;
  if (unknown === undefined || unknown.budget.model_max_budget === null) return null;
  return { endUserId: unknown.user_id, limits: unknown.budget.model_max_budget };
}

/** Each scope with per-model limits, and the id its counters are kept under, in LiteLLM's check order. */
export interface ModelBudgetOwner {
  readonly scope: ModelBudgetScope;
  readonly id: string;
  readonly limits: JsonObject;
}

const NO_OWNERS: readonly ModelBudgetOwner[] = Object.freeze([]);

/** The shared empty list when no scope has per-model limits (most Checks: nothing is built for them). */
export function modelBudgetOwners(snapshot: Snapshot): readonly ModelBudgetOwner[] {
  const { key, user, team } = snapshot;
  if (
    !hasOwnKeys(key?.model_max_budget ?? NO_LIMITS) &&
    !hasOwnKeys(user?.model_max_budget ?? NO_LIMITS) &&
    !hasOwnKeys(team?.model_max_budget ?? NO_LIMITS) &&
    endUserModelLimitsOf(snapshot) === null
  ) {
    return NO_OWNERS;
  }
  const owners: ModelBudgetOwner[] = [];
  if (key !== null && hasOwnKeys(key.model_max_budget)) owners.push({ scope: 'key', id: key.token, limits: key.model_max_budget });
  const userId = callerUserId(snapshot);
  // `valid_token.user_id` names the user's counter: for a JWT the token's user id.
  if (user !== null && userId !== null && hasOwnKeys(user.model_max_budget ?? {})) owners.push({ scope: 'user', id: userId, limits: user.model_max_budget ?? {} });
  if (team !== null && hasOwnKeys(team.model_max_budget ?? {})) owners.push({ scope: 'team', id: team.team_id, limits: team.model_max_budget ?? {} });
  const endUser = endUserModelLimitsOf(snapshot);
  if (endUser !== null && hasOwnKeys(endUser.limits)) owners.push({ scope: 'end_user', id: endUser.endUserId, limits: endUser.limits });
  return owners;
}

/**
 * The per-model budgets `model` resolves to: `async_log_success_event`'s `_resolve_entity_model_budgets`,
 * the team's dropped where the key's own entry overrides it. Every resolved entry is charged,
 * limited or not; the checks read only the spend-gated ones.
 */
export function modelBudgetsOf(snapshot: Snapshot, model: string, owners: readonly ModelBudgetOwner[] = modelBudgetOwners(snapshot)): ScopedModelBudget[] {
  const budgets: ScopedModelBudget[] = [];
  const keyLimits = snapshot.key?.model_max_budget ?? null;
  for (const { scope, id, limits } of owners) {
    if (scope === 'team' && !teamModelBudgetApplies(model, keyLimits)) continue;
    const resolved = resolveModelBudget(limits, model);
    if (resolved !== null) budgets.push({ scope, id, ...resolved });
  }
  return budgets;
}

const NO_COUNTERS: readonly ModelBudgetCounter[] = Object.freeze([]);
const NO_LIMITS: JsonObject = Object.freeze({});

/**
 * The counters a request's per-model checks read: the spend-gated budgets of each of its models,
 * once each. None (and nothing read) for a request no per-model budget applies to.
 */
export function gatedModelBudgetsOf(snapshot: Snapshot, request: Pick<RequestFacts, 'model'>): readonly ModelBudgetCounter[] {
  const owners = modelBudgetOwners(snapshot);
  // Most Checks: no scope has per-model budgets, and nothing more is built.
  if (owners.length === 0) return NO_COUNTERS;
  return distinctCounters(budgetedModelsOf(request, snapshot).flatMap((model) => modelBudgetsOf(snapshot, model, owners).filter(isSpendGated)));
}

/**
 * The counters a response is charged to. A request naming several models is one metered
 * response, whose cost cannot be split between them as LiteLLM's one call per model is: each
 * model's counters are charged the whole cost (at most once per counter), so that none of them
 * can be passed by naming it beside another.
 */
export function chargedModelBudgetsOf(
  snapshot: Snapshot,
  request: Pick<RequestFacts, 'model'> & Partial<Pick<RequestFacts, 'route' | 'path' | 'completionModel'>>,
): readonly ModelBudgetCounter[] {
  const owners = modelBudgetOwners(snapshot);
  if (owners.length === 0) return NO_COUNTERS;
  return distinctCounters(budgetedModelsOf(chargedModelsOf(request)).flatMap((model) => modelBudgetsOf(snapshot, model, owners)));
}

/**
 * The models a response is charged as: the request's, except where LiteLLM's handler serves its own
 * `model` (the path's or `?model=`, routes/handler-model.ts) in place of the body's, which the
 * checks read beside it (envoy/attributes.ts): the response is the served model's, and the body's
 * windows are not charged for it. Only a list can hold a served model the body did not name, or a
 * body cut before its model where `general_settings.completion_model` applies (LiteLLM serves it
 * whatever the body holds): that one's windows, not none.
 */
function chargedModelsOf(request: Pick<RequestFacts, 'model'> & Partial<Pick<RequestFacts, 'route' | 'path' | 'completionModel'>>): Pick<RequestFacts, 'model'> {
  const model = request.model;
  if (model === null || request.route === undefined) return request;
  if (typeof model === 'string' && (request.completionModel === undefined || model !== UNREAD_MODEL)) return request;
  const names = servedModelNamesOf({ route: request.route, path: request.path, completionModel: request.completionModel });
  return names === null ? request : { model: names };
}


function distinctCounters(budgets: readonly ModelBudgetCounter[]): ModelBudgetCounter[] {
  const seen = new Map<string, ModelBudgetCounter>();
  for (const { scope, id, budgetModel, duration } of budgets) {
    const counter = { scope, id, budgetModel, duration };
    const name = modelBudgetName(counter);
    if (!seen.has(name)) seen.set(name, counter);
  }
  return [...seen.values()];
}

/**
 * `_is_entity_within_model_budget` for one scope: the resolved entry's limit against its spend,
 * which is the windowed counter when the snapshot carries them (metering), else the row's
 * `model_spend` under the entry's name (or under the model as sent, LiteLLM's pre-upgrade
 * counter), 0 when none was recorded.
 */
export function isOverScopedModelBudget(
  snapshot: Snapshot,
  owner: ModelBudgetOwner,
  modelSpend: JsonObject,
  model: string,
): boolean {
  const resolved = resolveModelBudget(owner.limits, model);
  if (resolved === null || !isSpendGated(resolved)) return false;
  const counted = snapshot.modelBudgetSpend;
  const spend =
    counted !== undefined
      ? (counted.get(modelBudgetName({ scope: owner.scope, id: owner.id, budgetModel: resolved.budgetModel, duration: resolved.duration })) ?? 0)
      : (asFloat(modelSpend[resolved.budgetModel]) ?? (resolved.budgetModel === model ? null : asFloat(modelSpend[model])) ?? 0);
  return spend >= (resolved.maxBudget ?? 0);
}
