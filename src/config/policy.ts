/**
 * The authorization policy derived from the LiteLLM-shaped config: everything the pure checks
 * need to know about the proxy (master key excluded; identity owns it).
 */
import { passThroughEndpointsOf, type PassThroughEndpoint } from './pass-through-endpoints';
import { isWrittenAsFloat, type LiteLlmConfig, type ModelDeploymentConfig } from './litellm-config';
import type { DisabledRoutes } from './disabled-routes';
import { deploymentDefaultLimitIndexOf, pythonIntOf, type DeploymentDefaultLimitIndex } from '../ratelimit/deployment-default-limits';

/**
 * One `litellm_params.configurable_clientside_auth_params` entry: a body param the deployment lets
 * clients set, or `{api_base: <regex>}` admitting client `api_base` values that match it.
 */
export type ClientsideAuthParam = string | { readonly apiBase: string };

export interface ModelDeployment {
  /** The public model name clients send (`model_list[].model_name`). */
  readonly modelName: string;
  /** `litellm_params.model`, e.g. `openai/gpt-4o`. */
  readonly underlyingModel: string | null;
  /**
   * The deployment's id in LiteLLM's router, which also routes a request naming it: `model_info.id`
   * as stated (an int one as its str()), or the one the router generates (config/litellm-config.ts
   * assignDeploymentIds); null where that cannot be known here.
   */
  readonly modelId?: string | null;
  readonly accessGroups: readonly string[];
  /** Per-token prices when the config states them; null when unknown (unknown counts as costing money). */
  readonly inputCostPerToken: number | null;
  readonly outputCostPerToken: number | null;
  /** `configurable_clientside_auth_params`; null when the deployment does not set it. */
  readonly clientsideAuthParams: readonly ClientsideAuthParam[] | null;
  /**
   * `litellm_params.default_api_key_rpm_limit` / `_tpm_limit` as LiteLLM's int() reads them: the
   * per-model limit of a key that sets none for this model (ratelimit/deployment-default-limits.ts).
   * Null or absent: none, or a value int() cannot read (LiteLLM skips it).
   */
  readonly defaultApiKeyRpmLimit?: number | null;
  readonly defaultApiKeyTpmLimit?: number | null;
}

export interface Policy {
  readonly modelList: readonly ModelDeployment[];
  /** litellm_settings.model_alias_map: alias → model. */
  readonly modelAliasMap: Readonly<Record<string, string>>;
  /**
   * modelAliasMap as a Map, built with the policy for the rate limits' model (ratelimit/limiter-model.ts);
   * null when the map is empty (most configs). Absent (a policy not built by buildPolicy): the record is read.
   */
  readonly modelAliasTargets?: ReadonlyMap<string, string> | null;
  /** router_settings.model_group_alias: alias → model group. */
  readonly modelGroupAlias: Readonly<Record<string, string>>;
  /**
   * The model_group_alias entries written `{model: …, hidden: true}`: routed like the others, but
   * the router's get_model_list skips them, so a deployment's default per-key limit does not reach
   * them (ratelimit/deployment-default-limits.ts). Absent: none.
   */
  readonly hiddenModelGroupAliases?: ReadonlySet<string>;
  /** litellm_settings.max_budget: the global proxy budget (null or <= 0 = none). */
  readonly maxBudget: number | null;
  readonly maxEndUserBudgetId: string | null;
  /**
   * litellm_settings.validate_end_user_id_in_db: an end user id is kept only if it names a customer
   * row, a user's id or a user's email (snapshot/end-user-validation.ts); JSON-shaped ids are
   * dropped as they are read (envoy/end-user.ts).
   */
  readonly validateEndUserIdInDb: boolean;
  readonly enforceUserParam: boolean;
  readonly rejectClientsideMetadataTags: boolean;
  readonly allowedRoutes: readonly string[] | null;
  readonly allowedIps: readonly string[] | null;
  readonly useXForwardedFor: boolean;
  readonly publicRoutes: readonly string[];
  /** general_settings.pass_through_endpoints: those whose `auth` is not true are called without a key. */
  readonly passThroughEndpoints: readonly PassThroughEndpoint[];
  readonly adminOnlyRoutes: readonly string[];
  readonly allowClientSideCredentials: boolean;
  /** general_settings.allow_user_auth: `/user/auth` is let through with no further check (else 403). */
  readonly allowUserAuth: boolean;
  readonly maxRequestSizeMb: number | null;
  /** Which of maxBudget and maxRequestSizeMb the YAML wrote as floats: LiteLLM prints `100.0` for those, `100` for ints. */
  readonly writtenAsFloat?: { readonly maxBudget: boolean; readonly maxRequestSizeMb: boolean };
  /** general_settings.litellm_proxy_admin_name (LiteLLM default "default_user_id"). */
  readonly proxyAdminName: string;
  /**
   * litellm_settings.budget_exceeded_throttle_percentage, when valid and the rate limits are
   * enforced: a key over its max budget that opted in (`metadata.throttle_on_budget_exceeded`)
   * and has an rpm or tpm limit is throttled to this share of those limits instead of refused
   * (checks/key-budget.ts). Absent or null: throttling off.
   */
  readonly budgetExceededThrottlePercentage?: number | null;
  /**
   * general_settings.allow_requests_on_db_unavailable. Most of its effect is the handler's (a
   * store outage allows); the loader reads it where LiteLLM swallows a failed lookup instead.
   */
  readonly allowRequestsOnDbUnavailable?: boolean;
  /**
   * general_settings.apply_user_budget_to_team_keys (newer LiteLLM, off by default): the key
   * owner's personal budgets (max_budget, multi-window budgets, their reservation) hold the
   * owner's team keys too, not only keys without a team.
   */
  readonly applyUserBudgetToTeamKeys?: boolean;
  /**
   * `DISABLE_ADMIN_ENDPOINTS` / `DISABLE_LLM_API_ENDPOINTS` (config/disabled-routes.ts), read from
   * the environment by config/settings.ts. Absent: no route is disabled.
   */
  readonly disabledRoutes?: DisabledRoutes;
  /**
   * The deployments' default per-key limits by model name, worked out from modelList when the
   * policy is built (ratelimit/deployment-default-limits.ts). Absent or null: no deployment sets one.
   */
  readonly deploymentDefaultLimits?: DeploymentDefaultLimitIndex | null;
  /**
   * general_settings.completion_model, when a non-empty string: the model LiteLLM serves on the
   * chat, completions and embeddings routes whatever the request names (routes/handler-model.ts).
   * Absent or null: none.
   */
  readonly completionModel?: string | null;
}

/**
 * LiteLLM's `budget_throttle_percentage`: a number, not a bool, in (0, 1]; anything else turns
 * throttling off, so an over-budget key is refused. Tollgate also turns it off where it applies
 * no rate limits (`tollgate.enforce_rate_limits: false`, or no Redis: config/settings.ts): a
 * throttled key would then run unlimited past its budget.
 */
function budgetThrottlePercentage(config: LiteLlmConfig): number | null {
  const value = config.litellm_settings?.budget_exceeded_throttle_percentage;
  if (config.tollgate?.enforce_rate_limits === false) return null;
  return typeof value === 'number' && value > 0 && value <= 1 ? value : null;
}

function priceOf(deployment: NonNullable<LiteLlmConfig['model_list']>[number], field: 'input_cost_per_token' | 'output_cost_per_token'): number | null {
  // LiteLLM's Deployment copies litellm_params' prices over model_info's.
  return deployment.litellm_params?.[field] ?? deployment.model_info?.[field] ?? null;
}

/** Entries LiteLLM can use: strings, and objects with a string `api_base`; anything else is dropped. */
function clientsideAuthParamsOf(entries: readonly unknown[] | undefined): readonly ClientsideAuthParam[] | null {
  if (entries === undefined) return null;
  const params: ClientsideAuthParam[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') params.push(entry);
    else if (entry !== null && typeof entry === 'object' && typeof (entry as { api_base?: unknown }).api_base === 'string') {
      params.push({ apiBase: (entry as { api_base: string }).api_base });
    }
  }
  return params;
}

/** One `model_list` entry, from the YAML or from `LiteLLM_ProxyModelTable` (store/db-model-list.ts). */
export function deploymentOf(d: ModelDeploymentConfig): ModelDeployment {
  return {
    modelName: d.model_name,
    underlyingModel: d.litellm_params?.model ?? null,
    modelId: typeof d.model_info?.id === 'string' && d.model_info.id !== '' ? d.model_info.id : null,
    accessGroups: d.model_info?.access_groups ?? [],
    inputCostPerToken: priceOf(d, 'input_cost_per_token'),
    outputCostPerToken: priceOf(d, 'output_cost_per_token'),
    clientsideAuthParams: clientsideAuthParamsOf(d.litellm_params?.configurable_clientside_auth_params),
    defaultApiKeyRpmLimit: defaultLimitOf(d.litellm_params?.default_api_key_rpm_limit),
    defaultApiKeyTpmLimit: defaultLimitOf(d.litellm_params?.default_api_key_tpm_limit),
  };
}

/** `_get_deployment_default_limit` reads a value that is not None through int(), skipping one it cannot read. */
function defaultLimitOf(raw: unknown): number | null {
  return raw === undefined || raw === null ? null : pythonIntOf(raw);
}

/** The policy with its deployment defaults indexed: once here, not on every Check. */
function withDeploymentDefaults(policy: Policy): Policy {
  return { ...policy, deploymentDefaultLimits: deploymentDefaultLimitIndexOf(policy) };
}

/**
 * The policy with the models LiteLLM keeps in its database (`store_model_in_db`) after the YAML's:
 * LiteLLM's router holds both, so both give access groups, wildcards, prices and routable names.
 * A new object, so caches keyed by the policy (checks/model-router.ts) see the change.
 */
export function withDatabaseModels(base: Policy, models: readonly ModelDeploymentConfig[]): Policy {
  return Object.freeze(withDeploymentDefaults({ ...base, modelList: Object.freeze([...base.modelList, ...models.map(deploymentOf)]) }));
}

function aliasTargetsOf(aliases: Readonly<Record<string, string>>): ReadonlyMap<string, string> | null {
  const targets = new Map(Object.entries(aliases));
  return targets.size === 0 ? null : targets;
}

export function buildPolicy(config: LiteLlmConfig): Policy {
  const general = config.general_settings ?? {};
  const litellm = config.litellm_settings ?? {};
  const modelGroupAlias: Record<string, string> = {};
  const hiddenModelGroupAliases = new Set<string>();
  for (const [alias, target] of Object.entries(config.router_settings?.model_group_alias ?? {})) {
    // LiteLLM accepts either "target" or {"model": "target", "hidden": bool}.
    if (typeof target === 'string') modelGroupAlias[alias] = target;
    else if (target !== null && typeof target === 'object' && typeof (target as { model?: unknown }).model === 'string') {
      modelGroupAlias[alias] = (target as { model: string }).model;
      // get_model_list_from_model_alias: `if _model_value["hidden"] is True: continue`.
      if ((target as { hidden?: unknown }).hidden === true) hiddenModelGroupAliases.add(alias);
    }
  }
  const modelAliasMap = litellm.model_alias_map ?? {};
  return withDeploymentDefaults({
    modelList: (config.model_list ?? []).map(deploymentOf),
    modelAliasMap,
    modelAliasTargets: aliasTargetsOf(modelAliasMap),
    modelGroupAlias,
    hiddenModelGroupAliases,
    maxBudget: litellm.max_budget ?? null,
    maxEndUserBudgetId: litellm.max_end_user_budget_id ?? null,
    validateEndUserIdInDb: litellm.validate_end_user_id_in_db === true,
    enforceUserParam: general.enforce_user_param ?? false,
    rejectClientsideMetadataTags: general.reject_clientside_metadata_tags ?? false,
    allowedRoutes: general.allowed_routes ?? null,
    allowedIps: general.allowed_ips ?? null,
    useXForwardedFor: general.use_x_forwarded_for ?? false,
    publicRoutes: general.public_routes ?? [],
    passThroughEndpoints: passThroughEndpointsOf(general.pass_through_endpoints),
    adminOnlyRoutes: general.admin_only_routes ?? [],
    allowClientSideCredentials: general.allow_client_side_credentials ?? false,
    allowUserAuth: general.allow_user_auth === true,
    maxRequestSizeMb: general.max_request_size_mb ?? null,
    writtenAsFloat: {
      maxBudget: isWrittenAsFloat(config, 'litellm_settings.max_budget'),
      maxRequestSizeMb: isWrittenAsFloat(config, 'general_settings.max_request_size_mb'),
    },
    proxyAdminName: general.litellm_proxy_admin_name ?? 'default_user_id',
    allowRequestsOnDbUnavailable: general.allow_requests_on_db_unavailable ?? false,
    applyUserBudgetToTeamKeys: general.apply_user_budget_to_team_keys ?? false,
    budgetExceededThrottlePercentage: budgetThrottlePercentage(config),
    completionModel: completionModelOf(general),
  });
}

/**
 * LiteLLM reads `general_settings.get("completion_model")` as the first term of an `or`, so ""
 * (like null) leaves the request's model. A value that is not a string is not followed: LiteLLM
 * would set the model to it and serve no deployment.
 */
function completionModelOf(general: Readonly<Record<string, unknown>>): string | null {
  const model = general['completion_model'];
  return typeof model === 'string' && model !== '' ? model : null;
}
