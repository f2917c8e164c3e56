/**
 * A JWT caller, from token to the snapshot its common checks run on (`JWTAuthManager.auth_builder`,
 * litellm-auth.md §3.3), in LiteLLM's order:
 *
 *   claims (verified here, or by Envoy's jwt_authn) → the claim's mapped virtual key, if any
 *   (key-mapping.ts: a mapped token is decided as that key) → role and ids → enforce_rbac / role_permissions
 *   → scope mappings → admin (route list, then allowed without common checks) → team selection
 *   → organization, user (upsert), end user → validate_object_id → a proxy_admin user row
 *   → the snapshot for COMMON_CHECKS.
 *
 * Refusals come back as values; store and JWKS outages are thrown (→ UNAVAILABLE).
 */
import type { Denial, Snapshot } from '../../checks/types';
import { authErrorFromHttpException, authErrorFromHttpExceptionDict } from '../../checks/errors';
import type { Team } from '../../domain/entities';
import type { Policy } from '../../config/policy';
import type { Identity } from '../../domain/decision';
import type { RequestFacts } from '../../domain/request';
import { roleOf } from '../../authorize/user-role';
import type { AuthStore } from '../../store/auth-store';
import { ClientKeyCreationError, ClientRegistrationRaceError, type JwtDirectory } from '../../store/jwt-directory';
import { claimIdentityOf, type ClaimIdentity } from './claim-identity';
import { resolveKeyMapping } from './key-mapping';
import type { Claims } from './claims';
import { loadJwtSnapshot } from './jwt-snapshot';
import { adminRouteRefusal, objectIdRefusal, rbacRefusal, scopeRefusal } from './role-policy';
import type { JwtSettings } from './settings';
import { selectTeam, type JwtLookups } from './team-selection';
import type { TokenVerifier } from './verify';
import { andThen, type MaybePromise } from '../../util/maybe-promise';

/** Where the claims come from: a bearer token to verify, or claims Envoy already verified. */
export type JwtSource =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'envoy'; readonly claims: Claims };

export type JwtOutcome =
  | { readonly kind: 'refused'; readonly check: string; readonly denial: Denial; readonly identity: Identity }
  /** A proxy admin (admin scope, or a user row with role proxy_admin): allowed, no common checks. */
  | { readonly kind: 'admin'; readonly identity: Identity }
  /**
   * `virtual_key_claim_field` mapped the token to a virtual key: the key's pipeline decides, as if
   * that key had been presented (authorize.ts).
   */
  | { readonly kind: 'mapped_key'; readonly keyHash: string; readonly identity: Identity }
  /** Everyone else: the common checks decide over `snapshot`. */
  | { readonly kind: 'resolved'; readonly snapshot: Snapshot; readonly identity: Identity };

export interface JwtAuthenticatorDeps {
  readonly settings: JwtSettings;
  readonly policy: Policy;
  readonly store: AuthStore;
  readonly directory: JwtDirectory;
  readonly verifier: TokenVerifier;
  /**
   * Told why auto_register could not create a client's key (the client is refused with 500, which
   * says nothing of the database behind it); never given the claim's value, which may be an e-mail.
   */
  readonly registrationFailed?: (claimName: string, cause: unknown) => void;
}

function known(value: string | null): string | undefined {
  return value ?? undefined;
}

export class JwtAuthenticator {
  constructor(private readonly deps: JwtAuthenticatorDeps) {}

  get settings(): JwtSettings {
    return this.deps.settings;
  }

  /**
   * At once when the token and every entity it names are in memory (a warm caller), else a
   * promise. `policy`: the one the Authorizer decides by now (its model list may have grown from
   * the database since start), for choosing among teams by the model.
   */
  authenticate(facts: RequestFacts, source: JwtSource, now: Date, policy: Policy = this.deps.policy): MaybePromise<JwtOutcome> {
    if (source.kind === 'envoy') return this.fromClaims(facts, source.claims, now, policy);
    return andThen(this.deps.verifier.verify(source.token), (verification) =>
      verification.kind === 'refused' ? this.refuse('jwt_verify', verification.denial, {}) : this.fromClaims(facts, verification.claims, now, policy),
    );
  }

  private fromClaims(facts: RequestFacts, claims: Claims, now: Date, policy: Policy): MaybePromise<JwtOutcome> {
    const mapping = this.deps.settings.virtualKeyMapping;
    if (mapping === null) return this.fromUnmappedClaims(facts, claims, now, policy);
    // LiteLLM looks the mapping up before auth_builder: neither the admin scope nor the role
    // policy of a mapped token is read, and a refusal here comes before theirs.
    return andThen(resolveKeyMapping(mapping, this.deps.store, claims), (resolved): MaybePromise<JwtOutcome> => {
      if (resolved.kind === 'mapped') return { kind: 'mapped_key', keyHash: resolved.keyHash, identity: { keyHash: resolved.keyHash } };
      if (resolved.kind === 'refused') return this.refuse('jwt_key_mapping', resolved.denial, {});
      if (resolved.kind === 'register') {
        return andThen(this.fromUnmappedClaims(facts, claims, now, policy), (outcome) => this.registered(outcome, claims, resolved.claimName, resolved.claimValue));
      }
      return this.fromUnmappedClaims(facts, claims, now, policy);
    });
  }

  /**
   * auto_register, as LiteLLM defers it (`_PendingAutoRegister`): only a token the whole JWT policy
   * resolved to a caller gets a key (signature, roles and scopes, team, user, object id: a refusal
   * creates nothing), and never a proxy admin's, which needs none. The key is its user's, team's and
   * organization's; the request is then decided as that key, as a mapped token's is, by the same
   * facts as its later calls: the end user the request names, never the token's end-user claim,
   * which LiteLLM stamps on the new key for its first call alone (`end_user_id=`).
   */
  private registered(outcome: JwtOutcome, claims: Claims, claimName: string, claimValue: string): MaybePromise<JwtOutcome> {
    if (outcome.kind !== 'resolved') return outcome;
    const { identity, snapshot } = outcome;
    // A token of group teams none of which this request selected (a route or model none of them
    // may call, a call without a model) would get a key of no team, which later calls would use
    // without any of its teams' limits: this request is decided as the unmapped token it is, and
    // the client is registered by the first request that selects one of its teams.
    if (snapshot.team === null && namesGroupTeams(claims, this.deps.settings)) return outcome;
    const registering = this.deps.directory.registerClientKey({
      claimName,
      claimValue,
      // The user the policy resolved: a row found by e-mail or sso_user_id has an id of its own.
      userId: snapshot.user?.user_id ?? identity.userId ?? null,
      teamId: identity.teamId ?? null,
      organizationId: identity.orgId ?? null,
    });
    return registering.then(
      (keyHash): JwtOutcome => {
        if (keyHash !== null) return { kind: 'mapped_key', keyHash, identity: { keyHash } };
        // An inactive mapping holds the value (or one MariaDB's collation takes for it): its client
        // stays unregistered, as an unmapped one under reject.
        return this.refuse('jwt_key_mapping', authErrorFromHttpException(403, `JWT Key Mapping: No registered mapping for ${claimName}='${claimValue}'. Access denied.`), identity);
      },
      (error: unknown): JwtOutcome => {
        // Decided another way, the client would get less than the key it is held to: a retry.
        if (error instanceof ClientRegistrationRaceError) return this.refuse('jwt_key_mapping', authErrorFromHttpException(503, error.message), identity);
        // LiteLLM's generate_key_helper_fn answers any failure with HTTPException(500): a refusal,
        // not the outage allow_requests_on_db_unavailable would let through as the proxy admin.
        if (error instanceof ClientKeyCreationError) {
          this.deps.registrationFailed?.(claimName, error.cause);
          return this.refuse('jwt_key_mapping', authErrorFromHttpExceptionDict(500, { error: 'Internal Server Error.' }), identity);
        }
        throw error;
      },
    );
  }

  private fromUnmappedClaims(facts: RequestFacts, claims: Claims, now: Date, policy: Policy): MaybePromise<JwtOutcome> {
    const identity = claimIdentityOf(claims, this.deps.settings);
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
    const lookups: JwtLookups = { ...this.deps, policy, now };
    return andThen(selectTeam(lookups, identity, facts), (selection) =>
      selection.kind === 'refused' ? this.refuse('jwt_team', selection.denial, claimed) : this.withTeam(lookups, facts, identity, claimed, selection.team),
    );
  }

  private withTeam(lookups: JwtLookups, facts: RequestFacts, identity: ClaimIdentity, claimed: Identity, team: Team | null): MaybePromise<JwtOutcome> {
    const withTeam: Identity = { ...claimed, teamId: known(team?.team_id ?? null) };
    return andThen(loadJwtSnapshot(lookups, identity, team, facts), (loaded): JwtOutcome => {
      if (loaded.kind === 'refused') return this.refuse(loaded.check, loaded.denial, withTeam);
      const objectRefusal = objectIdRefusal(this.deps.settings, loaded.userId, team?.team_id ?? null);
      if (objectRefusal !== null) return this.refuse('jwt_object_id', objectRefusal, withTeam);

      const snapshot = loaded.snapshot;
      const orgId = claimed.orgId ?? known(snapshot.organization?.organization_id ?? team?.organization_id ?? null);
      const resolved: Identity = { ...withTeam, orgId, userRole: roleOf(snapshot.user) };
      if (snapshot.user?.user_role === 'proxy_admin') return { kind: 'admin', identity: resolved };
      return { kind: 'resolved', snapshot, identity: resolved };
    });
  }

  private refuse(check: string, denial: Denial, identity: Identity): JwtOutcome {
    return { kind: 'refused', check, denial, identity };
  }
}

/** Whether the token names group teams (`team_ids_jwt_field`): the one kind of team claim that may select none. */
function namesGroupTeams(claims: Claims, settings: JwtSettings): boolean {
  const identity = claimIdentityOf(claims, settings);
  return !('status' in identity) && identity.groupTeamIds.length > 0;
}
