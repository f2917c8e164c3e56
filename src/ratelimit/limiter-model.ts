/**
 * The model LiteLLM's v3 limiter limits: `data["model"]` as its pre-call hook reads it, after the
 * proxy's request setup rewrote the name the body sent through the aliases (newest LiteLLM):
 *
 * 1. the key's team model aliases (`add_litellm_data_to_request` → `_update_model_if_team_alias_exists`,
 *    `team_model_aliases`: `LiteLLM_ModelTable.aliases` of the key's team),
 * 2. the key's own `aliases` (`_update_model_if_key_alias_exists`),
 * 3. `litellm_settings.model_alias_map` (`common_processing_pre_call_logic`),
 * 4. the key's own `aliases` again (same function, right after the map).
 *
 * Between steps 2 and 3, `common_processing_pre_call_logic` sets `data["model"]` to the handler's
 * own `model` parameter when it has one (`completion_model or user_model or model or
 * data.get("model")`): on the chat, completions and embeddings handlers (handlerModelOf),
 * `general_settings.completion_model` when the config sets it, else the path's model of
 * `/engines/{model}/…` and `/openai/deployments/{model}/…`, else the query's `?model=` (FastAPI
 * reads a parameter the path lacks from the query). The limiter's pre-call hook runs after that, in
 * the same function: `completion_model`, which LiteLLM serves, alone is limited. It replaces the body's
 * model and what steps 1 and 2 made of it; the auth checks read the body's all the same
 * (`populate_request_with_path_params` adds the path's and the query's only where the body names none).
 * The path's model is what Azure's and the engines API's upstreams serve too, and it alone is
 * limited. The query's is LiteLLM's alone: an upstream other than LiteLLM serves the body's, so
 * the limits count both (limiterModelOf), and the response's tokens feed the query's, the one
 * LiteLLM serves (v3ModelOf).
 *
 * Each step is one lookup of the name the step before left. Steps 1 and 2 skip an empty name
 * (`if _model and …`); steps 3 and 4 read any string (`isinstance(self.data["model"], str)`), so an
 * alias whose target is empty is still rewritten by a key alias named "".
 * v3's key, team, project and organization per-model descriptors, the deployments' default
 * (`get_key_model_rpm_limit(model_name=data["model"])`) and the window its tpm reservation and
 * reconciliation use (`reserved_model`) all read the result, so a model called through an alias is
 * held to its target's per-model limits, in its target's windows. The model checks read the name
 * as sent: LiteLLM's auth runs before the rewrite.
 *
 * Not followed: the team step's skip of a stale alias (LiteLLM's `LITELLM_ENABLE_TEAM_STALE_ALIAS_BYPASS`,
 * which needs the router's team deployments).
 */
import { teamModelAliasesOfKey } from '../checks/context';
import type { Snapshot } from '../checks/types';
import type { Policy } from '../config/policy';
import { UNREAD_MODEL, type RequestFacts } from '../domain/request';
import { distinct } from '../util/distinct';
import { handlerModelIn, pathModelOf, servedHandlerModelOf, servedNamesOf } from '../routes/handler-model';

type Aliases = Readonly<Record<string, string>>;

/** What the handler's own `model` parameter is read from: the route, the raw path with its query, and the config's `completion_model`. */
export type HandlerModelSource = Pick<RequestFacts, 'route'> & Partial<Pick<RequestFacts, 'path' | 'completionModel'>>;

/**
 * The model(s) v3 limits for this request. A name no alias rewrites comes back as it is, and a
 * request naming no model, or one whose model was not read (UNREAD_MODEL), is returned unchanged,
 * unless the handler's own `model` parameter replaces it (handlerModelOf).
 * A list (`"gpt-4o,gpt4"`, which v3 matches to no limit and Tollgate to each name's) has each
 * name rewritten, repeats dropped, so an alias in a list does not escape its target's limit.
 * Allocates only for a list some alias rewrites, or for a query it reads.
 */
export function limiterModelOf(
  snapshot: Snapshot,
  model: RequestFacts['model'],
  policy: Policy | null,
  request: HandlerModelSource | null = null,
): RequestFacts['model'] {
  const key = snapshot.key?.aliases;
  const completion = request?.completionModel;
  if (completion !== undefined) return handlerTargets(completion, key, policy);
  const inPath = request === null ? null : limitedPathModelOf(request.route);
  if (inPath !== null) return handlerTargets(inPath, key, policy);
  // Past a path route: the query's, if the handler reads one.
  const inQuery = request === null ? null : handlerModelIn(request.route, request.path);
  const fromBody = bodyLimiterModel(snapshot, inQuery === null ? model : withoutServedNames(model, inQuery), key, policy);
  if (inQuery === null) return fromBody;
  // LiteLLM serves the query's model and limits it alone, an upstream other than LiteLLM serves the
  // body's: both count, as the models of a list do, so that `?model=` takes a request out of neither's limits.
  const target = handlerTargets(inQuery, key, policy);
  if (fromBody === null || fromBody === target) return target;
  if (fromBody === UNREAD_MODEL) return fromBody;
  const names = typeof fromBody === 'string' ? [fromBody] : [...fromBody];
  for (const name of typeof target === 'string' ? [target] : target) if (!names.includes(name)) names.push(name);
  return names.length === 1 ? (names[0] as string) : names;
}

/**
 * Steps 3 and 4 on the handler's model; on each name of a list (`route_request` serves `"a,b"` as
 * a batch to `a` and `b`, stripped), as on a body's list, so that naming two models in the path or
 * the query takes the request out of neither's limits.
 */
function handlerTargets(model: string, key: Aliases | undefined, policy: Policy | null): string | readonly string[] {
  if (!model.includes(',')) return afterHandlerModel(model, key, policy);
  const names = servedNamesOf(model);
  if (names === null) return afterHandlerModel(model, key, policy);
  return typeof names === 'string' ? afterHandlerModel(names, key, policy) : distinct(names.map((name) => afterHandlerModel(name, key, policy)));
}

/**
 * The model v3 reads, `data["model"]`, for the window a response's tokens are fed to: the handler's
 * own model when it has one (the path's or the query's), else the body's after steps 1 to 4.
 * Unlike limiterModelOf, the body's model does not join the query's: LiteLLM serves the latter.
 */
export function v3ModelOf(snapshot: Snapshot, model: RequestFacts['model'], policy: Policy | null, request: HandlerModelSource): RequestFacts['model'] {
  const key = snapshot.key?.aliases;
  const handlerModel = handlerModelOf(request);
  return handlerModel !== null ? afterHandlerModel(handlerModel, key, policy) : bodyLimiterModel(snapshot, model, key, policy);
}

/**
 * The body's model(s) without the query's names the model checks read after them
 * (envoy/attributes.ts withServedModel appends those the body did not name): counted again here,
 * they went through the team's and the key's aliases, which LiteLLM never applies to the handler's
 * model, and a team alias of the query's name held the request to the limit of a model nothing
 * serves. A list the body ended with the query's name loses it too; the query's is counted all the same.
 */
function withoutServedNames(model: RequestFacts['model'], served: string): RequestFacts['model'] {
  if (model === null || typeof model === 'string') return model;
  const names = servedNamesOf(served);
  if (names === null) return model;
  let end = model.length;
  while (end > 1 && (typeof names === 'string' ? model[end - 1] === names : names.includes(model[end - 1] as string))) end -= 1;
  return end === model.length ? model : end === 1 ? (model[0] as string) : model.slice(0, end);
}

/** Steps 1 to 4 on the model(s) the body names. */
function bodyLimiterModel(snapshot: Snapshot, model: RequestFacts['model'], key: Aliases | undefined, policy: Policy | null): RequestFacts['model'] {
  if (model === null || model === UNREAD_MODEL) return model;
  const team = teamModelAliasesOfKey(snapshot);
  if (typeof model === 'string') return rewritten(model, team, key, policy);
  let out: string[] | null = null;
  for (let i = 0; i < model.length; i += 1) {
    const name = model[i] as string;
    const target = rewritten(name, team, key, policy);
    if (out === null && target !== name) out = model.slice(0, i);
    out?.push(target);
  }
  return out === null ? model : distinct(out);
}

/**
 * The handler's own `model` parameter when LiteLLM's request setup puts it in `data["model"]`
 * (only a non-empty one: `or` passes over ""): `general_settings.completion_model` where it
 * applies, else the path's on `/engines/{model:path}/…` and `/openai/deployments/{model:path}/…`,
 * else the query's last `model` on the other routes of those handlers (routes/handler-model.ts).
 * Null otherwise, as for every request without a query on the usual routes.
 */
export function handlerModelOf(request: HandlerModelSource): string | null {
  return servedHandlerModelOf(request);
}

/** The path's model, which Azure's and the engines API's upstreams serve too: it alone is limited. */
function limitedPathModelOf(route: string): string | null {
  const model = pathModelOf(route);
  return model === '' ? null : model;
}

/** Steps 3 and 4: on the handler's model, steps 1 and 2 ran on a name it replaced. */
function afterHandlerModel(model: string, key: Aliases | undefined, policy: Policy | null): string {
  let name = model;
  if (policy !== null) name = modelAliasMapTarget(policy, name) ?? name;
  if (key !== undefined) name = aliasTarget(key, name) ?? name;
  return name;
}

function rewritten(model: string, team: Aliases, key: Aliases | undefined, policy: Policy | null): string {
  let name = model;
  if (name !== '') name = aliasTarget(team, name) ?? name;
  if (key !== undefined && name !== '') name = aliasTarget(key, name) ?? name;
  return afterHandlerModel(name, key, policy);
}

/** A string target only: a row's JSON may hold anything, and only a name can be limited. */
function aliasTarget(aliases: Aliases, model: string): string | undefined {
  if (!Object.hasOwn(aliases, model)) return undefined;
  const target: unknown = aliases[model];
  return typeof target === 'string' ? target : undefined;
}

/** `litellm.model_alias_map`, through the map built with the policy (a literal policy without one: its record). */
function modelAliasMapTarget(policy: Policy, model: string): string | undefined {
  const targets = policy.modelAliasTargets;
  if (targets === undefined) return aliasTarget(policy.modelAliasMap, model);
  return targets === null ? undefined : targets.get(model);
}
