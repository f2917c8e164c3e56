/**
 * JWT auth settings as the rest of the code reads them: `general_settings.enable_jwt_auth`,
 * `general_settings.litellm_jwtauth` (defaults are LiteLLM's, litellm-auth.md §3.1),
 * `general_settings.role_permissions`, Tollgate's `tollgate.jwt`, and the environment values
 * `config/settings.ts` read (JWT_PUBLIC_KEY_URL, JWT_AUDIENCE, JWT_ISSUER). Built once at startup.
 */
import type { LiteLlmConfig } from '../../config/litellm-config';
import { ConfigError } from '../../config/litellm-config';
import { publicKeyFromJwk, publicKeyFromPem, type PublicKey } from './public-key';
import {
  IGNORED_JWT_SETTINGS,
  ISSUER_CLAIM_FIELDS,
  liteLlmJwtAuthSchema,
  UNREGISTERED_JWT_CLIENT_BEHAVIORS,
  UNSUPPORTED_JWT_SETTINGS,
  type IssuerConfig,
  type LiteLlmJwtAuthConfig,
  type RbacRole,
} from './settings-schema';

export interface RolePermission {
  readonly role: RbacRole;
  /** null: any model. */
  readonly models: readonly string[] | null;
  /** null: any route. Entries are route-group names or literal routes. */
  readonly routes: readonly string[] | null;
}

export interface ScopeMapping {
  readonly scope: string;
  readonly models: readonly string[];
}

/** Where the keys for one issuer (or for every token, when `issuer` is null) come from. */
export interface KeySourceSettings {
  readonly jwksUrls: readonly string[];
  readonly staticKeys: readonly PublicKey[];
  /** Required `aud` (JWT_AUDIENCE, or the issuer's: one of a list); null: not checked, as LiteLLM. */
  readonly audience: string | readonly string[] | null;
  /** Required `iss`; null: not checked. */
  readonly issuer: string | null;
}

/**
 * An issuer entry's own claim paths (newer LiteLLM's per-issuer configuration); null: that
 * issuer's tokens are read with the top-level field. claim-identity.ts applies them.
 */
export interface IssuerClaimFields {
  readonly userId: string | null;
  readonly userEmail: string | null;
  readonly teamId: string | null;
  readonly teamIds: string | null;
  readonly orgId: string | null;
  readonly endUserId: string | null;
}

/** One `litellm_jwtauth.issuers` entry: where its tokens' keys come from, and how their claims are read. */
export interface IssuerSettings extends KeySourceSettings {
  readonly issuer: string;
  readonly fields: IssuerClaimFields;
}

export interface JwksCacheSettings {
  /** `public_key_ttl`: a key set is refreshed after this long. */
  readonly ttlMs: number;
  /** `public_key_stale_ttl`: how much longer it may be used while the IdP cannot be reached. */
  readonly staleTtlMs: number;
  readonly fetchTimeoutMs: number;
  /** At most one refetch per URL this often, for unknown `kid`s and after failures. */
  readonly refetchMinIntervalMs: number;
}

export interface JwtClaimFields {
  readonly teamId: string | null;
  readonly teamIds: string | null;
  readonly teamAlias: string | null;
  readonly orgId: string | null;
  readonly orgAlias: string | null;
  readonly userId: string | null;
  readonly userEmail: string | null;
  readonly userRoles: string | null;
  readonly roles: string | null;
  readonly endUserId: string | null;
  readonly objectId: string | null;
}

/**
 * `virtual_key_claim_field` and what goes with it (litellm-auth.md §3.4): a verified token whose
 * claim value an active LiteLLM_JWTKeyMapping row names is decided as that virtual key.
 */
export interface VirtualKeyMappingSettings {
  /** Dot path of the claim (as every *_jwt_field); `jwt_client_id_field` is its older name. */
  readonly claimField: string;
  /**
   * `unregistered_jwt_client_behavior` for a token whose claim maps to no key, or lacks the claim
   * (`auto_register` cannot register a token without it: refused with the `reject` 403, key-mapping.ts).
   */
  readonly unregistered: 'fallback_team_mapping' | 'reject' | 'auto_register';
  /** `virtual_key_mapping_cache_ttl`: the longest a claim's answer is cached (the cache policy may be shorter). */
  readonly cacheTtlMs: number;
}

export interface JwtSettings {
  /** `enable_jwt_auth`: credentials with three dot-separated parts take the JWT path. */
  readonly enabled: boolean;
  readonly fields: JwtClaimFields;
  readonly adminJwtScope: string;
  readonly adminAllowedRoutes: readonly string[];
  readonly teamAllowedRoutes: readonly string[];
  readonly teamIdDefault: string | null;
  readonly teamIdUpsert: boolean;
  readonly userIdUpsert: boolean;
  readonly userAllowedEmailDomain: string | null;
  readonly userAllowedRoles: readonly string[] | null;
  readonly enforceRbac: boolean;
  readonly roleMappings: readonly { readonly role: string; readonly internalRole: RbacRole }[] | null;
  readonly rolePermissions: readonly RolePermission[];
  /** `general_settings.enforce_rbac`: LiteLLM's `validate_object_id` reads this one, not litellm_jwtauth's. */
  readonly requireObjectId: boolean;
  readonly enforceScopeBasedAccess: boolean;
  readonly scopeMappings: readonly ScopeMapping[];
  readonly enforceTeamBasedModelAccess: boolean;
  /** Null unless `virtual_key_claim_field` (or `jwt_client_id_field`) is set. */
  readonly virtualKeyMapping: VirtualKeyMappingSettings | null;
  /**
   * Tokens whose unverified `iss` matches one of these (the first, as LiteLLM) use its keys and
   * audience, and its claim fields over the top-level ones.
   */
  readonly issuers: readonly IssuerSettings[];
  /** Every other token. */
  readonly defaultKeys: KeySourceSettings;
  readonly jwks: JwksCacheSettings;
  readonly clockSkewSeconds: number;
  readonly maxTokenBytes: number;
  /** Claims already verified by Envoy's jwt_authn, read from CheckRequest metadata_context. */
  readonly envoy: { readonly namespace: string | null; readonly payloadKey: string };
  /** `litellm_settings.default_internal_user_params`, applied to upserted users. */
  readonly newUserDefaults: { readonly userRole: string | null; readonly maxBudget: number | null; readonly models: readonly string[] };
}

export interface JwtEnvironment {
  readonly publicKeyUrl: string | null;
  readonly audience: string | null;
  readonly issuer: string | null;
}

const DEFAULT_ADMIN_ROUTES = ['management_routes', 'spend_tracking_routes', 'global_spend_tracking_routes', 'info_routes'];
/** LiteLLM's recent default; older versions allowed only `openai_routes` and `info_routes`. */
const DEFAULT_TEAM_ROUTES = ['openai_routes', 'info_routes', 'mcp_routes', '/v1/messages', '/v1/messages/count_tokens'];

/**
 * What an issuer entry may hold: its keys and audience, and the claim paths LiteLLM reads per
 * issuer. LiteLLM ignores anything else there (a `team_alias_jwt_field` or `user_id_upsert` on an
 * entry applies to no token): refused, so that no one believes it applies to that issuer alone.
 */
const ISSUER_SETTINGS: readonly string[] = ['issuer', 'jwks_url', 'audience', 'disable_audience_validation', ...ISSUER_CLAIM_FIELDS];

function isSwitchedOn(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== '';
}

const KNOWN_JWT_SETTINGS: ReadonlySet<string> = new Set([...Object.keys(liteLlmJwtAuthSchema.shape), ...IGNORED_JWT_SETTINGS]);

/**
 * What `LiteLLM_JWTAuth.__init__` refuses, with its messages: LiteLLM does not start on such a
 * config (JWT auth on or not), and a misspelt setting read as absent here would change who a
 * caller is (`user_id_upsrt`) without a word.
 */
function refuseWhatLiteLlmRefuses(auth: LiteLlmJwtAuthConfig): void {
  const where = 'general_settings.litellm_jwtauth';
  const unknown = Object.keys(auth).find((name) => !KNOWN_JWT_SETTINGS.has(name));
  if (unknown !== undefined) throw new ConfigError(`invalid setting '${where}.${unknown}': unknown setting (LiteLLM refuses it too: "Invalid arguments provided")`);
  const given = (value: unknown): boolean => value !== undefined && value !== null;
  if (given(auth.user_roles_jwt_field) !== given(auth.user_allowed_roles)) {
    throw new ConfigError(`invalid setting '${where}.user_allowed_roles': user_allowed_roles must be provided if user_roles_jwt_field is set.`);
  }
  if (given(auth.object_id_jwt_field) && !given(auth.role_mappings)) {
    throw new ConfigError(
      `invalid setting '${where}.role_mappings': if object_id_jwt_field is set, role_mappings must also be set. Needed to infer if the caller is a user or team.`,
    );
  }
  const unregistered = auth.unregistered_jwt_client_behavior;
  if (given(unregistered) && !(UNREGISTERED_JWT_CLIENT_BEHAVIORS as readonly string[]).includes(unregistered as string)) {
    throw new ConfigError(
      `invalid setting '${where}.unregistered_jwt_client_behavior': must be one of ${UNREGISTERED_JWT_CLIENT_BEHAVIORS.join(', ')} (LiteLLM refuses any other value too)`,
    );
  }
  if (given(auth.scope_mappings) && auth.enforce_scope_based_access !== true) {
    throw new ConfigError(`invalid setting '${where}.enforce_scope_based_access': scope_mappings must be set if enforce_scope_based_access is true.`);
  }
}

function staticKeys(entries: readonly (string | Readonly<Record<string, unknown>>)[]): PublicKey[] {
  return entries.map((entry, index) => {
    const where = `tollgate.jwt.public_keys.${index}`;
    if (typeof entry === 'string') {
      try {
        return publicKeyFromPem(entry);
      } catch (error) {
        throw new ConfigError(`invalid setting '${where}': ${(error as Error).message}`);
      }
    }
    const key = publicKeyFromJwk(entry);
    if (key === null) throw new ConfigError(`invalid setting '${where}': not an asymmetric public signature key`);
    return key;
  });
}

/**
 * Newer LiteLLM's `JWTIssuerConfig`: an issuer names its audience or opts out of the check with
 * `disable_audience_validation`, never both, never neither (a silently unchecked audience would
 * accept tokens the same identity provider minted for any other application). Without
 * `jwks_url`, its keys are found through `<issuer>/.well-known/openid-configuration`.
 */
function issuerSettings(issuer: IssuerConfig, index: number): IssuerSettings {
  const audience = issuer.audience ?? null;
  if ((audience === null) !== (issuer.disable_audience_validation === true)) {
    throw new ConfigError(
      `invalid setting 'general_settings.litellm_jwtauth.issuers[${index}].audience': an issuer must name an audience or set disable_audience_validation: true, not both (LiteLLM refuses it too)`,
    );
  }
  const jwksUrl = issuer.jwks_url ?? `${issuer.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  return {
    jwksUrls: [jwksUrl],
    staticKeys: [],
    audience,
    issuer: issuer.issuer,
    fields: {
      userId: issuer.user_id_jwt_field ?? null,
      userEmail: issuer.user_email_jwt_field ?? null,
      teamId: issuer.team_id_jwt_field ?? null,
      teamIds: issuer.team_ids_jwt_field ?? null,
      orgId: issuer.org_id_jwt_field ?? null,
      endUserId: issuer.end_user_id_jwt_field ?? null,
    },
  };
}

function commaList(value: string | null): string[] {
  return (value ?? '').split(',').map((url) => url.trim()).filter((url) => url !== '');
}

/**
 * JWT_PUBLIC_KEY_URL entries must be http(s) URLs. Anything else (a PEM pasted there) could never
 * be fetched: every token would be undecided (UNAVAILABLE) for as long as Tollgate runs, where a
 * startup error says what to fix. LiteLLM fails the same tokens at request time.
 */
function refuseUnfetchable(urls: readonly string[]): void {
  for (const url of urls) {
    let protocol: string | null = null;
    try {
      protocol = new URL(url).protocol;
    } catch {
      protocol = null;
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new ConfigError(
        "invalid setting 'JWT_PUBLIC_KEY_URL': every comma-separated entry must be an http(s) URL of a JWKS or OIDC discovery document (a PEM key belongs in tollgate.jwt.public_keys)",
      );
    }
  }
}

/** LiteLLM's defaults: no mapping, unmapped tokens take the team path, answers cached 300 s. */
function virtualKeyMappingOf(auth: LiteLlmJwtAuthConfig): VirtualKeyMappingSettings | null {
  // The newer name wins when both are given (LiteLLM's alias validator).
  const claimField = auth.virtual_key_claim_field ?? auth.jwt_client_id_field ?? null;
  if (claimField === null) return null;
  return {
    claimField,
    unregistered:
      auth.unregistered_jwt_client_behavior === 'reject' || auth.unregistered_jwt_client_behavior === 'auto_register'
        ? auth.unregistered_jwt_client_behavior
        : 'fallback_team_mapping',
    cacheTtlMs: (auth.virtual_key_mapping_cache_ttl ?? 300) * 1000,
  };
}

export function buildJwtSettings(config: LiteLlmConfig, env: JwtEnvironment): JwtSettings {
  const general = config.general_settings ?? {};
  const auth = general.litellm_jwtauth ?? {};
  const own = config.tollgate?.jwt ?? {};
  const enabled = general.enable_jwt_auth ?? false;
  refuseWhatLiteLlmRefuses(auth);
  if (enabled) {
    for (const name of UNSUPPORTED_JWT_SETTINGS) {
      if (isSwitchedOn(auth[name])) {
        throw new ConfigError(`invalid setting 'general_settings.litellm_jwtauth.${name}': not supported by Tollgate (remove it)`);
      }
    }
    // Newer LiteLLM's option to map an auto-registered client to a key its user already owns (which
    // of several, its own choice): refused rather than minting a key where LiteLLM would reuse one.
    if (auth.auto_register_map_existing_key === true) {
      throw new ConfigError(
        "invalid setting 'general_settings.litellm_jwtauth.auto_register_map_existing_key': not supported by Tollgate (remove it: auto_register then creates a key for each new client)",
      );
    }
    (auth.issuers ?? []).forEach((issuer, i) => {
      for (const [name, value] of Object.entries(issuer)) {
        if (!ISSUER_SETTINGS.includes(name) && isSwitchedOn(value)) {
          throw new ConfigError(
            `invalid setting 'general_settings.litellm_jwtauth.issuers[${i}].${name}': not a per-issuer setting (an issuer entry may set only ${ISSUER_SETTINGS.join(', ')}; set it at the top level of litellm_jwtauth, where it applies to every issuer)`,
          );
        }
      }
    });
  }
  if (enabled) refuseUnfetchable(commaList(env.publicKeyUrl));
  const defaultKeys: KeySourceSettings = {
    jwksUrls: commaList(env.publicKeyUrl),
    staticKeys: staticKeys(own.public_keys ?? []),
    audience: env.audience,
    issuer: env.issuer,
  };
  const issuers = (auth.issuers ?? []).map(issuerSettings);
  const envoyNamespace = own.envoy_metadata_namespace ?? null;
  if (enabled && defaultKeys.jwksUrls.length === 0 && defaultKeys.staticKeys.length === 0 && issuers.length === 0 && envoyNamespace === null) {
    throw new ConfigError(
      "invalid setting 'general_settings.enable_jwt_auth': no way to verify tokens (set JWT_PUBLIC_KEY_URL, tollgate.jwt.public_keys, litellm_jwtauth.issuers or tollgate.jwt.envoy_metadata_namespace)",
    );
  }
  const defaults = config.litellm_settings?.default_internal_user_params ?? {};
  return {
    enabled,
    fields: {
      teamId: auth.team_id_jwt_field ?? null,
      teamIds: auth.team_ids_jwt_field ?? null,
      teamAlias: auth.team_alias_jwt_field ?? null,
      orgId: auth.org_id_jwt_field ?? null,
      orgAlias: auth.org_alias_jwt_field ?? null,
      userId: auth.user_id_jwt_field ?? null,
      userEmail: auth.user_email_jwt_field ?? null,
      userRoles: auth.user_roles_jwt_field ?? null,
      roles: auth.roles_jwt_field ?? null,
      endUserId: auth.end_user_id_jwt_field ?? null,
      objectId: auth.object_id_jwt_field ?? null,
    },
    adminJwtScope: auth.admin_jwt_scope ?? 'litellm_proxy_admin',
    adminAllowedRoutes: auth.admin_allowed_routes ?? DEFAULT_ADMIN_ROUTES,
    teamAllowedRoutes: auth.team_allowed_routes ?? DEFAULT_TEAM_ROUTES,
    teamIdDefault: auth.team_id_default ?? null,
    teamIdUpsert: auth.team_id_upsert ?? false,
    userIdUpsert: auth.user_id_upsert ?? false,
    userAllowedEmailDomain: auth.user_allowed_email_domain ?? null,
    userAllowedRoles: auth.user_allowed_roles ?? null,
    enforceRbac: auth.enforce_rbac ?? false,
    roleMappings: auth.role_mappings?.map((m) => ({ role: m.role, internalRole: m.internal_role })) ?? null,
    rolePermissions: (general.role_permissions ?? []).map((p) => ({ role: p.role, models: p.models ?? null, routes: p.routes ?? null })),
    requireObjectId: general.enforce_rbac ?? false,
    enforceScopeBasedAccess: auth.enforce_scope_based_access ?? false,
    scopeMappings: (auth.scope_mappings ?? []).map((m) => ({ scope: m.scope, models: m.models ?? [] })),
    enforceTeamBasedModelAccess: auth.enforce_team_based_model_access ?? false,
    virtualKeyMapping: virtualKeyMappingOf(auth),
    issuers,
    defaultKeys,
    jwks: {
      ttlMs: (auth.public_key_ttl ?? 600) * 1000,
      staleTtlMs: (auth.public_key_stale_ttl ?? 3600) * 1000,
      fetchTimeoutMs: own.jwks_fetch_timeout_ms ?? 5000,
      refetchMinIntervalMs: (own.jwks_refetch_min_interval_seconds ?? 30) * 1000,
    },
    clockSkewSeconds: own.clock_skew_seconds ?? 0,
    maxTokenBytes: own.max_token_bytes ?? 16_384,
    envoy: { namespace: envoyNamespace, payloadKey: own.envoy_metadata_payload_key ?? 'jwt_payload' },
    newUserDefaults: { userRole: defaults.user_role ?? null, maxBudget: defaults.max_budget ?? null, models: defaults.models ?? [] },
  };
}
