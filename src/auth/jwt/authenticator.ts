/**
 * A JWT caller, from token to the snapshot its common checks run on (`JWTAuthManager.auth_builder`,
 * litellm-auth.md §3.3), in LiteLLM's order:
 *
 *   claims (verified here, or by Envoy's jwt_authn) → role and ids → enforce_rbac / role_permissions
 *   → scope mappings → admin (route list, then allowed without common checks) → team selection
 *   → organization, user (upsert), end user → validate_object_id → a proxy_admin user row
 *   → the snapshot for COMMON_CHECKS.
 *
 * Refusals come back as values; store and JWKS outages are thrown (→ UNAVAILABLE).
 */
import type { Denial, Snapshot } from '../../checks/types';
import type { Policy } from '../../config/policy';
import type { Identity } from '../../domain/decision';
import type { RequestFacts } from '../../domain/request';
import { roleOf } from '../../authorize/user-role';
import type { AuthStore } from '../../store/auth-store';
import type { JwtDirectory } from '../../store/jwt-directory';
import { claimIdentityOf, type ClaimIdentity } from './claim-identity';
import type { Claims } from './claims';
import { loadJwtSnapshot } from './jwt-snapshot';
import { adminRouteRefusal, objectIdRefusal, rbacRefusal, scopeRefusal } from './role-policy';
import type { JwtSettings } from './settings';
import { selectTeam, type JwtLookups } from './team-selection';
import type { TokenVerifier } from './verify';

/** Where the claims come from: a bearer token to verify, or claims Envoy already verified. */
export type JwtSource =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'envoy'; readonly claims: Claims };

export type JwtOutcome =
  | { readonly kind: 'refused'; readonly check: string; readonly denial: Denial; readonly identity: Identity }
  /** A proxy admin (admin scope, or a user row with role proxy_admin): allowed, no common checks. */
  | { readonly kind: 'admin'; readonly identity: Identity }
  /** Everyone else: the common checks decide over `snapshot`. */
  | { readonly kind: 'resolved'; readonly snapshot: Snapshot; readonly identity: Identity };

export interface JwtAuthenticatorDeps {
  readonly settings: JwtSettings;
  readonly policy: Policy;
  readonly store: AuthStore;
  readonly directory: JwtDirectory;
  readonly verifier: TokenVerifier;
}

function known(value: string | null): string | undefined {
  return value ?? undefined;
}

export class JwtAuthenticator {
  constructor(private readonly deps: JwtAuthenticatorDeps) {}

  get settings(): JwtSettings {
    return this.deps.settings;
  }

  async authenticate(facts: RequestFacts, source: JwtSource, now: Date): Promise<JwtOutcome> {
    const claims = source.kind === 'envoy' ? { claims: source.claims } : await this.verified(source.token);
    if (!('claims' in claims)) return claims;
    const identity = claimIdentityOf(claims.claims, this.deps.settings);
    if ('status' in identity) return this.refuse('jwt_claims', identity, {});
    const claimed: Identity = { userId: known(identity.userId), orgId: known(identity.orgId), endUserId: known(identity.endUserId) };

    const policyRefusal = rbacRefusal(identity, this.deps.settings, facts) ?? scopeRefusal(identity, this.deps.settings, facts);
    if (policyRefusal !== null) return this.refuse('jwt_role_policy', policyRefusal, claimed);
    if (identity.isAdmin) {
      const refusal = adminRouteRefusal(this.deps.settings, facts.route);
      if (refusal !== null) return this.refuse('jwt_admin_routes', refusal, claimed);
      // Seed-era LiteLLM returns before common_checks for admin tokens, as for the master key (README §4.6).
      return { kind: 'admin', identity: { userId: claimed.userId, orgId: claimed.orgId, userRole: 'proxy_admin' } };
    }
    return this.resolve(facts, identity, claimed, now);
  }

  private async resolve(facts: RequestFacts, identity: ClaimIdentity, claimed: Identity, now: Date): Promise<JwtOutcome> {
    const lookups: JwtLookups = { ...this.deps, now };
    const selection = await selectTeam(lookups, identity, facts);
    if (selection.kind === 'refused') return this.refuse('jwt_team', selection.denial, claimed);
    const team = selection.team;
    const withTeam: Identity = { ...claimed, teamId: known(team?.team_id ?? null) };

    const loaded = await loadJwtSnapshot(lookups, identity, team, facts);
    if (loaded.kind === 'refused') return this.refuse(loaded.check, loaded.denial, withTeam);
    const objectRefusal = objectIdRefusal(this.deps.settings, loaded.userId, team?.team_id ?? null);
    if (objectRefusal !== null) return this.refuse('jwt_object_id', objectRefusal, withTeam);

    const snapshot = loaded.snapshot;
    const orgId = claimed.orgId ?? known(snapshot.organization?.organization_id ?? team?.organization_id ?? null);
    const resolved: Identity = { ...withTeam, orgId, userRole: roleOf(snapshot.user) };
    if (snapshot.user?.user_role === 'proxy_admin') return { kind: 'admin', identity: resolved };
    return { kind: 'resolved', snapshot, identity: resolved };
  }

  private async verified(token: string): Promise<{ readonly claims: Claims } | JwtOutcome> {
    const verification = await this.deps.verifier.verify(token);
    if (verification.kind === 'refused') return this.refuse('jwt_verify', verification.denial, {});
    return { claims: verification.claims };
  }

  private refuse(check: string, denial: Denial, identity: Identity): JwtOutcome {
    return { kind: 'refused', check, denial, identity };
  }
}
