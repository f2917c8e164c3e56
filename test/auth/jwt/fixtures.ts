/** Builders for JWT unit tests: settings from LiteLLM-shaped config, a verifier over a real JWKS URL. */
import { liteLlmConfigSchema } from '../../../src/config/litellm-config';
import { buildJwtSettings, type JwtEnvironment, type JwtSettings } from '../../../src/auth/jwt/settings';
import { JwksCache } from '../../../src/auth/jwt/jwks-cache';
import { httpJwksFetcher } from '../../../src/auth/jwt/jwks-fetch';
import { TokenVerifier } from '../../../src/auth/jwt/verify';

export interface JwtConfigParts {
  /** `general_settings.litellm_jwtauth`. */
  readonly jwtauth?: Record<string, unknown>;
  /** Other `general_settings` keys (role_permissions, enforce_rbac, …). */
  readonly general?: Record<string, unknown>;
  /** `tollgate.jwt`. */
  readonly tollgate?: Record<string, unknown>;
  readonly litellm?: Record<string, unknown>;
  readonly env?: Partial<JwtEnvironment>;
}

/** JWT settings as `tollgate serve` would build them; JWT auth on, keys from an unused URL by default. */
export function jwtSettings(parts: JwtConfigParts = {}): JwtSettings {
  const config = liteLlmConfigSchema.parse({
    general_settings: { enable_jwt_auth: true, litellm_jwtauth: parts.jwtauth ?? {}, ...(parts.general ?? {}) },
    litellm_settings: parts.litellm ?? {},
    tollgate: { jwt: parts.tollgate ?? {} },
  });
  return buildJwtSettings(config, {
    publicKeyUrl: 'http://127.0.0.1:9/unused-jwks',
    audience: null,
    issuer: null,
    ...(parts.env ?? {}),
  });
}

export function aVerifier(settings: JwtSettings): TokenVerifier {
  return new TokenVerifier(settings, new JwksCache(settings.jwks, httpJwksFetcher));
}
