/**
 * The seam between the request path and telemetry (traces, metrics). The request path calls
 * these hooks; implementations (OpenTelemetry, Prometheus) live beside this file. The no-op
 * default costs nothing, so the hot path pays only for what is switched on.
 */
import type { BudgetAlert } from '../domain/budget-alert';
import type { Decision } from '../domain/decision';

/** Phases of one Check, in the order they run. */
export type Phase = 'parse' | 'identify' | 'load' | 'checks' | 'respond';

export interface RequestTelemetry {
  /** Runs `work` as the named phase (a child span, a latency sample). */
  phase<T>(name: Phase, work: () => T): T;
  /**
   * False when `phase` only runs its work. The request path then calls the work directly: a
   * closure per phase is garbage on every Check, and under load garbage costs more than code.
   */
  readonly observesPhases: boolean;
  /** Called once per evaluated check, in order; `refused` for the one that denied. */
  checkEvaluated(name: string, refused: boolean): void;
  /** The request ended with a decision. */
  decided(decision: Decision, refusedBy: string | null): void;
  /** The request ended without a decision (gRPC UNAVAILABLE); `reason` is a stable label. */
  undecided(reason: 'store_unavailable' | 'deadline' | 'internal'): void;
  /**
   * The request raised a budget alert (a soft budget or 80 % of a key's max budget crossed): a
   * span event. Called for every request that raises it; the log line and webhook are deduplicated
   * elsewhere (alerts/alert-emitter.ts). Optional: implementations without it ignore alerts.
   */
  alert?(event: BudgetAlert): void;
  /**
   * The trace this Check belongs to, for its log lines (`traceId`, `spanId` of the Check span):
   * a log line of a denial then leads to the trace. Optional: without tracing there is none.
   */
  traceIds?(): TraceIds | undefined;
}

export interface TraceIds {
  readonly traceId: string;
  readonly spanId: string;
}

export interface Instrumentation {
  /**
   * Starts the telemetry of one Check. `carrier` holds the request's trace headers
   * (traceparent, tracestate, b3…) so the trace continues Envoy's.
   */
  startRequest(carrier: Readonly<Record<string, string>>): RequestTelemetry;
}

export const NOOP_REQUEST_TELEMETRY: RequestTelemetry = {
  phase: (_name, work) => work(),
  observesPhases: false,
  checkEvaluated: () => undefined,
  decided: () => undefined,
  undecided: () => undefined,
  alert: () => undefined,
};

export const NOOP_INSTRUMENTATION: Instrumentation = {
  startRequest: () => NOOP_REQUEST_TELEMETRY,
};
