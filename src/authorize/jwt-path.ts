/**
 * The decision for a JWT caller: the JWT pipeline (auth/jwt) names the caller and loads its
 * snapshot; then the same common checks and route-permission checks as for virtual keys run
 * over it (LiteLLM runs `common_checks` for JWTs, with no key-level steps: §3.3 step 12), and
 * the same admission step (LiteLLM's limiter sees a JWT caller's team, user and end-user limits
 * as it does a key's).
 */
import { runChecks } from '../checks/engine';
import { COMMON_CHECKS, ROUTE_PERMISSION_CHECKS } from '../checks/order';
import type { Check } from '../checks/types';
import type { Json } from '../domain/entities';
import type { Policy } from '../config/policy';
import type { Identity } from '../domain/decision';
import type { RequestFacts } from '../domain/request';
import type { JwtAuthenticator, JwtSource } from '../auth/jwt/authenticator';
import type { RequestTelemetry } from '../observability/instrumentation';
import type { SpendOverlay } from '../snapshot/load-snapshot';
import type { Admitter } from '../spend/admission';
import type { Outcome } from './authorize';

/** What a JWT identity goes through once identified: no key, so no key checks. */
export const JWT_CHECKS: readonly Check[] = Object.freeze([...COMMON_CHECKS, ...ROUTE_PERMISSION_CHECKS]);

export interface JwtPathParts {
  readonly authenticator: JwtAuthenticator;
  readonly policy: Policy;
  readonly now: Date;
  readonly telemetry: RequestTelemetry;
  /** Shared spend counters (tollgate.metering), laid over the snapshot as for virtual keys. */
  readonly spendOverlay?: SpendOverlay;
  /** Rate limits and budget reservation after the checks allow (spend/admission.ts). */
  readonly admission?: Admitter;
}

function modelOf(facts: RequestFacts): string | undefined {
  if (facts.model === null) return undefined;
  return typeof facts.model === 'string' ? facts.model : facts.model.join(',');
}

export async function authorizeJwt(parts: JwtPathParts, facts: RequestFacts, source: JwtSource): Promise<Outcome> {
  const { telemetry } = parts;
  const credentialHeader = facts.credential.kind === 'none' ? null : facts.credential.header;
  const model = modelOf(facts);
  const allow = (identity: Identity, metadata?: Readonly<Record<string, Json>>): Outcome => ({
    decision: { kind: 'allow', identity: { ...identity, model }, credentialHeader, ...(metadata === undefined ? {} : { metadata }) },
    refusedBy: null,
  });

  const outcome = await telemetry.phase('load', () => parts.authenticator.authenticate(facts, source, parts.now));
  if (outcome.kind === 'admin') return allow(outcome.identity);
  if (outcome.kind === 'refused') {
    return {
      decision: { kind: 'deny', denial: outcome.denial, identity: { ...outcome.identity, model }, credentialHeader },
      refusedBy: outcome.check,
    };
  }
  const overlay = parts.spendOverlay;
  const snapshot = overlay === undefined ? outcome.snapshot : await telemetry.phase('load', () => overlay(outcome.snapshot));
  const context = { request: facts, snapshot, policy: parts.policy, now: parts.now, keyHash: null };
  const checked = telemetry.phase('checks', () => runChecks(context, JWT_CHECKS, telemetry));
  const admission = checked !== null || parts.admission === undefined ? null : await parts.admission.admit(context);
  const refusal = checked ?? (admission?.kind === 'deny' ? admission : null);
  if (refusal === null) return allow(outcome.identity, admission?.kind === 'admit' ? admission.metadata : undefined);
  return {
    decision: { kind: 'deny', denial: refusal.denial, identity: { ...outcome.identity, model }, credentialHeader },
    refusedBy: refusal.check,
  };
}
