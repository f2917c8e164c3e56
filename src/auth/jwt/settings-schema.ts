/**
 * The YAML shape of JWT auth: `general_settings.litellm_jwtauth` (LiteLLM's `LiteLLM_JWTAuth`,
 * litellm-auth.md §3.1), `general_settings.role_permissions` and Tollgate's own `tollgate.jwt`.
 * Only zod here, so `config/litellm-config.ts` can embed it without pulling in the JWT code.
 */
import { z } from 'zod';

const optionalText = z.string().nullish();
const stringList = z.array(z.string());

/** LiteLLM's `RBAC_ROLES`: the roles a JWT can map to. */
export const RBAC_ROLES = ['proxy_admin', 'team', 'internal_user'] as const;
export type RbacRole = (typeof RBAC_ROLES)[number];
const rbacRole = z.enum(RBAC_ROLES);

/**
 * The claim paths newer LiteLLM reads from an issuer entry in place of the top-level ones
 * (`JWTHandler._apply_issuer_claim_mappings`): every other setting stays global.
 */
export const ISSUER_CLAIM_FIELDS = [
  'user_id_jwt_field',
  'user_email_jwt_field',
  'team_id_jwt_field',
  'team_ids_jwt_field',
  'org_id_jwt_field',
  'end_user_id_jwt_field',
] as const;

/**
 * `JWTIssuerConfig` [newer]: the keys and audience for one `iss`, and that issuer's claim paths.
 * Without `jwks_url` the keys come from the issuer's OIDC discovery document; `audience` (one or
 * a list) is required unless `disable_audience_validation` says so (settings.ts refuses the rest).
 */
const issuerSchema = z.looseObject({
  issuer: z.string().min(1),
  jwks_url: z.url().nullish(),
  audience: z.union([z.string(), z.array(z.string())]).nullish(),
  disable_audience_validation: z.boolean().nullish(),
  user_id_jwt_field: optionalText,
  user_email_jwt_field: optionalText,
  team_id_jwt_field: optionalText,
  team_ids_jwt_field: optionalText,
  org_id_jwt_field: optionalText,
  end_user_id_jwt_field: optionalText,
});
export type IssuerConfig = z.infer<typeof issuerSchema>;

/**
 * Settings LiteLLM has and Tollgate does not reproduce. Each would change who the caller is or
 * what it may do, so ignoring one silently could let through what LiteLLM refuses: a value that
 * turns one on is a startup error instead (see `unsupportedJwtSettings`).
 */
export const UNSUPPORTED_JWT_SETTINGS = [
  'custom_validate',
  'oidc_userinfo_enabled',
  'routing_overrides',
  'sync_user_role_and_teams',
  'team_claim_fallback',
  'fallback_to_db_teams',
  'jwt_litellm_role_map',
] as const;

/**
 * Settings of newer LiteLLM versions that change no decision Tollgate makes (the SSO login page,
 * caches of features Tollgate refuses anyway): known, so not an unknown setting, and ignored.
 */
export const IGNORED_JWT_SETTINGS = [
  'upsert_sso_user_to_team',
  'oidc_userinfo_endpoint',
  'oidc_userinfo_cache_ttl',
] as const;

/**
 * `UnregisteredJWTClientBehavior`: what a token whose claim maps to no key gets: the team path
 * (`fallback_team_mapping`), a 403 (`reject`), or a key and a mapping created for it once the
 * token has passed the JWT policy (`auto_register`, auth/jwt/authenticator.ts).
 */
export const UNREGISTERED_JWT_CLIENT_BEHAVIORS = ['fallback_team_mapping', 'reject', 'auto_register'] as const;

export const liteLlmJwtAuthSchema = z.looseObject({
  admin_jwt_scope: z.string().nullish(),
  admin_allowed_routes: stringList.nullish(),
  team_id_jwt_field: optionalText,
  team_id_default: optionalText,
  team_id_upsert: z.boolean().nullish(),
  team_ids_jwt_field: optionalText,
  team_alias_jwt_field: optionalText,
  team_allowed_routes: stringList.nullish(),
  org_id_jwt_field: optionalText,
  org_alias_jwt_field: optionalText,
  user_id_jwt_field: optionalText,
  user_email_jwt_field: optionalText,
  user_allowed_email_domain: optionalText,
  user_roles_jwt_field: optionalText,
  user_allowed_roles: stringList.nullish(),
  user_id_upsert: z.boolean().nullish(),
  end_user_id_jwt_field: optionalText,
  public_key_ttl: z.number().nonnegative().nullish(),
  public_key_stale_ttl: z.number().nonnegative().nullish(),
  public_allowed_routes: stringList.nullish(),
  enforce_rbac: z.boolean().nullish(),
  roles_jwt_field: optionalText,
  role_mappings: z.array(z.looseObject({ role: z.string(), internal_role: rbacRole })).nullish(),
  object_id_jwt_field: optionalText,
  scope_mappings: z
    .array(z.looseObject({ scope: z.string(), models: stringList.nullish(), routes: stringList.nullish() }))
    .nullish(),
  enforce_scope_based_access: z.boolean().nullish(),
  enforce_team_based_model_access: z.boolean().nullish(),
  issuers: z.array(issuerSchema).nullish(),
  // JWT → virtual-key mapping [newer]: jwt_client_id_field is the older name of virtual_key_claim_field.
  virtual_key_claim_field: optionalText,
  jwt_client_id_field: optionalText,
  virtual_key_mapping_cache_ttl: z.number().nonnegative().nullish(),
  auto_register_map_existing_key: z.boolean().nullish(),
  unregistered_jwt_client_behavior: z.string().nullish(),
  // Accepted so a LiteLLM config loads unchanged; a value that switches one on is refused.
  custom_validate: z.unknown().optional(),
  oidc_userinfo_enabled: z.boolean().nullish(),
  routing_overrides: z.unknown().optional(),
  sync_user_role_and_teams: z.boolean().nullish(),
  team_claim_fallback: z.boolean().nullish(),
  fallback_to_db_teams: z.boolean().nullish(),
  jwt_litellm_role_map: z.unknown().optional(),
});
export type LiteLlmJwtAuthConfig = z.infer<typeof liteLlmJwtAuthSchema>;

/** `general_settings.role_permissions` (LiteLLM `RoleBasedPermissions`). */
export const rolePermissionsSchema = z.array(
  z.looseObject({ role: rbacRole, models: stringList.nullish(), routes: stringList.nullish() }),
);

/** A static public key: PEM text (SPKI public key or X.509 certificate) or a JWK. */
const staticKeySchema = z.union([z.string().min(1), z.looseObject({ kty: z.string() })]);

/** `tollgate.jwt`: what LiteLLM has no setting for. */
export const tollgateJwtSchema = z.strictObject({
  envoy_metadata_namespace: z.string().min(1).nullish(),
  envoy_metadata_payload_key: z.string().min(1).nullish(),
  clock_skew_seconds: z.number().nonnegative().max(300).nullish(),
  max_token_bytes: z.number().int().min(256).max(1_048_576).nullish(),
  jwks_fetch_timeout_ms: z.number().int().positive().max(60_000).nullish(),
  jwks_refetch_min_interval_seconds: z.number().nonnegative().max(3600).nullish(),
  public_keys: z.array(staticKeySchema).nullish(),
});
export type TollgateJwtConfig = z.infer<typeof tollgateJwtSchema>;

/** `litellm_settings.default_internal_user_params`, the fields that change a decision. */
export const defaultInternalUserParamsSchema = z.looseObject({
  user_role: z.string().nullish(),
  max_budget: z.number().nullish(),
  models: stringList.nullish(),
});
