/**
 * The YAML file in LiteLLM's `config.yaml` shape, validated once at startup.
 * Unknown LiteLLM keys are ignored (a LiteLLM config is accepted unchanged); unknown `tollgate:` keys
 * and wrong types fail with the key's path.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { isScalar } from 'yaml';
import { IncludeError, mergeIncludes, type MergedConfig, type ModelEntrySource, type YamlFile } from './config-includes';
import { describeYamlError, parsePythonYaml } from './python-yaml';
import { pythonValueOf } from './python-yaml-values';
import { generatedDeploymentId, type PyValue } from '../checks/deployment-id';
import { z } from 'zod';
import { meteringConfigShape } from './metering-config';
import { alertingConfigShape } from './alerting-config';
import {
  defaultInternalUserParamsSchema,
  liteLlmJwtAuthSchema,
  rolePermissionsSchema,
  tollgateJwtSchema,
} from '../auth/jwt/settings-schema';

const stringList = z.array(z.string());

/** One `general_settings.user_header_mappings` entry. */
const headerMapping = z.looseObject({ header_name: z.string(), litellm_user_role: z.string() });
const stringMap = z.record(z.string(), z.string());

export const modelDeploymentSchema = z.looseObject({
  model_name: z.string(),
  litellm_params: z
    .looseObject({
      model: z.string().optional(),
      input_cost_per_token: z.number().optional(),
      output_cost_per_token: z.number().optional(),
      configurable_clientside_auth_params: z.array(z.unknown()).optional(),
      // Any value: LiteLLM's limiter reads what int() can and skips the rest (ratelimit/deployment-default-limits.ts).
      default_api_key_rpm_limit: z.unknown().optional(),
      default_api_key_tpm_limit: z.unknown().optional(),
    })
    .optional(),
  model_info: z
    .looseObject({
      // Without one, LiteLLM's router hashes the deployment's params into an id; an int one is
      // held as its str() (assignDeploymentIds).
      id: z.unknown().optional(),
      access_groups: stringList.optional(),
      input_cost_per_token: z.number().optional(),
      output_cost_per_token: z.number().optional(),
    })
    .optional(),
});
export type ModelDeploymentConfig = z.infer<typeof modelDeploymentSchema>;

/** A dict's value under a string key, as Python's `dict.get` finds it. */
function pythonField(dict: PyValue | null, name: string): PyValue | undefined {
  if (dict?.kind !== 'dict') return undefined;
  return dict.entries.find(([k]) => k.kind === 'str' && k.value === name)?.[1];
}

/**
 * `ModelInfo`'s id for a stated `model_info.id`: a str as it is, an int (a bool is one) through
 * `str()`; null for None (LiteLLM makes a random uuid4, which nothing can name) and for other types
 * (pydantic refuses them and LiteLLM does not start).
 */
function statedIdText(id: PyValue): string | null {
  if (id.kind === 'str') return id.value;
  if (id.kind === 'int') return id.value.toString();
  if (id.kind === 'bool') return id.value ? 'True' : 'False';
  return null;
}

/** The same from the JavaScript value, for an entry whose Python value is not reproduced: only ints exact in a double. */
function statedIdTextOfJs(id: unknown): string | null {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  if (typeof id === 'boolean') return id ? 'True' : 'False';
  return null;
}

/**
 * Router `set_model_list` and `ModelInfo`: the id each entry has in LiteLLM's router. A stated
 * `model_info.id` that is an int or a bool is held as its `str()` (`id: 5` is "5"); an entry whose
 * `model_info` has no `id` key gets `_generate_model_id(model_name, litellm_params)`, computed
 * from the values PyYAML reads (their Python types and order, not the JavaScript ones). Left
 * without an id when that value cannot be known here (checks/deployment-id.ts says when): such an
 * id stays unresolved, as a model name nothing else names.
 */
function assignDeploymentIds(models: ModelDeploymentConfig[], sources: readonly ModelEntrySource[] | null): void {
  models.forEach((model, index) => {
    const source = sources?.length === models.length ? sources[index] : undefined;
    const entry = source === undefined ? null : pythonValueOf(source.node, source.document);
    if (entry === null) {
      if (model.model_info !== undefined && 'id' in model.model_info) model.model_info = { ...model.model_info, id: statedIdTextOfJs(model.model_info.id) };
      return;
    }
    const info = pythonField(entry, 'model_info');
    const stated = pythonField(info ?? null, 'id');
    if (stated !== undefined) {
      model.model_info = { ...model.model_info, id: statedIdText(stated) };
      return;
    }
    if (info !== undefined && info.kind !== 'dict') return;
    const name = pythonField(entry, 'model_name');
    const params = pythonField(entry, 'litellm_params');
    if (name?.kind !== 'str' || params === undefined) return;
    const id = generatedDeploymentId(name.value, params);
    if (id !== null) model.model_info = { ...model.model_info, id };
  });
}

const generalSettings = z.looseObject({
  master_key: z.string().nullish(),
  enforce_user_param: z.boolean().nullish(),
  apply_user_budget_to_team_keys: z.boolean().nullish(),
  reject_clientside_metadata_tags: z.boolean().nullish(),
  allowed_routes: stringList.nullish(),
  allowed_ips: stringList.nullish(),
  use_x_forwarded_for: z.boolean().nullish(),
  public_routes: stringList.nullish(),
  admin_only_routes: stringList.nullish(),
  allow_requests_on_db_unavailable: z.boolean().nullish(),
  allow_client_side_credentials: z.boolean().nullish(),
  allow_user_auth: z.boolean().nullish(),
  litellm_key_header_name: z.string().nullish(),
  user_api_key_cache_ttl: z.number().nonnegative().nullish(),
  user_header_name: z.string().nullish(),
  // get_customer_user_header_from_mapping takes a list or one mapping on its own.
  user_header_mappings: z
    .union([z.array(headerMapping), headerMapping.transform((mapping) => [mapping])])
    .nullish(),
  max_request_size_mb: z.number().positive().nullish(),
  litellm_proxy_admin_name: z.string().nullish(),
  enable_jwt_auth: z.boolean().nullish(),
  litellm_jwtauth: liteLlmJwtAuthSchema.nullish(),
  role_permissions: rolePermissionsSchema.nullish(),
  enforce_rbac: z.boolean().nullish(),
  store_model_in_db: z.boolean().nullish(),
  // Entries are read leniently (config/pass-through-endpoints.ts): LiteLLM skips what it cannot use.
  pass_through_endpoints: z.array(z.unknown()).nullish(),
  // Accepted so a LiteLLM config loads unchanged; switched on, each is refused (settings.ts).
  custom_auth: z.unknown().optional(),
  enable_oauth2_auth: z.unknown().optional(),
  enable_oauth2_proxy_auth: z.unknown().optional(),
});

const litellmSettings = z.looseObject({
  max_budget: z.number().nullish(),
  max_end_user_budget_id: z.string().nullish(),
  validate_end_user_id_in_db: z.boolean().nullish(),
  model_alias_map: stringMap.nullish(),
  default_internal_user_params: defaultInternalUserParamsSchema.nullish(),
  // Any type: LiteLLM reads a value that is not a number in (0, 1] as throttling off (config/policy.ts).
  budget_exceeded_throttle_percentage: z.unknown().optional(),
  // The IANA zone LiteLLM aligns budget resets in (spend/standardized-reset.ts); a name it cannot
  // load is UTC there, and so here.
  timezone: z.string().nullish(),
});

/** Tollgate's own keys: strict, as a misspelt one has no LiteLLM meaning to fall back on. */
const tollgateSettings = z.strictObject({
  forward_credentials: z.boolean().optional(),
  negative_cache_ttl_seconds: z.number().nonnegative().optional(),
  cache_ttl_seconds: z.number().positive().optional(),
  cache_refresh_seconds: z.number().positive().optional(),
  cache_max_entries: z.number().int().positive().optional(),
  base_path: z.string().optional(),
  redis_key_prefix: z.string().optional(),
  redis_cluster: z.boolean().optional(),
  db_timeout_ms: z.number().int().positive().optional(),
  redis_timeout_ms: z.number().int().positive().optional(),
  max_in_flight: z.number().int().positive().optional(),
  model_list_refresh_seconds: z.number().positive().optional(),
  jwt: tollgateJwtSchema.nullish(),
  ...meteringConfigShape,
  ...alertingConfigShape,
});

export const liteLlmConfigSchema = z.looseObject({
  general_settings: generalSettings.nullish(),
  litellm_settings: litellmSettings.nullish(),
  model_list: z.array(modelDeploymentSchema).nullish(),
  router_settings: z.looseObject({ model_group_alias: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  tollgate: tollgateSettings.nullish(),
});
export type LiteLlmConfig = z.infer<typeof liteLlmConfigSchema>;

export class ConfigError extends Error {}

/**
 * Replaces `os.environ/NAME` strings anywhere in the tree, as LiteLLM does (`get_secret`): a value
 * Python's `ast.literal_eval` reads as a bool (`True`, `False`) becomes one, any other stays the
 * string it is (`"true"` and `"100"` too, which a boolean or numeric setting then refuses by name).
 */
function resolveEnvReferences(value: unknown, env: NodeJS.ProcessEnv, within: ReadonlySet<object> = new Set()): unknown {
  if (typeof value === 'string' && value.startsWith('os.environ/')) {
    const secret = env[value.slice('os.environ/'.length)];
    if (secret === undefined) return null;
    const literal = secret.trim();
    return literal === 'True' ? true : literal === 'False' ? false : secret;
  }
  if (value === null || typeof value !== 'object') return value;
  // An alias inside its own anchor (`a: &r [1, *r]`) makes a cycle PyYAML builds and LiteLLM
  // starts with (its walk stops at a depth); the walk here stops where the cycle closes.
  if (within.has(value)) return value;
  const path = new Set(within).add(value);
  if (Array.isArray(value)) return value.map((v) => resolveEnvReferences(v, env, path));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnvReferences(v, env, path)]));
}

/**
 * The settings whose value LiteLLM prints in an error message. Python keeps a YAML `100` as an int
 * and a `100.0` as a float, and prints them so (`Max budget: 100` against `Max budget: 100.0`);
 * a JavaScript number cannot tell them apart, so the way each was written is kept beside it.
 */
export const PRINTED_NUMBER_SETTINGS = ['litellm_settings.max_budget', 'general_settings.max_request_size_mb'] as const;
export type PrintedNumberSetting = (typeof PRINTED_NUMBER_SETTINGS)[number];

const writtenAsFloat = new WeakMap<LiteLlmConfig, ReadonlySet<PrintedNumberSetting>>();

/** Whether the YAML wrote this setting as a float (`100.0`, `1.5e2`, `.inf`); false for ints and for configs not parsed from YAML. */
export function isWrittenAsFloat(config: LiteLlmConfig, setting: PrintedNumberSetting): boolean {
  return writtenAsFloat.get(config)?.has(setting) ?? false;
}

/** YAML's float forms (a fraction, an exponent, .inf, .nan), against ints (`100`, `0x64`, `0o144`). */
const FLOAT_SYNTAX = /^[-+]?(?:\.inf|\.nan|[0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9_]+[eE][-+]?[0-9]+)$/i;

/** One YAML text as PyYAML reads it; `source` names it in errors. */
function readYaml(text: string, source: string): YamlFile {
  const document = parsePythonYaml(text);
  const [error] = document.errors;
  if (error !== undefined) throw new ConfigError(`${source}: not valid YAML: ${describeYamlError(error)}`);
  try {
    return { path: source, identity: identityOf(source), document, value: document.toJS() ?? {} };
  } catch (err) {
    // Alias trouble (unresolved, or too many: a billion-laughs file); the message names no value.
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
}

/** The file a path names, for knowing it again under another spelling; the path when there is none (a config given as text). */
function identityOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function readYamlFile(path: string, what: string): YamlFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what}: ${(err as Error).message}`);
  }
  return readYaml(text, path);
}

/**
 * The config in `text`, with the files its `include:` list names (config-includes.ts), read from
 * the directory of `source` (the working directory for a config given as text).
 */
export function parseLiteLlmConfig(text: string, env: NodeJS.ProcessEnv, source = 'config'): LiteLlmConfig {
  let merged: MergedConfig;
  try {
    merged = mergeIncludes(readYaml(text, source), (path) => readYamlFile(path, `included file ${path}`));
  } catch (err) {
    if (err instanceof IncludeError) throw new ConfigError(err.message);
    throw err;
  }
  const parsed = liteLlmConfigSchema.safeParse(resolveEnvReferences(merged.value, env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '(root)';
    throw new ConfigError(`${source}: invalid setting '${where}': ${issue?.message ?? 'invalid'}`);
  }
  const floats = PRINTED_NUMBER_SETTINGS.filter((setting) => {
    const path = setting.split('.');
    const node = merged.documentOf(path[0] as string).getIn(path, true);
    return isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string' && FLOAT_SYNTAX.test(node.source.trim());
  });
  writtenAsFloat.set(parsed.data, new Set(floats));
  assignDeploymentIds(parsed.data.model_list ?? [], merged.modelEntries);
  return parsed.data;
}

export function loadLiteLlmConfig(path: string | null, env: NodeJS.ProcessEnv): LiteLlmConfig {
  if (path === null) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read TOLLGATE_CONFIG=${path}: ${(err as Error).message}`);
  }
  return parseLiteLlmConfig(text, env, path);
}
