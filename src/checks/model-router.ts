/**
 * What LiteLLM's Router knows about the proxy's models, computed from `policy.modelList`:
 * which deployments serve a model name, the access groups they belong to, aliases, whether a
 * model can be routed at all, and whether it is free.
 */
import type { ModelDeployment, Policy } from '../config/policy';
import { globMatches } from './model-wildcard';
import { UNREAD_MODEL } from '../domain/request';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Router `PatternRouter._pattern_to_regex`: escaped, `*` → `(.*)`, matched with `re.match` (start-anchored only). */
function wildcardDeploymentRegex(modelName: string): string {
  return escapeRegex(modelName).replace(/\\\*/g, '(.*)');
}

/** Router `PatternUtils.calculate_pattern_specificity`: longer, then more complex patterns first. */
function specificity(regex: string): readonly [number, number] {
  const complexity = [...regex].filter((ch) => '*+?\\^$|()'.includes(ch)).length;
  return [regex.length, complexity];
}

interface WildcardRoute {
  /**
   * The model_name with a `*` appended: LiteLLM's `re.match` anchors only at the start. Matched
   * with globMatches, not a regex: clients choose the model name, and `^a(.*)a(.*)…b` against a
   * long `aaaa…` would take exponential time.
   */
  readonly pattern: string;
  readonly deployments: readonly ResolvedDeployment[];
}

/**
 * What `get_model_list` answers, worked out once per policy: the checks ask it several times per
 * request (every budget check asks whether the model is free) and the policy never changes after
 * startup, so a lookup replaces a scan of the model list each time.
 */
interface RouterIndex {
  /** Every model_name and model_group_alias with deployments → those deployments. */
  readonly named: ReadonlyMap<string, readonly ResolvedDeployment[]>;
  /** The router's wildcard patterns, most specific first. */
  readonly wildcards: readonly WildcardRoute[];
}

const routerIndexes = new WeakMap<Policy, RouterIndex>();
const NO_DEPLOYMENTS: readonly ResolvedDeployment[] = Object.freeze([]);

function routerIndex(policy: Policy): RouterIndex {
  const cached = routerIndexes.get(policy);
  if (cached !== undefined) return cached;
  const named = new Map<string, readonly ResolvedDeployment[]>();
  const names = new Set([...policy.modelList.map((d) => d.modelName), ...Object.keys(policy.modelGroupAlias)]);
  for (const name of names) {
    const deployments = exactDeployments(policy, name);
    if (deployments.length > 0) named.set(name, Object.freeze(deployments));
  }
  const index = { named, wildcards: wildcardRoutes(policy) };
  routerIndexes.set(policy, index);
  return index;
}

/** Deployments named exactly `model`, plus those of a `model_group_alias` named `model` (renamed to the alias). */
function exactDeployments(policy: Policy, model: string): ResolvedDeployment[] {
  const exact: ResolvedDeployment[] = policy.modelList
    .filter((d) => d.modelName === model)
    .map((deployment) => ({ modelName: deployment.modelName, deployment }));
  const aliasTarget = modelGroupAliasTarget(policy, model);
  if (aliasTarget !== null) {
    for (const deployment of policy.modelList) {
      if (deployment.modelName === aliasTarget) exact.push({ modelName: model, deployment });
    }
  }
  return exact;
}

function wildcardRoutes(policy: Policy): readonly WildcardRoute[] {
  const byPattern = new Map<string, ModelDeployment[]>();
  for (const deployment of policy.modelList) {
    if (!deployment.modelName.includes('*')) continue;
    const regex = wildcardDeploymentRegex(deployment.modelName);
    byPattern.set(regex, [...(byPattern.get(regex) ?? []), deployment]);
  }
  return [...byPattern.entries()]
    .sort((a, b) => {
      const [la, ca] = specificity(a[0]);
      const [lb, cb] = specificity(b[0]);
      return lb - la || cb - ca;
    })
    .map(([, deployments]) => ({
      pattern: `${deployments[0]?.modelName ?? ''}*`,
      deployments: Object.freeze(deployments.map((deployment) => ({ modelName: deployment.modelName, deployment }))),
    }));
}

/**
 * Router `pattern_router.route(model)`: deployments of the most specific wildcard model_name
 * matching `model`. LiteLLM's `re.match` of the model_name (its `*` as `(.*)`) is not anchored
 * at the end, and its `.` never matches a newline: only the model's first line has to match.
 */
function wildcardDeployments(policy: Policy, model: string): readonly ResolvedDeployment[] {
  const newline = model.indexOf('\n');
  const line = newline === -1 ? model : model.slice(0, newline);
  return routerIndex(policy).wildcards.find((route) => globMatches(line, route.pattern))?.deployments ?? NO_DEPLOYMENTS;
}

/** Router `_get_model_from_alias`: the `router_settings.model_group_alias` target. */
export function modelGroupAliasTarget(policy: Policy, model: string): string | null {
  return Object.hasOwn(policy.modelGroupAlias, model) ? (policy.modelGroupAlias[model] ?? null) : null;
}

/** `litellm.model_alias_map` target. */
export function modelAliasMapTarget(policy: Policy, model: string): string | null {
  return Object.hasOwn(policy.modelAliasMap, model) ? (policy.modelAliasMap[model] ?? null) : null;
}

export interface ResolvedDeployment {
  /** The name the deployment answers to for this lookup (the alias, when reached through one). */
  readonly modelName: string;
  readonly deployment: ModelDeployment;
}

/**
 * Router `get_model_list(model_name=model)`: deployments named exactly `model`, plus those of a
 * `model_group_alias` named `model` (renamed to the alias); only when there are none, the
 * deployments of the most specific matching wildcard model_name (`openai/*`). Shared and frozen:
 * callers read them, never change them.
 */
export function deploymentsFor(policy: Policy, model: string): readonly ResolvedDeployment[] {
  // A model that could not be read is served by no deployment: a `*` one would lend it that
  // deployment's access groups or zero price, while the upstream reads the real model.
  if (model === UNREAD_MODEL) return NO_DEPLOYMENTS;
  return routerIndex(policy).named.get(model) ?? wildcardDeployments(policy, model);
}

/** accessGroupsFor's answers, per deployments list (each is shared and frozen, see deploymentsFor). */
const accessGroupsByDeployments = new WeakMap<readonly ResolvedDeployment[], ReadonlyMap<string, readonly string[]>>();

/**
 * Router `get_model_access_groups(model_name=model)`: access-group name → the model names in it,
 * from the `model_info.access_groups` of the deployments that serve `model`.
 */
export function accessGroupsFor(policy: Policy, model: string): ReadonlyMap<string, readonly string[]> {
  const deployments = deploymentsFor(policy, model);
  const cached = accessGroupsByDeployments.get(deployments);
  if (cached !== undefined) return cached;
  const groups = new Map<string, string[]>();
  for (const { modelName, deployment } of deployments) {
    for (const group of deployment.accessGroups) {
      groups.set(group, [...(groups.get(group) ?? []), modelName]);
    }
  }
  accessGroupsByDeployments.set(deployments, groups);
  return groups;
}

/**
 * Would LiteLLM's `route_request` find somewhere to send `model`? Used to validate client-side
 * fallbacks (`is_valid_fallback_model`, §4.14): a model_name, a deployment's id or underlying
 * model, a model_group_alias; and with any wildcard deployment in the list, every name
 * (`route_request` hands a name it does not know to the router as soon as the router has a
 * pattern, whether or not it matches). No model_list means no router, so nothing routes.
 */
export function isRoutableModel(policy: Policy, model: string): boolean {
  if (policy.modelList.length === 0) return false;
  if (policy.modelList.some((d) => d.modelName === model || d.underlyingModel === model || d.modelId === model)) return true;
  if (modelGroupAliasTarget(policy, model) !== null) return true;
  return policy.modelList.some((d) => d.modelName.includes('*'));
}

/**
 * LiteLLM `_is_model_cost_zero` (§2.7.5) for one model: the router knows the model and its price
 * is explicitly 0 for input and output. Tollgate only knows prices stated in the config, so every
 * deployment serving the model must state 0/0; a missing price counts as costing money.
 */
export function isZeroCostModel(policy: Policy, model: string): boolean {
  const deployments = deploymentsFor(policy, model);
  return (
    deployments.length > 0 &&
    deployments.every(({ deployment }) => deployment.inputCostPerToken === 0 && deployment.outputCostPerToken === 0)
  );
}

/**
 * Router `resolve_model_name_from_model_id`: the model group a deployment id names, as LiteLLM
 * resolves the model id decoded from a managed video or character id. A deployment's
 * `model_info.id`, a model_name, a deployment's `litellm_params.model`, or that model without its
 * provider (`veo-2.0-generate-001` for `vertex_ai/veo-2.0-generate-001`); null when nothing in the
 * model list matches, and always without a model list (no router). A deployment whose config
 * states no id carries the one LiteLLM's router generates (checks/deployment-id.ts); where that
 * cannot be reproduced it has none, and such an id stays unresolved here.
 */
export function modelNameForModelId(policy: Policy, modelId: string): string | null {
  if (modelId === '') return null;
  const list = policy.modelList;
  const byId = list.find((d) => d.modelId === modelId);
  if (byId !== undefined) return byId.modelName;
  if (list.some((d) => d.modelName === modelId)) return modelId;
  const byModel = list.find((d) => d.underlyingModel === modelId);
  if (byModel !== undefined) return byModel.modelName;
  const byBareModel = list.find((d) => d.underlyingModel !== null && d.underlyingModel.includes('/') && d.underlyingModel.slice(d.underlyingModel.indexOf('/') + 1) === modelId);
  return byBareModel?.modelName ?? null;
}
