/**
 * Process settings: environment variables (spec/README.md §1) plus the optional YAML file.
 * Parsed once at startup; nothing else in the code reads process.env.
 */
import { loadLiteLlmConfig, ConfigError, type LiteLlmConfig } from './litellm-config';
import { buildPolicy, type Policy } from './policy';
import { passThroughEndpointsOf, type PassThroughEndpoint } from './pass-through-endpoints';
import { meteringSettingsFrom, type MeteringSettings } from './metering-config';
import { alertingSettingsFrom, type AlertingSettings } from './alerting-config';
import { disabledRoutesFrom } from './disabled-routes';
import { tracingConfigFrom, type TracingConfig } from '../observability/otel-config';
import { buildJwtSettings, type JwtSettings } from '../auth/jwt/settings';
import { hashTagOf } from '../cache/hash-tag';
import { useBudgetResetZone } from '../spend/budget-window';
import { resetZoneOf } from '../spend/standardized-reset';

export interface Settings {
  readonly grpcAddr: string;
  readonly httpAddr: string;
  /** mysql://… ; null → embedded SQLite at sqlitePath. */
  readonly databaseUrl: string | null;
  readonly sqlitePath: string;
  readonly redisUrl: string | null;
  /** REDIS_URL names a node of a Redis Cluster (`tollgate.redis_cluster`); the key prefix then holds a hash tag. */
  readonly redisCluster: boolean;
  readonly masterKey: string | null;
  /**
   * The key LiteLLM encrypts stored values with: LITELLM_SALT_KEY, else the master key (its
   * `_get_salt_key`). Null when neither is set.
   */
  readonly saltKey: string | null;
  readonly logLevel: string;
  readonly policy: Policy;
  readonly credentials: {
    /** general_settings.litellm_key_header_name: a header that replaces the extracted key. */
    readonly customKeyHeader: string | null;
    readonly userHeaderName: string | null;
    readonly customerHeaderMappings: readonly string[];
    /** litellm_settings.validate_end_user_id_in_db: JSON-shaped end user ids are skipped as they are read. */
    readonly dropJsonEndUserIds: boolean;
    /** general_settings.pass_through_endpoints: headers that name the key, Langfuse's Basic credential. */
    readonly passThroughEndpoints: readonly PassThroughEndpoint[];
  };
  readonly allowRequestsOnDbUnavailable: boolean;
  readonly forwardCredentials: boolean;
  /** Prefix removed from the path before route matching (LiteLLM's root_path / base url). */
  readonly basePath: string;
  readonly cache: {
    readonly ttlSeconds: number;
    /** Entries older than this are revalidated in the background at their next use (≤ ttlSeconds). */
    readonly refreshSeconds: number;
    readonly negativeTtlSeconds: number;
    readonly maxEntries: number;
    readonly redisKeyPrefix: string;
  };
  readonly dbTimeoutMs: number;
  readonly redisTimeoutMs: number;
  /** OpenTelemetry tracing from the standard OTEL_* variables (observability/otel-config.ts). */
  readonly tracing: TracingConfig;
  /** JWT auth (general_settings.enable_jwt_auth, litellm_jwtauth, tollgate.jwt, JWT_* variables). */
  readonly jwt: JwtSettings;
  /** Checks worked on at once; beyond it a Check is refused with UNAVAILABLE (server/admission.ts). */
  readonly maxInFlight: number;
  /** Metering, spend counters, reservations and rate limits (config/metering-config.ts). */
  readonly metering: MeteringSettings;
  /**
   * How long an agent session's call count and spend last from its first call
   * (ratelimit/agent-session-caps.ts): LiteLLM's `LITELLM_MAX_ITERATIONS_TTL` and
   * `LITELLM_MAX_BUDGET_PER_SESSION_TTL`, in seconds, an hour by default.
   */
  readonly agentSessionTtls: { readonly iterationsMs: number; readonly budgetMs: number };
  /** Budget alerts: log line, span event, optional webhook (config/alerting-config.ts). */
  readonly alerting: AlertingSettings;
  /**
   * LiteLLM's `store_model_in_db` (general_settings or STORE_MODEL_IN_DB): the models in
   * `LiteLLM_ProxyModelTable` join the YAML's model_list, re-read every `refreshMs`.
   */
  readonly databaseModels: { readonly enabled: boolean; readonly refreshMs: number };
  readonly config: LiteLlmConfig;
}

export { ConfigError };

function nonEmpty(value: string | undefined): string | null {
  return value !== undefined && value.trim() !== '' ? value.trim() : null;
}

/** LiteLLM reads STORE_MODEL_IN_DB with `str_to_bool`: `True`/`true`/`1`… */
function isPythonTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const config = loadLiteLlmConfig(nonEmpty(env.TOLLGATE_CONFIG), env);
  const settings = settingsFrom(config, env);
  // Budget windows are read on every path (checks, metering, the CLI) from the row alone: the
  // zone their resets align in is resolved once, here, for the whole process.
  useBudgetResetZone(resetZoneOf(config.litellm_settings?.timezone));
  return settings;
}

/**
 * LiteLLM's other ways to authenticate a caller (litellm-auth.md §2: custom auth replaces every
 * check; OAuth2 introspects the token). Tollgate has neither: ignored, they would turn a config
 * meant for them into plain key auth, so switched on they stop the start.
 */
const UNSUPPORTED_AUTH_SETTINGS = ['custom_auth', 'enable_oauth2_auth', 'enable_oauth2_proxy_auth'] as const;

export function settingsFrom(config: LiteLlmConfig, env: NodeJS.ProcessEnv): Settings {
  const general = config.general_settings ?? {};
  for (const name of UNSUPPORTED_AUTH_SETTINGS) {
    const value = general[name];
    if (value !== undefined && value !== null && value !== false && value !== '') {
      throw new ConfigError(`invalid setting 'general_settings.${name}': not supported by Tollgate (remove it)`);
    }
  }
  // LiteLLM's load_config: general_settings.master_key, else LITELLM_MASTER_KEY.
  // The variable is trimmed: a secret written with `echo` ends in a newline no caller sends.
  const masterKey = general.master_key ?? env.LITELLM_MASTER_KEY?.trim() ?? null;
  // Set but empty, LiteLLM runs closed with a master key no caller can send; read as unset it
  // would make an open proxy of a deployment whose secret came out empty. Neither: refuse.
  if (masterKey !== null && masterKey.trim() === '') {
    throw new ConfigError(
      `${general.master_key === undefined || general.master_key === null ? 'LITELLM_MASTER_KEY' : "invalid setting 'general_settings.master_key'"}: set but empty (set a key, or leave it unset to run without a master key)`,
    );
  }
  const tollgate = config.tollgate ?? {};
  const basePath = (tollgate.base_path ?? '').replace(/\/+$/, '');
  const redisUrl = nonEmpty(env.REDIS_URL);
  const redisCluster = tollgate.redis_cluster ?? trueOrFalse(env, 'TOLLGATE_REDIS_CLUSTER');
  if (redisCluster && redisUrl !== null) refuseClusterDatabase(redisUrl);
  const policy = { ...buildPolicy(config), disabledRoutes: disabledRoutesFrom(env) };
  return {
    grpcAddr: nonEmpty(env.TOLLGATE_GRPC_ADDR) ?? '0.0.0.0:9001',
    httpAddr: nonEmpty(env.TOLLGATE_HTTP_ADDR) ?? '0.0.0.0:9002',
    databaseUrl: nonEmpty(env.DATABASE_URL),
    sqlitePath: nonEmpty(env.TOLLGATE_SQLITE_PATH) ?? './.tollgate/tollgate.db',
    redisUrl,
    redisCluster,
    masterKey,
    // Set at all, even empty, it is the key: LiteLLM reads it with os.getenv.
    saltKey: env.LITELLM_SALT_KEY ?? masterKey,
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    // Without Redis no rate limit is applied, so no over-budget key can be throttled: it is refused.
    policy: redisUrl === null ? { ...policy, budgetExceededThrottlePercentage: null } : policy,
    credentials: {
      customKeyHeader: general.litellm_key_header_name?.toLowerCase() ?? null,
      userHeaderName: general.user_header_name?.toLowerCase() ?? null,
      customerHeaderMappings: (general.user_header_mappings ?? [])
        .filter((m) => m.litellm_user_role.toLowerCase() === 'customer')
        .map((m) => m.header_name.toLowerCase()),
      dropJsonEndUserIds: config.litellm_settings?.validate_end_user_id_in_db === true,
      passThroughEndpoints: passThroughEndpointsOf(general.pass_through_endpoints),
    },
    allowRequestsOnDbUnavailable: general.allow_requests_on_db_unavailable ?? false,
    forwardCredentials: tollgate.forward_credentials ?? false,
    basePath,
    cache: {
      ttlSeconds: tollgate.cache_ttl_seconds ?? general.user_api_key_cache_ttl ?? 60,
      refreshSeconds: tollgate.cache_refresh_seconds ?? 5,
      negativeTtlSeconds: tollgate.negative_cache_ttl_seconds ?? 5,
      maxEntries: tollgate.cache_max_entries ?? 100_000,
      redisKeyPrefix: redisKeyPrefixOf(tollgate.redis_key_prefix, env, redisCluster),
    },
    dbTimeoutMs: tollgate.db_timeout_ms ?? 2000,
    redisTimeoutMs: tollgate.redis_timeout_ms ?? 200,
    tracing: tracingConfigFrom(env),
    jwt: buildJwtSettings(config, {
      publicKeyUrl: nonEmpty(env.JWT_PUBLIC_KEY_URL),
      audience: nonEmpty(env.JWT_AUDIENCE),
      issuer: nonEmpty(env.JWT_ISSUER),
    }),
    // In flight = cold-path rate × latency; warm Checks finish in well under a millisecond. 1024
    // covers ~5k cold Checks/s at Envoy's 200 ms timeout and, with 64 KiB bodies, bounds the
    // requests held in memory to ~64 MiB.
    maxInFlight: tollgate.max_in_flight ?? 1024,
    alerting: alertingSettingsFrom(tollgate),
    databaseModels: {
      enabled: general.store_model_in_db ?? isPythonTrue(env.STORE_MODEL_IN_DB),
      // LiteLLM's proxy re-reads its database models every 10 s (proxy_batch_polling_interval).
      refreshMs: (tollgate.model_list_refresh_seconds ?? 10) * 1000,
    },
    metering: meteringSettingsFrom(tollgate, general.token_rate_limit_type),
    agentSessionTtls: {
      iterationsMs: sessionTtlSeconds(env, 'LITELLM_MAX_ITERATIONS_TTL') * 1000,
      budgetMs: sessionTtlSeconds(env, 'LITELLM_MAX_BUDGET_PER_SESSION_TTL') * 1000,
    },
    config,
  };
}

/** `true` / `false` in any case, empty as unset; any other text stops the start rather than be guessed at. */
function trueOrFalse(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? '').trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  throw new ConfigError(`${name}: must be true or false (got '${env[name] ?? ''}')`);
}

/**
 * On a Redis Cluster the scripts' keys must share a slot, which only a hash tag in the prefix every
 * key starts with can make sure of: without one, every multi-key script fails (CROSSSLOT) and
 * Tollgate would half-work, so such a prefix stops the start.
 */
function redisKeyPrefixOf(configured: string | undefined, env: NodeJS.ProcessEnv, cluster: boolean): string {
  const fromEnv = nonEmpty(env.TOLLGATE_REDIS_PREFIX);
  const prefix = configured ?? fromEnv ?? (cluster ? '{tollgate}:' : 'tollgate:');
  if (cluster && hashTagOf(prefix) === null) {
    const name = configured === undefined ? 'TOLLGATE_REDIS_PREFIX' : "invalid setting 'tollgate.redis_key_prefix'";
    throw new ConfigError(
      `${name}: on a Redis Cluster (tollgate.redis_cluster) the key prefix must hold a non-empty hash tag, e.g. '{tollgate}:', so that all of Tollgate's keys share one slot (got '${prefix}')`,
    );
  }
  return prefix;
}

/**
 * A Redis Cluster has database 0 only: every connection to a REDIS_URL naming another would fail
 * its SELECT, forever, with only Redis's error in the log. An unreadable URL is left to the client,
 * which reports it as it does for a standalone Redis.
 */
function refuseClusterDatabase(redisUrl: string): void {
  let database: string;
  try {
    database = new URL(redisUrl).pathname.replace(/^\//, '');
  } catch {
    return;
  }
  if (database !== '' && database !== '0') {
    throw new ConfigError(
      `REDIS_URL: a Redis Cluster (tollgate.redis_cluster) has database 0 only; remove '/${database}' from the URL`,
    );
  }
}

/** LiteLLM's default for both: a session's counters last an hour from its first call. */
const DEFAULT_SESSION_CAP_TTL_SECONDS = 3600;

/** `int(os.getenv(name, 3600))`: LiteLLM does not start on a value int() cannot read; nor does Tollgate. A TTL must be positive here (Redis takes no other). */
function sessionTtlSeconds(env: NodeJS.ProcessEnv, name: string): number {
  const text = env[name];
  if (text === undefined) return DEFAULT_SESSION_CAP_TTL_SECONDS;
  const trimmed = text.trim();
  const seconds = /^[+-]?\d+$/.test(trimmed) ? Number.parseInt(trimmed, 10) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new ConfigError(`${name}: must be a whole number of seconds above 0 (got '${text}')`);
  return seconds;
}
