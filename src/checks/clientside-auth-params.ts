/**
 * Per-deployment opt-in for body params that are otherwise banned (litellm-auth.md §4.13,
 * `auth_utils._allow_model_level_clientside_configurable_parameters`).
 *
 * The model group is the requested model's deployments (exact name, model_group_alias, or the
 * most specific wildcard deployment); when there are none and the model has a `provider/` prefix,
 * the group named after the provider. LiteLLM's `ModelGroupInfo` keeps the setting of the last
 * deployment in the group that sets it, and so does Tollgate.
 */
import type { ClientsideAuthParam, Policy } from '../config/policy';
import type { Json } from '../domain/entities';
import { deploymentsFor } from './model-router';
import { isKnownProvider } from './providers';

function groupParams(policy: Policy, model: string): readonly ClientsideAuthParam[] | null {
  let deployments = deploymentsFor(policy, model);
  if (deployments.length === 0) {
    const provider = model.split('/', 1)[0] ?? '';
    if (isKnownProvider(provider)) deployments = deploymentsFor(policy, provider);
  }
  let params: readonly ClientsideAuthParam[] | null = null;
  for (const { deployment } of deployments) params = deployment.clientsideAuthParams ?? params;
  return params;
}

/** Compiled `api_base` patterns; configs are small and fixed, so the map stays small. */
const compiled = new Map<string, RegExp | null>();

/**
 * Python `re.match(pattern, value)`: anchored at the start only (the sticky flag). A pattern
 * JavaScript cannot compile matches nothing (LiteLLM would fail the request with a 401 too).
 */
function pythonMatch(pattern: string, value: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    try {
      regex = new RegExp(pattern, 'y');
    } catch {
      regex = null;
    }
    compiled.set(pattern, regex);
  }
  if (regex === null) return false;
  regex.lastIndex = 0;
  return regex.test(value);
}

/**
 * `_is_param_allowed`: a string entry equal to the param, or (for `api_base` only) an
 * `{api_base: regex}` entry that the value matches or equals. A non-string value never matches a
 * pattern (Python's `re.match` would raise, which also refuses the request).
 */
export function isClientsideParamAllowed(policy: Policy, model: string, param: string, value: Json): boolean {
  const params = groupParams(policy, model);
  if (params === null) return false;
  return params.some((entry) => {
    if (typeof entry === 'string') return entry === param;
    return param === 'api_base' && typeof value === 'string' && (pythonMatch(entry.apiBase, value) || entry.apiBase === value);
  });
}
