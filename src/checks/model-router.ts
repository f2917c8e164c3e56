/**
 * What LiteLLM's Router knows about the proxy's models, computed from `policy.modelList`:
 * which deployments serve a model name, the access groups they belong to, aliases, whether a
 * model can be routed at all, and whether it is free.
 */
import type { ModelDeployment, Policy } from '../config/policy';
import { globMatches } from './model-wildcard';

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
  readonly deployments: readonly ModelDeployment[];
}

/**
 * The router's wildcard patterns, most specific first. Built once per policy object: the checks
 * consult it several times per request and the policy never changes after startup.
 */
const wildcardRoutesByPolicy = new WeakMap<Policy, readonly WildcardRoute[]>();

function wildcardRoutes(policy: Policy): readonly WildcardRoute[] {
  const cached = wildcardRoutesByPolicy.get(policy);
  if (cached !== undefined) return cached;
  const byPattern = new Map<string, ModelDeployment[]>();
  for (const deployment of policy.modelList) {
    if (!deployment.modelName.includes('*')) continue;
    const regex = wildcardDeploymentRegex(deployment.modelName);
    byPattern.set(regex, [...(byPattern.get(regex) ?? []), deployment]);
  }
  const routes = [...byPattern.entries()]
    .sort((a, b) => {
      const [la, ca] = specificity(a[0]);
      const [lb, cb] = specificity(b[0]);
      return lb - la || cb - ca;
    })
    .map(([, deployments]) => ({ pattern: `${deployments[0]?.modelName ?? ''}*`, deployments }));
  wildcardRoutesByPolicy.set(policy, routes);
  return routes;
}

/** Router `pattern_router.route(model)`: deployments of the most specific wildcard model_name matching `model`. */
function wildcardDeployments(policy: Policy, model: string): readonly ModelDeployment[] {
  return wildcardRoutes(policy).find((route) => globMatches(model, route.pattern))?.deployments ?? [];
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
 * deployments of the most specific matching wildcard model_name (`openai/*`).
 */
export function deploymentsFor(policy: Policy, model: string): readonly ResolvedDeployment[] {
  const exact: ResolvedDeployment[] = policy.modelList
    .filter((d) => d.modelName === model)
    .map((deployment) => ({ modelName: deployment.modelName, deployment }));
  const aliasTarget = modelGroupAliasTarget(policy, model);
  if (aliasTarget !== null) {
    for (const deployment of policy.modelList) {
      if (deployment.modelName === aliasTarget) exact.push({ modelName: model, deployment });
    }
  }
  if (exact.length > 0) return exact;
  return wildcardDeployments(policy, model).map((deployment) => ({ modelName: deployment.modelName, deployment }));
}

/**
 * Router `get_model_access_groups(model_name=model)`: access-group name → the model names in it,
 * from the `model_info.access_groups` of the deployments that serve `model`.
 */
export function accessGroupsFor(policy: Policy, model: string): ReadonlyMap<string, readonly string[]> {
  const groups = new Map<string, string[]>();
  for (const { modelName, deployment } of deploymentsFor(policy, model)) {
    for (const group of deployment.accessGroups) {
      groups.set(group, [...(groups.get(group) ?? []), modelName]);
    }
  }
  return groups;
}

/**
 * Would LiteLLM's `route_request` find somewhere to send `model`? Used to validate client-side
 * fallbacks (`is_valid_fallback_model`, §4.14): a model_name, a deployment's underlying model,
 * a model_group_alias, or a wildcard deployment. No model_list means no router, so nothing routes.
 */
export function isRoutableModel(policy: Policy, model: string): boolean {
  if (policy.modelList.length === 0) return false;
  if (policy.modelList.some((d) => d.modelName === model || d.underlyingModel === model)) return true;
  if (modelGroupAliasTarget(policy, model) !== null) return true;
  return wildcardDeployments(policy, model).length > 0;
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
