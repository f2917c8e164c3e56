/**
 * The decision for a JWT caller: the JWT pipeline (auth/jwt) names the caller and loads its
 * snapshot; then the same common checks and route-permission checks as for virtual keys run
 * over it (LiteLLM runs `common_checks` for JWTs, with no key-level steps: §3.3 step 12), and
 * the same admission step. LiteLLM's limiter sees a JWT caller's team and user limits as it does
 * a key's; its JWT path does not copy the end user's limits onto the token, so it skips them.
 * Tollgate applies them (docs/budgets.md): the operator set them on that customer.
 */
import { runChecks } from '../checks/engine';
import { COMMON_CHECKS, ROUTE_PERMISSION_CHECKS } from '../checks/order';
import { userModelBudget } from '../checks/user-model-budget';
import { teamModelBudget } from '../checks/team-model-budget';
import type { Check, CheckContext, Denial, Snapshot } from '../checks/types';
import type { Json } from '../domain/entities';
import type { Policy } from '../config/policy';
import type { Identity } from '../domain/decision';
import type { RequestFacts } from '../domain/request';
import { identityModelOf } from './identity-model';
import type { JwtAuthenticator, JwtOutcome, JwtSource } from '../auth/jwt/authenticator';
import { andThen, type MaybePromise } from '../util/maybe-promise';
import type { RequestTelemetry } from '../observability/instrumentation';
import type { SpendOverlay } from '../snapshot/load-snapshot';
import type { Admitter } from '../spend/admission';
import type { Outcome } from './authorize';

/**
 * What a JWT identity goes through once identified: no key, so no key checks, but the user's
 * per-model budget, which the newest LiteLLM checks before its JWT branch returns, and the team's
 * (checks/team-model-budget.ts).
 */
export const JWT_CHECKS: readonly Check[] = Object.freeze([userModelBudget, teamModelBudget, ...COMMON_CHECKS, ...ROUTE_PERMISSION_CHECKS]);

export interface JwtPathParts {
  readonly authenticator: JwtAuthenticator;
  readonly policy: Policy;
  readonly now: Date;
  readonly telemetry: RequestTelemetry;
  /** Shared spend counters (tollgate.metering), laid over the snapshot as for virtual keys. */
  readonly spendOverlay?: SpendOverlay;
  /** Rate limits and budget reservation after the checks allow (spend/admission.ts). */
  readonly admission?: Admitter;
  /**
   * With `litellm_settings.validate_end_user_id_in_db` on and an end user named: `decide` on the
   * facts with that end user settled, told whether the token was accepted (authorize.ts). Settled
   * after authentication, which never reads the request's end user, so that a token refused at
   * verification has no user lookup made for it (snapshot/end-user-validation.ts).
   */
  readonly settlingEndUser?: (credentialAccepted: boolean, decide: (facts: RequestFacts) => MaybePromise<Outcome>) => MaybePromise<Outcome>;
  /**
   * A token `virtual_key_claim_field` mapped to a key: decided as that key (authorize.ts), its end
   * user settled there as a key's is.
   */
  readonly decideMappedKey?: (keyHash: string) => MaybePromise<Outcome>;
}

function modelOf(facts: RequestFacts): string | undefined {
  return identityModelOf(facts);
}

/** At once for a warm caller (token, team and entities in memory, admission answered from memory), else a promise. */
export function authorizeJwt(parts: JwtPathParts, facts: RequestFacts, source: JwtSource): MaybePromise<Outcome> {
  const { telemetry } = parts;
  const authenticated = telemetry.observesPhases
    ? telemetry.phase('load', () => parts.authenticator.authenticate(facts, source, parts.now, parts.policy))
    : parts.authenticator.authenticate(facts, source, parts.now, parts.policy);
  return andThen(authenticated, (outcome) => afterAuthentication(parts, facts, outcome));
}

function afterAuthentication(parts: JwtPathParts, facts: RequestFacts, outcome: JwtOutcome): MaybePromise<Outcome> {
  if (outcome.kind === 'mapped_key') {
    if (parts.decideMappedKey === undefined) throw new Error('a JWT was mapped to a virtual key with no virtual-key path to decide it');
    return parts.decideMappedKey(outcome.keyHash);
  }
  const settling = parts.settlingEndUser;
  if (settling === undefined) return decideAuthenticated(parts, facts, outcome);
  // Only a token that fails verification is no credential at all: a verified one refused later
  // (role, team, …) was issued to someone, as a blocked key was.
  const accepted = outcome.kind !== 'refused' || outcome.check !== 'jwt_verify';
  return settling(accepted, (settled) => decideAuthenticated(parts, settled, outcome));
}

function decideAuthenticated(parts: JwtPathParts, facts: RequestFacts, outcome: Exclude<JwtOutcome, { kind: 'mapped_key' }>): MaybePromise<Outcome> {
  if (outcome.kind === 'admin') return allow(facts, outcome.identity);
  if (outcome.kind === 'refused') return deny(facts, outcome.identity, outcome.denial, outcome.check);
  const overlay = parts.spendOverlay;
  if (overlay === undefined) return checkAndAdmit(parts, facts, outcome.identity, outcome.snapshot);
  const { telemetry } = parts;
  const overlaid = telemetry.observesPhases ? telemetry.phase('load', () => overlay(outcome.snapshot, facts)) : overlay(outcome.snapshot, facts);
  return overlaid.then((snapshot) => checkAndAdmit(parts, facts, outcome.identity, snapshot));
}

/** The common and route-permission checks, then admission (rate limits, budget reservation). */
function checkAndAdmit(parts: JwtPathParts, facts: RequestFacts, identity: Identity, snapshot: Snapshot): MaybePromise<Outcome> {
  const { telemetry } = parts;
  const context: CheckContext = { request: facts, snapshot, policy: parts.policy, now: parts.now, keyHash: null };
  const refusal = telemetry.observesPhases
    ? telemetry.phase('checks', () => runChecks(context, JWT_CHECKS, telemetry))
    : runChecks(context, JWT_CHECKS, telemetry);
  if (refusal !== null) return deny(facts, identity, refusal.denial, refusal.check);
  if (parts.admission === undefined) return allow(facts, identity);
  return andThen(parts.admission.admit(context), (admission) =>
    admission.kind === 'deny' ? deny(facts, identity, admission.denial, admission.check) : allow(facts, identity, admission.metadata),
  );
}

/** The header the token came in: on a mapped pass-through, the one before `litellm_user_api_key` replaced it. */
function credentialHeaderOf(facts: RequestFacts): string | null {
  const credential = facts.jwtCredential ?? facts.credential;
  return credential.kind === 'none' ? null : credential.header;
}

function allow(facts: RequestFacts, identity: Identity, metadata?: Readonly<Record<string, Json>>): Outcome {
  const decided: Identity = { ...identity, model: modelOf(facts) };
  const credentialHeader = credentialHeaderOf(facts);
  return {
    decision:
      metadata === undefined
        ? { kind: 'allow', identity: decided, credentialHeader }
        : { kind: 'allow', identity: decided, credentialHeader, metadata },
    refusedBy: null,
  };
}

function deny(facts: RequestFacts, identity: Identity, denial: Denial, check: string): Outcome {
  return {
    decision: { kind: 'deny', denial, identity: { ...identity, model: modelOf(facts) }, credentialHeader: credentialHeaderOf(facts) },
    refusedBy: check,
  };
}
