/**
 * The Authorization/Check RPC: Envoy request → facts → decision → Envoy response.
 *
 * Three outcomes, never confused (field-notes §5):
 * - allow / deny: a CheckResponse (deny carries LiteLLM's HTTP status and error body);
 * - cannot decide (store unreachable and nothing cached, or the deadline is about to pass):
 *   the RPC fails with UNAVAILABLE so Envoy's failure_mode_allow decides — unless the database
 *   is what failed and general_settings.allow_requests_on_db_unavailable, which allows as LiteLLM does.
 */
import { performance } from 'node:perf_hooks';
import { status as GrpcStatus, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import type { Authorizer, Outcome } from '../authorize/authorize';
import type { Settings } from '../config/settings';
import type { Decision } from '../domain/decision';
import type { RequestFacts } from '../domain/request';
import { parseCheckRequest } from '../envoy/attributes';
import { collectHeaders } from '../envoy/headers';
import type { CheckRequest, CheckResponse } from '../envoy/messages';
import { toCheckResponse } from '../envoy/response';
import type { Logger } from '../observability/logger';
import { NOOP_INSTRUMENTATION, NOOP_REQUEST_TELEMETRY, type Instrumentation, type RequestTelemetry } from '../observability/instrumentation';
import { DeadlineError, withTimeout } from '../util/timeout';
import { JwksUnavailableError } from '../auth/jwt/errors';
import { ReservationUnavailableError } from '../spend/admission';
import { StoreUnavailableError } from '../store/unavailable';
import { Admission } from './admission';
import { isPromise, type MaybePromise } from '../util/maybe-promise';

/**
 * Answer this long before Envoy's deadline so "cannot decide" arrives in time to be acted on:
 * the deadline is measured from the client's clock, and the answer still has to travel back.
 */
function deadlineMarginMs(remainingMs: number): number {
  return Math.min(50, 10 + remainingMs * 0.1);
}

export interface CheckHandlerDeps {
  readonly settings: Settings;
  readonly authorizer: Authorizer;
  readonly logger: Logger;
  readonly instrumentation?: Instrumentation;
  readonly onDecision?: (outcome: Outcome | null, facts: RequestFacts | null, elapsedMs: number) => void;
  /**
   * A decision Envoy never received: it came after the Check was answered at its deadline, or its
   * answer could not be built. What deciding took for the request (a budget reservation) is owed back.
   */
  readonly onDiscardedDecision?: (outcome: Outcome, facts: RequestFacts) => void;
  /** Bounds Checks in flight; built from settings.maxInFlight when absent. */
  readonly admission?: Admission;
}

export type CheckHandler = (
  call: ServerUnaryCall<CheckRequest, CheckResponse>,
  callback: sendUnaryData<CheckResponse>,
) => void;

export function createCheckHandler(deps: CheckHandlerDeps): CheckHandler {
  const admission = deps.admission ?? new Admission(deps.settings.maxInFlight);
  return (call, callback) => {
    const release = admission.tryAcquire();
    if (release === null) {
      refuseOverloaded(deps.logger, admission, callback);
      return;
    }
    new CheckCall(deps, callback, release).run(call);
  };
}

/**
 * A CheckRequest without `attributes.request.http` names no route, header or body to decide on:
 * Envoy's network-level ext_authz filter sends exactly that, per connection. Read as a request for
 * `/` it was allowed (a public route); it is refused, so a filter wired there closes connections
 * instead of letting every one through.
 */
const NOT_HTTP: Outcome = Object.freeze({
  decision: Object.freeze({
    kind: 'deny',
    denial: Object.freeze({
      status: 403,
      type: 'auth_error',
      message: 'Tollgate authorizes HTTP requests: this CheckRequest has no attributes.request.http (is it wired to a network-level ext_authz filter?)',
      param: null,
    }),
    identity: Object.freeze({}),
    credentialHeader: null,
  }),
  refusedBy: 'http_attributes',
} satisfies Outcome);

/**
 * One Check from receipt to answer. An object with its steps as methods rather than closures made
 * per Check: every Check makes one, and under load its garbage costs more than its code
 * (docs/performance.md, "What a warm Check costs at a steady rate").
 */
class CheckCall {
  private readonly started = performance.now();
  private facts: RequestFacts | null = null;
  private telemetry: RequestTelemetry = NOOP_REQUEST_TELEMETRY;

  constructor(
    private readonly deps: CheckHandlerDeps,
    private readonly callback: sendUnaryData<CheckResponse>,
    private readonly release: () => void,
  ) {}

  run(call: ServerUnaryCall<CheckRequest, CheckResponse>): void {
    const deps = this.deps;
    this.telemetry = (deps.instrumentation ?? NOOP_INSTRUMENTATION).startRequest(traceCarrier(call.request));
    let decided: MaybePromise<Outcome>;
    try {
      const telemetry = this.telemetry;
      const facts = telemetry.observesPhases
        ? telemetry.phase('parse', () => parseCheckRequest(call.request, deps.settings, deps.authorizer.resolveModelId, deps.authorizer.completionModel))
        : parseCheckRequest(call.request, deps.settings, deps.authorizer.resolveModelId, deps.authorizer.completionModel);
      this.facts = facts;
      decided = call.request.attributes?.request?.http ? deps.authorizer.decide(facts, this.telemetry) : NOT_HTTP;
    } catch (error) {
      this.release();
      this.cannotDecide(error);
      return;
    }
    if (!isPromise(decided)) {
      // Decided from memory: no deadline to race, no promise to wait for.
      this.release();
      this.answer(decided);
      return;
    }
    decided.then(this.release, this.release);
    const remainingMs = msUntil(call.getDeadline());
    const budgetMs = remainingMs - deadlineMarginMs(remainingMs);
    const bounded = Number.isFinite(budgetMs)
      ? withTimeout(decided, Math.max(1, budgetMs), 'check', () => new DeadlineError(budgetMs))
      : decided;
    bounded.then(
      (outcome) => this.answer(outcome),
      (error: unknown) => {
        this.cannotDecide(error);
        // Answering at the deadline does not stop the decision: it runs on, and may still reserve.
        if (error instanceof DeadlineError) decided.then((outcome) => this.discard(outcome), ignore);
      },
    );
  }

  private discard(outcome: Outcome): void {
    const { deps } = this;
    const facts = outcome.facts ?? this.facts;
    if (deps.onDiscardedDecision === undefined || facts === null) return;
    try {
      deps.onDiscardedDecision(outcome, facts);
    } catch (error) {
      deps.logger.error({ requestId: facts.requestId, err: errorText(error) }, 'handing back a decision Envoy never received failed');
    }
  }

  private elapsedMs(): number {
    return performance.now() - this.started;
  }

  private answer(outcome: Outcome): void {
    const { deps, telemetry } = this;
    // The facts decided on (an end user validate_end_user_id_in_db dropped is gone from them).
    const facts = outcome.facts ?? (this.facts as RequestFacts);
    let response: CheckResponse;
    try {
      logDecision(deps.logger, facts, outcome.decision, outcome.refusedBy, this.elapsedMs(), telemetry);
      deps.onDecision?.(outcome, facts, this.elapsedMs());
      response = telemetry.observesPhases
        ? telemetry.phase('respond', () => toCheckResponse(outcome.decision, facts, deps.settings))
        : toCheckResponse(outcome.decision, facts, deps.settings);
    } catch (error) {
      // A fault of our own, not the store's: never a reason to allow.
      telemetry.undecided('internal');
      deps.logger.error({ requestId: facts.requestId, ...telemetry.traceIds?.(), err: errorText(error) }, 'answering failed: answering UNAVAILABLE');
      this.callback(unavailable('internal error'));
      this.discard(outcome);
      return;
    }
    telemetry.decided(outcome.decision, outcome.refusedBy);
    this.callback(null, response);
  }

  private cannotDecide(error: unknown): void {
    const { deps, telemetry, facts } = this;
    deps.onDecision?.(null, facts, this.elapsedMs());
    // LiteLLM allows only on a database connection error (is_database_connection_error). Nothing
    // else may become an allow as the proxy admin: not a JWKS outage (tokens nobody verified), not
    // a budget reservation Redis could not take, not the deadline, and never a fault of our own.
    if (facts !== null && deps.settings.allowRequestsOnDbUnavailable && error instanceof StoreUnavailableError) {
      deps.logger.warn(
        { requestId: facts.requestId, ...telemetry.traceIds?.(), err: errorText(error) },
        'store unavailable: allowing (allow_requests_on_db_unavailable)',
      );
      const decision: Decision = {
        kind: 'allow',
        identity: { userId: deps.settings.policy.proxyAdminName, keyAlias: 'failed-to-connect-to-db' },
        credentialHeader: facts.credential.kind === 'none' ? null : facts.credential.header,
      };
      telemetry.decided(decision, null);
      // With validate_end_user_id_in_db on, an end user nobody could confirm is not sent on.
      const answered = deps.settings.policy.validateEndUserIdInDb && facts.endUserId !== null ? { ...facts, endUserId: null } : facts;
      this.callback(null, toCheckResponse(decision, answered, deps.settings));
      return;
    }
    const why = facts === null ? INTERNAL : undecidedBecause(error);
    telemetry.undecided(why.reason);
    const fields = { requestId: facts?.requestId, ...telemetry.traceIds?.(), err: errorText(error) };
    if (why === INTERNAL) deps.logger.error(fields, 'cannot decide (internal error): answering UNAVAILABLE');
    else deps.logger.warn(fields, 'cannot decide: answering UNAVAILABLE');
    this.callback(unavailable(why.details));
  }
}

/**
 * The headers that carry Envoy's trace context. With `encode_raw_headers: true` Envoy sends them
 * in `header_map` instead of `headers`: read that too (only then, since it costs a header record).
 */
function traceCarrier(request: CheckRequest): Readonly<Record<string, string>> {
  const http = request.attributes?.request?.http;
  // Decoders leave an empty map out, so a present `headers` is the one Envoy filled.
  if (http?.headers !== undefined) return http.headers;
  return (http?.header_map?.headers?.length ?? 0) > 0 ? collectHeaders(http) : {};
}

function ignore(): void {}

function msUntil(deadline: Date | number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - Date.now() : Number.POSITIVE_INFINITY;
}

/** Why a Check was not decided: the metric's reason and the details Envoy receives. */
interface Undecided {
  readonly reason: 'store_unavailable' | 'deadline' | 'internal';
  readonly details: string;
}

const DEADLINE: Undecided = { reason: 'deadline', details: 'deadline too short to decide' };
const STORE_UNAVAILABLE: Undecided = { reason: 'store_unavailable', details: 'authorization store unavailable' };
const KEYS_UNAVAILABLE: Undecided = { reason: 'store_unavailable', details: 'identity provider keys unavailable' };
const RESERVATION_UNAVAILABLE: Undecided = { reason: 'store_unavailable', details: 'budget reservation unavailable' };
/** Anything not known as an outage: a bug of ours until shown otherwise. */
const INTERNAL: Undecided = { reason: 'internal', details: 'internal error' };

function undecidedBecause(error: unknown): Undecided {
  if (error instanceof DeadlineError) return DEADLINE;
  if (error instanceof StoreUnavailableError) return STORE_UNAVAILABLE;
  if (error instanceof JwksUnavailableError) return KEYS_UNAVAILABLE;
  if (error instanceof ReservationUnavailableError) return RESERVATION_UNAVAILABLE;
  return INTERNAL;
}

function unavailable(details: string): Partial<ServiceError> {
  return { code: GrpcStatus.UNAVAILABLE, details, metadata: new Metadata() };
}

/** Same answer as a Check that would have waited in a queue until Envoy's deadline, only sooner. */
function refuseOverloaded(logger: Logger, admission: Admission, callback: sendUnaryData<CheckResponse>): void {
  if (admission.shouldReport()) {
    logger.warn({ limit: admission.limit, refusedTotal: admission.refusedTotal }, 'overloaded: refusing Checks with UNAVAILABLE');
  }
  callback(unavailable(`overloaded: ${admission.limit} checks in flight`));
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function logDecision(
  logger: Logger,
  facts: RequestFacts,
  decision: Decision,
  refusedBy: string | null,
  elapsedMs: number,
  telemetry: RequestTelemetry,
): void {
  // Allows are logged at debug: at info (the default) building their fields is wasted work on every Check.
  if (decision.kind === 'allow' && !logger.isLevelEnabled('debug')) return;
  const id = decision.identity;
  const fields = {
    requestId: facts.requestId,
    // With tracing on, the line names the Check's span: from a denial in the logs to its trace.
    ...telemetry.traceIds?.(),
    method: facts.method,
    route: facts.route,
    decision: decision.kind,
    keyHash: id.keyHash,
    teamId: id.teamId,
    userId: id.userId,
    orgId: id.orgId,
    model: id.model,
    elapsedMs: Math.round(elapsedMs * 1000) / 1000,
    ...(decision.kind === 'deny'
      ? { status: decision.denial.status, errorType: decision.denial.type, refusedBy }
      : {}),
  };
  if (decision.kind === 'deny') logger.info(fields, 'denied');
  else logger.debug(fields, 'allowed');
}
