/**
 * One request's decision, transport-free:
 * request facts → proxy-wide pre-checks → caller → snapshot (cache or DB) → ordered checks → Decision.
 * Infrastructure failures propagate as exceptions; the server maps them to "cannot decide".
 */
import { runChecks, type CheckRefusal } from '../checks/engine';
import { invalidJsonBody, invalidJsonDenial } from '../checks/invalid-json-body';
import { PRE_DB_CHECKS, PRE_KEY_CHECKS, VIRTUAL_KEY_PIPELINE } from '../checks/order';
import type { Check, CheckContext, Snapshot } from '../checks/types';
import type { Policy } from '../config/policy';
import { modelNameForModelId } from '../checks/model-router';
import type { Decision, Identity } from '../domain/decision';
import type { Json } from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import { identityModelOf } from './identity-model';
import { identifyCaller } from '../auth/identify';
import { isPublicRoute } from '../routes/classify';
import { isCorsPreflight } from './cors-preflight';
import type { JwtAuthenticator } from '../auth/jwt/authenticator';
import { authorizeJwt, type JwtPathParts } from './jwt-path';
import { MAPPED_KEY_CHECKS, mappedKeyNotFound, mappedKeyShortcut } from './mapped-key';
import { EMPTY_SNAPSHOT, loadSnapshot, type SpendOverlay } from '../snapshot/load-snapshot';
import type { Admission, Admitter } from '../spend/admission';
import type { AuthStore } from '../store/auth-store';
import { StoreUnavailableError } from '../store/unavailable';
import { andThen, isPromise, type MaybePromise } from '../util/maybe-promise';
import { confirmedEndUserId, keptEndUserId, validatedEndUserId, validatesEndUserId } from '../snapshot/end-user-validation';
import { roleOf } from './user-role';
import { NOOP_INSTRUMENTATION, type RequestTelemetry } from '../observability/instrumentation';
import { budgetAlerts } from '../alerts/budget-alerts';
import type { AlertSink } from '../alerts/alert-emitter';

export interface AuthorizerOptions {
  readonly store: AuthStore;
  readonly policy: Policy;
  readonly masterKey: string | null;
  /** Receives each virtual-key request's budget alerts (never denials); sends them off the request path. */
  readonly alerts?: AlertSink;
  /** Present when general_settings.enable_jwt_auth is on. */
  readonly jwt?: JwtAuthenticator | null;
  readonly now?: () => Date;
  /** Shared spend counters laid over the snapshot before the checks (tollgate.metering). */
  readonly spendOverlay?: SpendOverlay;
  /** After the checks allow a virtual key or a JWT caller: rate limits and budget reservation, atomically (spend/admission.ts). */
  readonly admission?: Admitter;
}

export interface Outcome {
  readonly decision: Decision;
  /** The check that refused (or "identify"); null when allowed. */
  readonly refusedBy: string | null;
  /**
   * The request facts the decision was made on, when they are not the ones parsed:
   * `validate_end_user_id_in_db` dropped the end user the request named. The identity headers, the
   * dynamic metadata and spend must then read these, so that no end user reaches them either.
   */
  readonly facts?: RequestFacts;
}

/** The pipeline after the pre-DB checks, which run for every caller before identification. */
const VIRTUAL_KEY_CHECKS = VIRTUAL_KEY_PIPELINE.filter((check) => !PRE_DB_CHECKS.includes(check));

/** How a key came to be decided: presented (`sk-…`), or named by a JWT's mapping (mapped-key.ts). */
interface KeyPath {
  readonly checks: readonly Check[];
  /** LiteLLM's `api_key` where it is not the presented credential (CheckContext.keyCredential). */
  readonly keyCredential?: string;
}

const PRESENTED_KEY: KeyPath = Object.freeze({ checks: VIRTUAL_KEY_CHECKS });

export class Authorizer {
  private readonly now: () => Date;
  private policy: Policy;

  constructor(private readonly options: AuthorizerOptions) {
    this.now = options.now ?? (() => new Date());
    this.policy = options.policy;
  }

  /**
   * Router `resolve_model_name_from_model_id` by the policy in force (database models included):
   * the request parser resolves the model ids of managed video and character ids with it.
   */
  readonly resolveModelId = (modelId: string): string | null => modelNameForModelId(this.policy, modelId);

  /** The policy's `general_settings.completion_model` (null: none), which the request parser puts in the facts where it applies. */
  get completionModel(): string | null {
    return this.policy.completionModel ?? null;
  }

  /** Decide from now on by this policy (the model list grew or shrank: server/database-models.ts). */
  usePolicy(policy: Policy): void {
    this.policy = policy;
  }

  async authorize(facts: RequestFacts, telemetry: RequestTelemetry = NOOP_INSTRUMENTATION.startRequest({})): Promise<Outcome> {
    return this.decide(facts, telemetry);
  }

  /**
   * The same decision, returned at once when nothing has to be waited for (a warm key, the master
   * key, a refusal before any lookup), else as a promise. Infrastructure failures throw or reject.
   */
  decide(facts: RequestFacts, telemetry: RequestTelemetry = NOOP_INSTRUMENTATION.startRequest({})): MaybePromise<Outcome> {
    const outcome = this.decideRequest(facts, telemetry);
    if (facts.webSocket !== true) return outcome;
    return isPromise(outcome) ? outcome.then(asWebSocketOutcome) : asWebSocketOutcome(outcome);
  }

  private decideRequest(facts: RequestFacts, telemetry: RequestTelemetry): MaybePromise<Outcome> {
    const credentialHeader = facts.credential.kind === 'none' ? null : facts.credential.header;
    // Answered by LiteLLM's CORS middleware before any of its auth: no check, no identity.
    if (isCorsPreflight(facts)) return allow({}, credentialHeader);
    const model = identityModelOf(facts);

    // One clock read where the decision is made at once: the pre-DB checks and the key's checks
    // then judge expiry and budget windows at the same instant.
    const now = this.now();
    // LiteLLM's pre_db_read_auth_checks run before every branch, master key and public routes
    // included; only its WebSocket auth refuses a handshake without a usable key before them.
    if (facts.credential.kind !== 'refused') {
      const preContext = this.context(facts, EMPTY_SNAPSHOT, null, now);
      const preRefusal = telemetry.observesPhases
        ? telemetry.phase('checks', () => runChecks(preContext, PRE_DB_CHECKS, telemetry))
        : runChecks(preContext, PRE_DB_CHECKS, telemetry);
      if (preRefusal !== null) return deny(preRefusal, { model }, credentialHeader);
    }

    const { masterKey } = this.options;
    const policy = this.policy;
    const jwtSettings = this.options.jwt?.settings ?? null;
    const caller = telemetry.observesPhases
      ? telemetry.phase('identify', () => identifyCaller(facts, masterKey, policy, jwtSettings))
      : identifyCaller(facts, masterKey, policy, jwtSettings);
    switch (caller.kind) {
      case 'refused':
        return deny({ check: 'identify', denial: caller.denial }, { model }, credentialHeader);
      case 'public_route':
        // LiteLLM's own public endpoints mostly read no body (`/health/liveliness` runs no auth); a
        // route made public in general_settings.public_routes still runs user_api_key_auth, which
        // lets the caller through nameless and then raises the body's 400.
        if (isPublicRoute(facts.route)) return this.decideWithoutKey(facts, model, credentialHeader);
        return refusingInvalidJson(facts, this.decideWithoutKey(facts, model, credentialHeader));
      case 'open_proxy':
      case 'user_auth_route':
      case 'unauthenticated_pass_through':
        return refusingInvalidJson(facts, this.decideWithoutKey(facts, model, credentialHeader));
      case 'master_key':
        return refusingInvalidJson(facts, this.decideMasterKey(facts, telemetry, model, credentialHeader, now));
      case 'jwt':
      case 'virtual_key':
        // Their checks end with the body's (checks/invalid-json-body.ts), before admission; this
        // covers the paths that skip them (a JWT proxy admin, a mapped key's master-key shortcut).
        return refusingInvalidJson(facts, this.decideCaller(facts, telemetry, caller, model, credentialHeader, now));
    }
  }

  /**
   * No key to look up, but the answer still names the end user the request did: with
   * validate_end_user_id_in_db on, only one it confirms (LiteLLM's builder resolves it first).
   */
  private decideWithoutKey(facts: RequestFacts, model: string | undefined, credentialHeader: string | null): MaybePromise<Outcome> {
    if (!this.validatesEndUserOf(facts)) return allow({ model }, credentialHeader);
    return this.decidePassingOverEndUser(facts, () => allow({ model }, credentialHeader));
  }

  /**
   * A JWT or virtual-key caller. With `validate_end_user_id_in_db`, the end user is settled before
   * any check reads it (LiteLLM resolves it in the auth builder, before the end-user budget
   * checks), but after the credential is looked at: only a caller whose key exists, or whose token
   * verifies, has its end user looked for among the users (end-user-validation.ts). A lookup that
   * fails is the store's failure.
   */
  private decideCaller(
    facts: RequestFacts,
    telemetry: RequestTelemetry,
    caller: Extract<ReturnType<typeof identifyCaller>, { kind: 'jwt' | 'virtual_key' }>,
    model: string | undefined,
    credentialHeader: string | null,
    now: Date,
  ): MaybePromise<Outcome> {
    const policy = this.policy;
    switch (caller.kind) {
      case 'jwt': {
        const authenticator = this.options.jwt;
        if (authenticator == null) throw new Error('a JWT caller was recognised without a JWT authenticator');
        const parts = {
          authenticator,
          policy: this.policy,
          now,
          telemetry,
          spendOverlay: this.options.spendOverlay,
          admission: this.options.admission,
          settlingEndUser: this.settlingEndUser(facts),
          decideMappedKey: (keyHash: string) => this.decideMappedKey(facts, telemetry, keyHash),
        };
        return authorizeJwt(parts, facts, caller.source);
      }
      case 'virtual_key': {
        const { store, spendOverlay } = this.options;
        const keyHash = caller.lookup ? caller.keyHash : null;
        // Loaded with the end user the request named, validated or not: when no customer row names
        // it, the snapshot is the same whether it is then kept or dropped (nothing else is loaded
        // for an end user without a row unless max_end_user_budget_id is set, which keeps every id).
        const loading = telemetry.observesPhases
          ? telemetry.phase('load', () => loadSnapshot(store, facts, keyHash, policy, spendOverlay, now))
          : loadSnapshot(store, facts, keyHash, policy, spendOverlay, now);
        const endUserId = facts.endUserId;
        if (validatesEndUserId(endUserId, policy)) {
          return isPromise(loading)
            ? loading.then((snapshot) => this.decideVirtualKeyEndUser(facts, endUserId, telemetry, snapshot, caller.keyHash, model, credentialHeader, this.now()))
            : this.decideVirtualKeyEndUser(facts, endUserId, telemetry, loading, caller.keyHash, model, credentialHeader, now);
        }
        // A warm key's snapshot comes from memory: decided on the spot, without a closure to wait.
        // Checked at the instant the snapshot is ready: after a load, that is a later one.
        return isPromise(loading)
          ? loading.then((snapshot) => this.decideVirtualKey(facts, telemetry, snapshot, caller.keyHash, model, credentialHeader, this.now()))
          : this.decideVirtualKey(facts, telemetry, loading, caller.keyHash, model, credentialHeader, now);
      }
    }
  }

  /**
   * A JWT mapped to a virtual key (mapped-key.ts): the key's row loaded as for a presented key, then
   * decided as that key, with the token's header as the credential header stripped upstream.
   */
  private decideMappedKey(facts: RequestFacts, telemetry: RequestTelemetry, keyHash: string): MaybePromise<Outcome> {
    const { store, spendOverlay } = this.options;
    const policy = this.policy;
    const now = this.now();
    const model = identityModelOf(facts);
    const token = facts.jwtCredential ?? facts.credential;
    const credentialHeader = token.kind === 'none' ? null : token.header;
    const loading = telemetry.observesPhases
      ? telemetry.phase('load', () => loadSnapshot(store, facts, keyHash, policy, spendOverlay, now))
      : loadSnapshot(store, facts, keyHash, policy, spendOverlay, now);
    return isPromise(loading)
      ? loading.then((snapshot) => this.decideMappedSnapshot(facts, telemetry, snapshot, keyHash, model, credentialHeader, this.now()))
      : this.decideMappedSnapshot(facts, telemetry, loading, keyHash, model, credentialHeader, now);
  }

  private decideMappedSnapshot(
    facts: RequestFacts,
    telemetry: RequestTelemetry,
    snapshot: Snapshot,
    keyHash: string,
    model: string | undefined,
    credentialHeader: string | null,
    now: Date,
  ): MaybePromise<Outcome> {
    if (snapshot.key === null) return deny({ check: 'jwt_mapped_key_found', denial: mappedKeyNotFound(keyHash) }, { keyHash, model }, credentialHeader);
    const shortcut = mappedKeyShortcut(facts, this.policy, this.options.masterKey);
    if (shortcut !== null) {
      return shortcut.kind === 'allow' ? allow({ model }, credentialHeader) : deny({ check: 'identify', denial: shortcut.denial }, { model }, credentialHeader);
    }
    const path: KeyPath = { checks: MAPPED_KEY_CHECKS, keyCredential: snapshot.activeKeyHash ?? keyHash };
    const endUserId = facts.endUserId;
    if (validatesEndUserId(endUserId, this.policy)) {
      return this.decideVirtualKeyEndUser(facts, endUserId, telemetry, snapshot, keyHash, model, credentialHeader, now, path);
    }
    return this.decideVirtualKey(facts, telemetry, snapshot, keyHash, model, credentialHeader, now, path);
  }

  /**
   * Spec README §4.6: the master key is allowed everything and skips the common checks. Only the
   * end user's budget comes first (§2.5), as in LiteLLM, where it precedes the master-key match;
   * a lookup that fails is passed over there, and so it is here.
   */
  private decideMasterKey(
    parsed: RequestFacts,
    telemetry: RequestTelemetry,
    model: string | undefined,
    credentialHeader: string | null,
    now: Date,
  ): MaybePromise<Outcome> {
    const identity: Identity = { userId: this.policy.proxyAdminName, userRole: 'proxy_admin', model };
    if (!this.validatesEndUserOf(parsed)) return this.decideMasterKeyEndUser(parsed, telemetry, identity, credentialHeader, now);
    return this.decidePassingOverEndUser(parsed, (facts) => this.decideMasterKeyEndUser(facts, telemetry, identity, credentialHeader, now));
  }

  /** Whether `validate_end_user_id_in_db` has an end user to settle: off, nothing is done or made. */
  private validatesEndUserOf(facts: RequestFacts): boolean {
    return validatesEndUserId(facts.endUserId, this.policy);
  }

  /**
   * `decide` on the facts with `validate_end_user_id_in_db` applied, for callers whose end-user
   * lookups are passed over when they fail (the master key, callers that need no key): a validation
   * that fails drops the id it could not confirm instead of failing the request.
   */
  private decidePassingOverEndUser(parsed: RequestFacts, decide: (facts: RequestFacts) => MaybePromise<Outcome>): MaybePromise<Outcome> {
    const unconfirmed = (error: unknown): MaybePromise<Outcome> => {
      if (error instanceof StoreUnavailableError) return afterEndUser(parsed, withoutEndUser(parsed), decide);
      throw error;
    };
    let settled: MaybePromise<RequestFacts>;
    try {
      settled = this.withValidatedEndUser(parsed);
    } catch (error) {
      return unconfirmed(error);
    }
    return isPromise(settled) ? settled.then((facts) => afterEndUser(parsed, facts, decide), unconfirmed) : afterEndUser(parsed, settled, decide);
  }

  /** The end user's budget before the master key is honoured, for an end user that is kept. */
  private decideMasterKeyEndUser(
    facts: RequestFacts,
    telemetry: RequestTelemetry,
    identity: Identity,
    credentialHeader: string | null,
    now: Date,
  ): MaybePromise<Outcome> {
    if (facts.endUserId === null) return allow(identity, credentialHeader);
    const decide = (snapshot: Snapshot): Outcome => {
      const refusal = runChecks(this.context(facts, snapshot, null, now), PRE_KEY_CHECKS, telemetry);
      return refusal === null ? allow(identity, credentialHeader) : deny(refusal, identity, credentialHeader);
    };
    let loading: MaybePromise<Snapshot>;
    try {
      loading = loadSnapshot(this.options.store, facts, null, this.policy, undefined, now);
    } catch (error) {
      if (error instanceof StoreUnavailableError) return allow(identity, credentialHeader);
      throw error;
    }
    if (!isPromise(loading)) return decide(loading);
    return loading.then(decide, (error: unknown) => {
      if (error instanceof StoreUnavailableError) return allow(identity, credentialHeader);
      throw error;
    });
  }

  /**
   * A virtual key with `validate_end_user_id_in_db` to apply: the customer row its snapshot loaded
   * for the id, and whether the key exists, settle the end user or say that the users must be
   * asked; then the key's checks on the facts so settled.
   */
  private decideVirtualKeyEndUser(
    parsed: RequestFacts,
    endUserId: string,
    telemetry: RequestTelemetry,
    snapshot: Snapshot,
    keyHash: string,
    model: string | undefined,
    credentialHeader: string | null,
    now: Date,
    path: KeyPath = PRESENTED_KEY,
  ): MaybePromise<Outcome> {
    const kept = keptEndUserId(this.options.store, endUserId, snapshot.endUser, snapshot.key !== null);
    if (isPromise(kept)) {
      const settled = kept.then((id) => (id === null ? withoutEndUser(parsed) : parsed));
      return afterEndUser(parsed, settled, (facts) => this.decideVirtualKey(facts, telemetry, snapshot, keyHash, model, credentialHeader, this.now(), path));
    }
    // Answered at once (a customer row, an unknown key, or users' answers in memory): no closure to wait.
    if (kept !== null) return this.decideVirtualKey(parsed, telemetry, snapshot, keyHash, model, credentialHeader, now, path);
    const settled = withoutEndUser(parsed);
    return andThen(this.decideVirtualKey(settled, telemetry, snapshot, keyHash, model, credentialHeader, now, path), (outcome) =>
      withFacts(outcome, parsed, settled),
    );
  }

  /**
   * For a JWT caller with `validate_end_user_id_in_db` on: the decision on the facts with the end
   * user settled, once the token has been verified or refused (jwt-path.ts). None with the setting off.
   */
  private settlingEndUser(parsed: RequestFacts): JwtPathParts['settlingEndUser'] {
    const endUserId = parsed.endUserId;
    if (!validatesEndUserId(endUserId, this.policy)) return undefined;
    const store = this.options.store;
    return (credentialAccepted, decide) =>
      afterEndUser(
        parsed,
        andThen(confirmedEndUserId(store, endUserId, credentialAccepted), (kept) => (kept === null ? withoutEndUser(parsed) : parsed)),
        decide,
      );
  }

  /**
   * The facts with `validate_end_user_id_in_db` applied: the same object while the end user is kept
   * (always, with the setting off), a copy without it when it is dropped. Warm, no promise is made.
   */
  private withValidatedEndUser(facts: RequestFacts): MaybePromise<RequestFacts> {
    const endUserId = facts.endUserId;
    if (!validatesEndUserId(endUserId, this.policy)) return facts;
    return andThen(validatedEndUserId(this.options.store, endUserId, this.policy), (kept) => (kept === endUserId ? facts : withoutEndUser(facts)));
  }

  private context(request: RequestFacts, snapshot: Snapshot, keyHash: string | null, now: Date): CheckContext {
    return { request, snapshot, policy: this.policy, now, keyHash };
  }

  /** The ordered checks on the key's snapshot, then admission (rate limits, budget reservation). */
  private decideVirtualKey(
    facts: RequestFacts,
    telemetry: RequestTelemetry,
    snapshot: Snapshot,
    presentedKeyHash: string,
    model: string | undefined,
    credentialHeader: string | null,
    now: Date,
    path: KeyPath = PRESENTED_KEY,
  ): MaybePromise<Outcome> {
    // A rotated-out key in its grace period acts as the key it was rotated to, as LiteLLM's
    // valid_token does: the headers, the metadata, spend and rate limits name the active hash.
    const keyHash = snapshot.activeKeyHash ?? presentedKeyHash;
    const identity = identityOf(snapshot, keyHash, facts.endUserId, model);
    const context = this.context(facts, snapshot, keyHash, now);
    const checked: CheckContext = path.keyCredential === undefined ? context : { ...context, keyCredential: path.keyCredential };
    const refusal = telemetry.observesPhases
      ? telemetry.phase('checks', () => this.runVirtualKeyChecks(checked, telemetry, path.checks))
      : this.runVirtualKeyChecks(checked, telemetry, path.checks);
    if (refusal !== null) return deny(refusal, identity, credentialHeader);
    const admitter = this.options.admission;
    if (admitter === undefined) return allow(identity, credentialHeader);
    const admission = admitter.admit(checked);
    return isPromise(admission)
      ? admission.then((admitted) => admissionOutcome(admitted, identity, credentialHeader))
      : admissionOutcome(admission, identity, credentialHeader);
  }

  /**
   * The ordered checks of a virtual-key request, then its budget alerts: soft budgets and the 80 %
   * key alert, as far as the request got in LiteLLM's order. Alerts never change the decision; the
   * span gets them as events, the sink logs and posts them after the Check has answered.
   */
  private runVirtualKeyChecks(ctx: CheckContext, telemetry: RequestTelemetry, checks: readonly Check[]): CheckRefusal | null {
    const refusal = runChecks(ctx, checks, telemetry);
    const alerts = budgetAlerts(ctx, refusal?.check ?? null);
    if (alerts.length > 0) {
      for (const alert of alerts) telemetry.alert?.(alert);
      this.options.alerts?.emit(alerts);
    }
    return refusal;
  }
}

/**
 * LiteLLM raises the 400 of a body that is not JSON once `user_api_key_auth` has let the caller
 * through, whichever way it did: an allowed request with such a body is refused, a refused one
 * keeps its refusal. A valid body costs one property read.
 */
function refusingInvalidJson(facts: RequestFacts, outcome: MaybePromise<Outcome>): MaybePromise<Outcome> {
  const denial = invalidJsonDenial(facts.invalidJson);
  if (denial === null) return outcome;
  return andThen(outcome, (decided) => {
    const { decision } = decided;
    if (decision.kind !== 'allow') return decided;
    const refused = deny({ check: invalidJsonBody.name, denial }, decision.identity, decision.credentialHeader);
    return decided.facts === undefined ? refused : { ...refused, facts: decided.facts };
  });
}

function withoutEndUser(facts: RequestFacts): RequestFacts {
  return Object.freeze({ ...facts, endUserId: null });
}

/** The outcome of a decision on `decided`, telling the server when those are not the facts it parsed. */
function afterEndUser(
  parsed: RequestFacts,
  decided: MaybePromise<RequestFacts>,
  decide: (facts: RequestFacts) => MaybePromise<Outcome>,
): MaybePromise<Outcome> {
  // The usual case, a warm Check included: the parsed facts stand, and nothing is wrapped.
  if (decided === parsed) return decide(parsed);
  return andThen(decided, (facts) => (facts === parsed ? decide(facts) : andThen(decide(facts), (outcome) => withFacts(outcome, parsed, facts))));
}

function withFacts(outcome: Outcome, parsed: RequestFacts, decided: RequestFacts): Outcome {
  return decided === parsed ? outcome : { ...outcome, facts: decided };
}

function deny(refusal: CheckRefusal, identity: Identity, credentialHeader: string | null): Outcome {
  return { decision: { kind: 'deny', denial: refusal.denial, identity, credentialHeader }, refusedBy: refusal.check };
}

/**
 * LiteLLM's WebSocket auth turns every refusal of `user_api_key_auth` into a 403
 * (`HTTPException(403, detail=str(e))`); the message is kept. A rate limit's 429 is not an auth
 * refusal and keeps its status.
 */
function asWebSocketOutcome(outcome: Outcome): Outcome {
  const { decision } = outcome;
  if (decision.kind !== 'deny' || decision.denial.status === 403 || decision.denial.status === 429) return outcome;
  return { ...outcome, decision: { ...decision, denial: { ...decision.denial, status: 403 } } };
}

function admissionOutcome(admission: Admission, identity: Identity, credentialHeader: string | null): Outcome {
  return admission.kind === 'deny' ? deny(admission, identity, credentialHeader) : allow(identity, credentialHeader, admission.metadata);
}

function allow(identity: Identity, credentialHeader: string | null, metadata?: Readonly<Record<string, Json>>): Outcome {
  const decision: Decision =
    metadata === undefined ? { kind: 'allow', identity, credentialHeader } : { kind: 'allow', identity, credentialHeader, metadata };
  return { decision, refusedBy: null };
}

function identityOf(snapshot: Snapshot, keyHash: string, endUserId: string | null, model: string | undefined): Identity {
  const key = snapshot.key;
  if (key === null) return { keyHash, endUserId: endUserId ?? undefined, model };
  const orgId = key.organization_id ?? snapshot.team?.organization_id ?? null;
  return {
    keyHash,
    keyAlias: key.key_alias ?? undefined,
    userId: key.user_id ?? undefined,
    teamId: key.team_id ?? undefined,
    orgId: orgId ?? undefined,
    projectId: key.project_id ?? undefined,
    endUserId: endUserId ?? undefined,
    userRole: roleOf(snapshot.user),
    model,
  };
}
