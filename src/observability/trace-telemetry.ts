/**
 * The OpenTelemetry side of the telemetry seam: one SERVER span per Check that continues the
 * trace Envoy started (headers of the CheckRequest), a child span per phase, a span event per
 * evaluated check, and a CLIENT span per database or Redis call made while the Check runs.
 *
 * Checks are span events, not spans: each is a synchronous pure function taking microseconds,
 * and the seam reports it after it ran, so a span would carry no real duration while costing
 * several times an event (ids, processor callbacks, export volume × ~40 checks per request).
 *
 * Never recorded: raw keys, JWTs, request bodies, header values. The caller is named by the
 * key hash and the ids LiteLLM itself puts in its spans (team, org, user, project).
 */
import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type { BudgetAlert } from '../domain/budget-alert';
import type { Decision } from '../domain/decision';
import type { Backend, BackendCallObserver } from './backend-calls';
import { NOOP_INSTRUMENTATION, type Instrumentation, type Phase, type RequestTelemetry, type TraceIds } from './instrumentation';

export const CHECK_SPAN_NAME = 'envoy.service.auth.v3.Authorization/Check';

type Carrier = Readonly<Record<string, string>>;

/** Envoy sends header names lower-cased, so a plain property read is the whole lookup. */
const CARRIER_GETTER: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const PASSED: Attributes = Object.freeze({ 'tollgate.check.refused': false });
const REFUSED: Attributes = Object.freeze({ 'tollgate.check.refused': true });

/** gRPC status the Check RPC ends with (spec README §3). */
function grpcCode(decision: Decision): number {
  if (decision.kind === 'allow') return 0;
  return decision.denial.status === 401 ? 16 : 7;
}

function identityAttributes(decision: Decision, span: Span): void {
  const id = decision.identity;
  if (id.keyHash !== undefined) span.setAttribute('tollgate.key_hash', id.keyHash);
  if (id.keyAlias !== undefined) span.setAttribute('tollgate.key_alias', id.keyAlias);
  if (id.userId !== undefined) span.setAttribute('tollgate.user_id', id.userId);
  if (id.teamId !== undefined) span.setAttribute('tollgate.team_id', id.teamId);
  if (id.orgId !== undefined) span.setAttribute('tollgate.org_id', id.orgId);
  if (id.projectId !== undefined) span.setAttribute('tollgate.project_id', id.projectId);
  if (id.model !== undefined) span.setAttribute('tollgate.model', id.model);
}

function recordFailure(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
  // The exception's class only: messages of driver errors can quote connection strings.
  span.setAttribute('error.type', error instanceof Error ? error.name : typeof error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

class TracedRequest implements RequestTelemetry {
  /** Each phase is a child span. */
  readonly observesPhases = true;
  private readonly context: Context;
  /** The phase span whose synchronous work is running: where check events go. */
  private current: Span;
  private ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly root: Span,
    parent: Context,
  ) {
    this.context = trace.setSpan(parent, root);
    this.current = root;
  }

  phase<T>(name: Phase, work: () => T): T {
    const span = this.tracer.startSpan(`tollgate.${name}`, undefined, this.context);
    const previous = this.current;
    this.current = span;
    let result: T;
    try {
      // The active context lets the store wrappers parent their DB/Redis spans to this phase.
      result = context.with(trace.setSpan(this.context, span), work);
    } catch (error) {
      recordFailure(span, error);
      span.end();
      throw error;
    } finally {
      this.current = previous;
    }
    if (isThenable(result)) {
      result.then(
        () => span.end(),
        (error: unknown) => {
          recordFailure(span, error);
          span.end();
        },
      );
    } else {
      span.end();
    }
    return result;
  }

  checkEvaluated(name: string, refused: boolean): void {
    this.current.addEvent(name, refused ? REFUSED : PASSED);
  }

  decided(decision: Decision, refusedBy: string | null): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.root;
    span.setAttribute('tollgate.decision', decision.kind);
    span.setAttribute('rpc.grpc.status_code', grpcCode(decision));
    identityAttributes(decision, span);
    if (decision.kind === 'deny') {
      // A denial is a correct answer, not a failure of the server: the span status stays unset.
      span.setAttribute('tollgate.error_type', decision.denial.type);
      span.setAttribute('http.response.status_code', decision.denial.status);
      if (refusedBy !== null) span.setAttribute('tollgate.refused_by', refusedBy);
    }
    span.end();
  }

  /** A span event on the Check; e-mail addresses in the alert stay out of the trace. */
  alert(event: BudgetAlert): void {
    const attributes: Attributes = {
      'tollgate.alert.type': event.type,
      'tollgate.alert.entity': event.event_group,
      'tollgate.alert.entity_id': event.entity_id,
      'tollgate.alert.spend': event.spend,
    };
    if (event.max_budget !== null) attributes['tollgate.alert.max_budget'] = event.max_budget;
    if (event.soft_budget !== null) attributes['tollgate.alert.soft_budget'] = event.soft_budget;
    this.root.addEvent('budget_alert', attributes);
  }

  traceIds(): TraceIds | undefined {
    const ids = this.root.spanContext();
    return isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId } : undefined;
  }

  undecided(reason: 'store_unavailable' | 'deadline' | 'internal'): void {
    if (this.ended) return;
    this.ended = true;
    this.root.setAttribute('tollgate.decision', 'undecided');
    this.root.setAttribute('rpc.grpc.status_code', 14);
    this.root.setAttribute('error.type', reason);
    this.root.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    this.root.end();
  }
}

export class TracingInstrumentation implements Instrumentation {
  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
  ) {}

  startRequest(carrier: Carrier): RequestTelemetry {
    const parent = this.propagator.extract(ROOT_CONTEXT, carrier, CARRIER_GETTER);
    const root = this.tracer.startSpan(
      CHECK_SPAN_NAME,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'grpc',
          'rpc.service': 'envoy.service.auth.v3.Authorization',
          'rpc.method': 'Check',
        },
      },
      parent,
    );
    // Sampled out: every sampler we build gives children the root's fate, so skip them all.
    if (!root.isRecording()) return NOOP_INSTRUMENTATION.startRequest(carrier);
    const requestId = carrier['x-request-id'];
    if (requestId !== undefined) root.setAttribute('tollgate.request_id', requestId);
    return new TracedRequest(this.tracer, root, parent);
  }
}

/** CLIENT spans for DB and Redis calls, only inside a traced Check (no root spans for background work). */
export class TracingBackendCalls implements BackendCallObserver {
  constructor(
    private readonly tracer: Tracer,
    private readonly dbSystem: 'mysql' | 'sqlite',
  ) {}

  call<T>(backend: Backend, operation: string, work: () => Promise<T>): Promise<T> {
    const parent = context.active();
    if (trace.getSpan(parent) === undefined) return work();
    const system = backend === 'db' ? this.dbSystem : 'redis';
    const span = this.tracer.startSpan(
      `${system} ${operation}`,
      { kind: SpanKind.CLIENT, attributes: { 'db.system.name': system, 'db.operation.name': operation } },
      parent,
    );
    return work().then(
      (result) => {
        span.end();
        return result;
      },
      (error: unknown) => {
        recordFailure(span, error);
        span.end();
        throw error;
      },
    );
  }
}
