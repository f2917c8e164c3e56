/**
 * A deployment's `litellm_params.default_api_key_rpm_limit` / `default_api_key_tpm_limit`: the
 * per-key, per-model limit newer LiteLLM gives a key that sets none of its own for the model it
 * calls (auth_utils `get_key_model_rpm_limit` / `_tpm_limit`, source 4 of 4, after the key's
 * `metadata.model_rpm_limit`, its model_max_budget's `rpm_limit` and the team's
 * `metadata.model_rpm_limit`). v3 passes the request's `data["model"]` as the model name and
 * counts the limit in the key's `model_per_key` window for that model, the same window the other
 * three sources fill: each key gets its own allowance per model, not one shared by all keys.
 *
 * The value is the smallest one the deployments `router.get_model_list(model_name=model)` returns
 * set (`_get_deployment_default_limit`), so that no deployment behind a load-balanced name is
 * over-consumed whichever serves the request. Worked out per model name once per policy
 * (buildPolicy, withDatabaseModels): a Check looks one name up, and a policy with no such value
 * anywhere costs a Check one property read.
 */
import { deploymentsFor, type ResolvedDeployment } from '../checks/model-router';
import type { Snapshot } from '../checks/types';
import type { ModelDeployment, Policy } from '../config/policy';
import type { JsonObject } from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import type { SpendTarget } from '../spend/targets';
import { UNREAD_MODEL } from '../domain/request';

export type DefaultLimitMetric = 'rpm' | 'tpm';

/** The smallest default of each metric across a model's deployments; null where none sets one. */
export interface DeploymentDefaultLimits {
  readonly rpm: number | null;
  readonly tpm: number | null;
}

/**
 * The defaults of a policy, by model name: every name the router answers to by name
 * (`model_name`, `model_group_alias`) that has a default, and whether a wildcard deployment
 * (`openai/*`) sets one, which only a lookup of the model a request names can find.
 */
export interface DeploymentDefaultLimitIndex {
  /**
   * The policy as get_model_list resolves a name: without the model_group_alias entries it skips
   * (`hidden: true`), so a hidden alias gets only the deployments of its own name, else of the
   * wildcard that matches it. The policy itself when no alias is hidden.
   */
  readonly router: Policy;
  readonly named: ReadonlyMap<string, DeploymentDefaultLimits>;
  /** Router names whose deployments set none: answered without resolving the name again. */
  readonly namedWithout: ReadonlySet<string>;
  readonly wildcards: boolean;
  /**
   * Per metric, the `{name: limit}` each named model's default makes, and the one of a request
   * whose model was not read (every named model's): built here, so a Check allocates none.
   */
  readonly limitsByName: Readonly<Record<DefaultLimitMetric, ReadonlyMap<string, ModelLimitMap>>>;
  readonly unreadLimits: Readonly<Record<DefaultLimitMetric, ModelLimitMap | null>>;
}

/** `{model: limit}`, as get_key_model_rpm_limit returns the fourth source. */
export type ModelLimitMap = Readonly<Record<string, number>>;

/**
 * LiteLLM's `int(raw)` for a value of a type it tries (`int, float, str, bytes`, a bool being an
 * int): null where int() would raise, which LiteLLM skips. A str is read as Python reads one:
 * surrounding whitespace, a sign, `_` between digits. A float is truncated; an infinite one, on
 * which int() raises OverflowError (not caught: the hook fails) is skipped here too.
 */
export function pythonIntOf(raw: unknown): number | null {
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.trunc(raw) + 0 : null;
  if (typeof raw !== 'string') return null;
  const text = pyStrip(raw);
  if (!PY_INT_TEXT.test(text)) return null;
  return Number(text.replaceAll('_', '')) + 0;
}

/** The text without the whitespace int() ignores at either end (Python's, not String.prototype.trim's). */
function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPyWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isPyWhitespace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python's str.isspace() for one UTF-16 unit (every such code point is in the BMP). */
function isPyWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}
/** A decimal int literal as int(str) reads one (ASCII digits: LiteLLM's configs hold no others). */
const PY_INT_TEXT = /^[+-]?[0-9]+(?:_[0-9]+)*$/;

/** `min` of the deployments' values that int() reads, null when none has one. */
function smallestDefault(deployments: readonly ModelDeployment[], metric: DefaultLimitMetric): number | null {
  let smallest: number | null = null;
  for (const deployment of deployments) {
    const value = metric === 'rpm' ? deployment.defaultApiKeyRpmLimit : deployment.defaultApiKeyTpmLimit;
    if (value === undefined || value === null) continue;
    if (smallest === null || value < smallest) smallest = value;
  }
  return smallest;
}

function defaultsOf(resolved: readonly ResolvedDeployment[]): DeploymentDefaultLimits | null {
  const deployments = resolved.map((r) => r.deployment);
  const rpm = smallestDefault(deployments, 'rpm');
  const tpm = smallestDefault(deployments, 'tpm');
  return rpm === null && tpm === null ? null : { rpm, tpm };
}

function setsDefault(deployment: ModelDeployment): boolean {
  return (deployment.defaultApiKeyRpmLimit ?? null) !== null || (deployment.defaultApiKeyTpmLimit ?? null) !== null;
}

/**
 * The index of a policy's deployment defaults; null when no deployment sets one (most configs),
 * which is all a Check then reads.
 */
export function deploymentDefaultLimitIndexOf(policy: Policy): DeploymentDefaultLimitIndex | null {
  if (!policy.modelList.some(setsDefault)) return null;
  const router = listedAliasesOnly(policy);
  const named = new Map<string, DeploymentDefaultLimits>();
  const namedWithout = new Set<string>();
  for (const name of new Set([...policy.modelList.map((d) => d.modelName), ...Object.keys(router.modelGroupAlias)])) {
    const limits = defaultsOf(deploymentsFor(router, name));
    if (limits === null) namedWithout.add(name);
    else named.set(name, Object.freeze(limits));
  }
  const wildcards = policy.modelList.some((d) => d.modelName.includes('*') && setsDefault(d));
  const limitsByName = { rpm: limitMapsOf(named, 'rpm'), tpm: limitMapsOf(named, 'tpm') };
  const unreadLimits = { rpm: unreadLimitMapOf(named, 'rpm'), tpm: unreadLimitMapOf(named, 'tpm') };
  return Object.freeze({ router, named, namedWithout, wildcards, limitsByName: Object.freeze(limitsByName), unreadLimits: Object.freeze(unreadLimits) });
}

function limitMapsOf(named: ReadonlyMap<string, DeploymentDefaultLimits>, metric: DefaultLimitMetric): ReadonlyMap<string, ModelLimitMap> {
  const maps = new Map<string, ModelLimitMap>();
  for (const [name, limits] of named) {
    const limit = limits[metric];
    if (limit !== null) maps.set(name, Object.freeze({ [name]: limit }));
  }
  return maps;
}

function unreadLimitMapOf(named: ReadonlyMap<string, DeploymentDefaultLimits>, metric: DefaultLimitMetric): ModelLimitMap | null {
  let out: Record<string, number> | null = null;
  for (const [name, limits] of named) {
    const limit = limits[metric];
    if (limit !== null) (out ??= {})[name] = limit;
  }
  return out === null ? null : Object.freeze(out);
}

/** The policy without its hidden model_group_alias entries, which get_model_list skips. */
function listedAliasesOnly(policy: Policy): Policy {
  const hidden = policy.hiddenModelGroupAliases;
  if (hidden === undefined || hidden.size === 0) return policy;
  const listed = Object.fromEntries(Object.entries(policy.modelGroupAlias).filter(([alias]) => !hidden.has(alias)));
  return { ...policy, modelGroupAlias: listed };
}

/** Per wildcard route (deploymentsFor shares one frozen list per route): its defaults, once. */
const wildcardDefaults = new WeakMap<readonly ResolvedDeployment[], DeploymentDefaultLimits | null>();

/** The defaults for one model name as the request sends it; null when its deployments set none. */
export function deploymentDefaultLimitsFor(index: DeploymentDefaultLimitIndex, model: string): DeploymentDefaultLimits | null {
  const named = index.named.get(model);
  if (named !== undefined) return named;
  if (!index.wildcards || index.namedWithout.has(model)) return null;
  const resolved = deploymentsFor(index.router, model);
  let limits = wildcardDefaults.get(resolved);
  if (limits === undefined) {
    limits = defaultsOf(resolved);
    wildcardDefaults.set(resolved, limits);
  }
  return limits;
}

/**
 * Source 4 of get_key_model_rpm_limit / _tpm_limit, for a key none of the first three sources
 * limits: `{model: limit}` for each requested model whose deployments set a default of this
 * metric, null when none does. As for the other sources (rate-limits.ts), a request naming
 * several models is limited by each one's default, and one whose model was not read by every
 * default a model name carries (a wildcard's defaults cannot be listed: they stay out).
 */
export function deploymentDefaultModelLimits(
  policy: Policy | null,
  model: NonNullable<RequestFacts['model']>,
  metric: DefaultLimitMetric,
): ModelLimitMap | null {
  const index = policy?.deploymentDefaultLimits ?? null;
  if (index === null) return null;
  if (model === UNREAD_MODEL) return index.unreadLimits[metric];
  if (typeof model === 'string') return modelLimitMapOf(index, model, metric);
  // fromEntries defines own properties: a name such as `__proto__` keeps its limit.
  const entries: Array<[string, number]> = [];
  for (const name of model) {
    const limit = modelLimitMapOf(index, name, metric)?.[name];
    if (limit !== undefined) entries.push([name, limit]);
  }
  return entries.length === 0 ? null : Object.fromEntries(entries);
}

/** One model name's `{name: limit}`: the index's own for a named model, built only for one a wildcard serves. */
function modelLimitMapOf(index: DeploymentDefaultLimitIndex, model: string, metric: DefaultLimitMetric): ModelLimitMap | null {
  const own = index.limitsByName[metric].get(model);
  if (own !== undefined) return own;
  if (index.named.has(model)) return null;
  const limit = deploymentDefaultLimitsFor(index, model)?.[metric] ?? null;
  return limit === null ? null : { [model]: limit };
}

/**
 * The window a JWT caller without a key counts the deployments' default in. v3 builds the key's
 * per-model descriptor without asking whether there is a key (`f"{api_key}:{model}"`), and a JWT
 * caller's `api_key` is None: every key-less JWT caller of a model shares one `None:<model>`
 * window there, so one tenant's burst spends every other tenant's allowance. Tollgate gives each
 * caller its own window instead, as the default means one allowance per caller: the token's user
 * id, else its team's; only a token naming neither shares one, as in LiteLLM. The id names no key
 * row (a key's is a hex hash, with no `:`), so no key's window is reached.
 */
export function keylessCallerWindow(snapshot: Pick<Snapshot, 'jwtUserId' | 'team'>): SpendTarget {
  const userId = snapshot.jwtUserId ?? '';
  if (userId !== '') return { kind: 'key', id: `jwt-user:${userId}` };
  const teamId = snapshot.team?.team_id ?? '';
  return { kind: 'key', id: teamId === '' ? 'jwt' : `jwt-team:${teamId}` };
}

/**
 * get_key_model_rpm_limit for a JWT caller without a key: the JWT path copies only the team's
 * metadata onto the token, so the team's `metadata.model_rpm_limit` (source 3) ends the lookup,
 * else the deployments' default applies. A team map already limits the caller in the team's own
 * `model_per_team` window, which counts every request this window would: nothing is added for it.
 * Only rpm: a response's tokens feed the windows of its key, team, project and organization, not
 * this one, so a tpm default would hold only the tokens reserved until each response.
 */
export function keylessDefaultRpmLimits(
  teamMetadata: JsonObject | undefined,
  policy: Policy | null,
  model: NonNullable<RequestFacts['model']>,
): ModelLimitMap | null {
  const team = teamMetadata?.model_rpm_limit;
  if (team !== undefined && team !== null) return null;
  return deploymentDefaultModelLimits(policy, model, 'rpm');
}
