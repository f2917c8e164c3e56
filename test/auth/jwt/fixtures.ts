/** Builders for JWT unit tests: settings from LiteLLM-shaped config, a verifier over a real JWKS URL. */
import { CompactSign } from 'jose';
import { liteLlmConfigSchema } from '../../../src/config/litellm-config';
import { buildJwtSettings, type JwtEnvironment, type JwtSettings } from '../../../src/auth/jwt/settings';
import { JwksCache } from '../../../src/auth/jwt/jwks-cache';
import { httpJwksFetcher } from '../../../src/auth/jwt/jwks-fetch';
import { TokenVerifier } from '../../../src/auth/jwt/verify';
import type { Team, User } from '../../../src/domain/entities';
import { ClientKeyCreationError, ClientRegistrationRaceError, type JwtDirectory, type NewJwtClientKey, type NewJwtUser } from '../../../src/store/jwt-directory';
import { aKey, aTeam, aUser } from '../../checks/fixtures';
import type { MemoryStore } from '../../support/memory-store';
import type { SigningKey } from '../../support/jwt';

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

/** A JwtDirectory over plain maps that records calls, for authenticator tests without a database. */
export class MemoryDirectory implements JwtDirectory {
  readonly calls: string[] = [];
  readonly usersBySso = new Map<string, User>();
  readonly usersByEmail = new Map<string, User>();
  readonly teamAliases = new Map<string, string[]>();
  readonly orgAliases = new Map<string, string[]>();
  /** Ids the database cannot give a row of their own (another row's id under its collation). */
  readonly takenIds = new Set<string>();

  constructor(private readonly store: MemoryStore) {}

  findUserBySsoIdOrEmail(sso: string | null, email: string | null): Promise<User | null> {
    this.calls.push(`findUserBySsoIdOrEmail:${sso}:${email}`);
    return Promise.resolve((sso !== null ? this.usersBySso.get(sso) : undefined) ?? (email !== null ? this.usersByEmail.get(email.toLowerCase()) : undefined) ?? null);
  }

  upsertUser(input: NewJwtUser): Promise<User | null> {
    this.calls.push(`upsertUser:${input.userId}`);
    if (this.takenIds.has(input.userId)) return Promise.resolve(null);
    const user = aUser({ user_id: input.userId, user_email: input.email, user_role: input.role, max_budget: input.maxBudget, models: [...input.models] });
    this.store.users.set(input.userId, user);
    return Promise.resolve(user);
  }

  upsertTeam(teamId: string): Promise<Team | null> {
    this.calls.push(`upsertTeam:${teamId}`);
    if (this.takenIds.has(teamId)) return Promise.resolve(null);
    const team = aTeam({ team_id: teamId });
    this.store.teams.set(teamId, team);
    return Promise.resolve(team);
  }

  teamIdsWithAlias(alias: string): Promise<string[]> {
    return Promise.resolve(this.teamAliases.get(alias) ?? []);
  }

  organizationIdsWithAlias(alias: string): Promise<string[]> {
    return Promise.resolve(this.orgAliases.get(alias) ?? []);
  }

  /** Registered clients by `<claim name>=<claim value>`: the key hash each was given (null: it cannot have one). */
  readonly clientKeys = new Map<string, string | null>();

  /** The next registration loses its race to a mapping that is gone again (ClientRegistrationRaceError). */
  registrationRace = false;

  /** The next registration's writes fail (ClientKeyCreationError). */
  registrationFailure = false;

  registerClientKey(input: NewJwtClientKey): Promise<string | null> {
    if (this.registrationFailure) return Promise.reject(new ClientKeyCreationError(input.claimName, input.claimValue, new Error('connection lost')));
    if (this.registrationRace) return Promise.reject(new ClientRegistrationRaceError(input.claimName, input.claimValue));
    this.calls.push(`registerClientKey:${input.claimName}=${input.claimValue}:${input.userId}:${input.teamId}:${input.organizationId}`);
    const name = `${input.claimName}=${input.claimValue}`;
    if (!this.clientKeys.has(name)) {
      const token = `auto-${this.clientKeys.size + 1}`.padEnd(64, '0');
      this.clientKeys.set(name, token);
      this.store.keys.set(token, aKey({ token, user_id: input.userId, team_id: input.teamId, organization_id: input.organizationId, metadata: { auto_registered: true } }));
    }
    return Promise.resolve(this.clientKeys.get(name) ?? null);
  }
}

/**
 * A token signed over this exact payload text, as an identity provider wrote it: `1.0` stays `1.0`
 * (SignJWT would JSON.stringify the claims, printing it `1`). `exp` is added an hour ahead unless the text has one.
 */
export async function aTokenOfText(key: SigningKey, payload: string): Promise<string> {
  const text = payload.includes('"exp"') ? payload : payload.replace(/^\s*\{/, `{"exp":${Math.floor(Date.now() / 1000) + 3600},`);
  return new CompactSign(new TextEncoder().encode(text)).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
}
