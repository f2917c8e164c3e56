/**
 * Prometheus metrics (prom-client), fed through the same seams as tracing: the request
 * telemetry, the cache events and the DB/Redis call observer.
 *
 * Labels are only ever drawn from small fixed sets (decision, LiteLLM error type, HTTP status,
 * check name, entity kind, tier, operation): never ids, keys or models, whose cardinality is
 * unbounded. Label children are bound once and reused, so a request costs a few map lookups.
 */
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheEvents } from '../cache/entity-cache';
import type { BudgetAlert } from '../domain/budget-alert';
import type { Decision } from '../domain/decision';
import type { Backend, BackendCallObserver } from './backend-calls';
import type { Instrumentation, Phase, RequestTelemetry } from './instrumentation';
import { registerMeteringMetrics } from '../metering/metering-metrics';
import { ScrapedCounter, type CounterHandle } from './scraped-counter';
import { ScrapedHistogram, type HistogramHandle } from './scraped-histogram';

/**
 * A warm Check takes ten to a few tens of microseconds; an Envoy ext_authz timeout is ~250 ms.
 * The 10 and 25 µs buckets resolve the warm Checks: with 50 µs as the first bound, every warm
 * Check fell in one bucket and any percentile of them read as ~25 µs.
 */
const CHECK_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const BACKEND_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

type UndecidedReason = Parameters<RequestTelemetry['undecided']>[0];

/** Bound label children, created on first use (label sets are small and fixed, see above). */
function memo<T>(make: (...values: string[]) => T): (...values: string[]) => T {
  const children = new Map<string, T>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = make(...values);
      children.set(key, child);
    }
    return child;
  };
}

/** Handles for one entity kind, made on first use: one Map lookup, no joined label key. */
function perKind<T>(make: (kind: string) => T): (kind: string) => T {
  const handles = new Map<string, T>();
  return (kind) => {
    let handle = handles.get(kind);
    if (handle === undefined) {
      handle = make(kind);
      handles.set(kind, handle);
    }
    return handle;
  };
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event-loop lag, GC); off in unit tests. */
  readonly processMetrics?: boolean;
}

export class TollgateMetrics {
  readonly registry = new Registry();
  readonly instrumentation: Instrumentation;
  readonly cacheEvents: CacheEvents;
  readonly calls: BackendCallObserver;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    // Per-Check counters are plain additions, read at scrape time (scraped-counter.ts).
    const decisions = new ScrapedCounter(
      {
        name: 'tollgate_decisions_total',
        help: 'Check decisions by result (allow|deny), LiteLLM error type and HTTP status of denials',
        labelNames: ['result', 'error_type', 'status'],
      },
      registers,
    );
    const refusals = new ScrapedCounter(
      {
        name: 'tollgate_check_refusals_total',
        help: 'Denials by the check that refused (LiteLLM check order names; "identify" for credential refusals)',
        labelNames: ['check'],
      },
      registers,
    );
    const undecided = new ScrapedCounter(
      {
        name: 'tollgate_undecided_total',
        help: 'Checks answered with gRPC UNAVAILABLE (no decision possible), by reason',
        labelNames: ['reason'],
      },
      registers,
    );
    // Observed once per Check: a bucket scan and additions, copied out at scrape time (scraped-histogram.ts).
    const duration = new ScrapedHistogram(
      {
        name: 'tollgate_check_duration_seconds',
        help: 'Time from receiving a Check to its answer, by result (allow|deny|undecided)',
        labelNames: ['result'],
        buckets: CHECK_BUCKETS,
      },
      registers,
    );
    const alerts = new Counter({
      name: 'tollgate_budget_alerts_total',
      help: 'Requests that raised a budget alert (before deduplication), by alert type and budget owner',
      labelNames: ['type', 'entity'] as const,
      registers,
    });
    const meters: CheckMeters = {
      inFlight: 0,
      // Bound once: every Check observes one of these three.
      duration: { allow: duration.child('allow'), deny: duration.child('deny'), undecided: duration.child('undecided') },
      allowed: decisions.child('allow', '', ''),
      denied: (type, status) => decisions.child('deny', type, status),
      refusedBy: (check) => refusals.child(check),
      undecided: (reason) => undecided.child(reason),
      alert: memo((type, entity) => alerts.labels(type, entity)),
    };
    new Gauge({
      name: 'tollgate_checks_in_flight',
      help: 'Checks being decided right now',
      registers,
      collect() {
        this.set(meters.inFlight);
      },
    });
    this.instrumentation = { startRequest: () => new CheckMetrics(meters) };
    this.cacheEvents = this.cacheMetrics(registers);
    this.calls = this.backendMetrics(registers);
    registerMeteringMetrics(this.registry);
  }

  /**
   * Checks refused at once because too many were in flight (server/admission.ts). They never
   * start request telemetry, so the count is read from the admission bound at scrape time.
   */
  watchAdmission(admission: { readonly limit: number; readonly refusedTotal: number }): void {
    new Gauge({ name: 'tollgate_max_in_flight', help: 'The in-flight bound (tollgate.max_in_flight)', registers: [this.registry] }).set(
      admission.limit,
    );
    new Counter({
      name: 'tollgate_overload_refusals_total',
      help: 'Checks answered UNAVAILABLE at once because tollgate.max_in_flight Checks were already in flight',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(admission.refusedTotal);
      },
    });
  }

  /** The text a Prometheus scrape gets. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private cacheMetrics(registers: Registry[]): CacheEvents {
    // Several lookups per Check: plain additions, read at scrape time.
    const hits = new ScrapedCounter(
      {
        name: 'tollgate_cache_hits_total',
        help: 'Entity lookups answered by a cache tier (memory = this process, shared = Redis)',
        labelNames: ['kind', 'tier'],
      },
      registers,
    );
    const misses = new ScrapedCounter(
      {
        name: 'tollgate_cache_misses_total',
        help: 'Entity lookups not answered from process memory (then tried in Redis, then the database)',
        labelNames: ['kind'],
      },
      registers,
    );
    // While the database is down every lookup of an aged entry is one: plain additions too.
    const stale = new ScrapedCounter(
      {
        name: 'tollgate_cache_stale_served_total',
        help: 'Entries served past their refresh time: while revalidating, or because the database failed',
        labelNames: ['kind', 'reason'],
      },
      registers,
    );
    const errors = new Counter({
      name: 'tollgate_cache_errors_total',
      help: 'Cache failures that degraded to a miss (shared tier) or kept an older entry (background refresh)',
      labelNames: ['kind', 'source'] as const,
      registers,
    });
    // Several hits per Check, and a warm key past its refresh time is served stale on every request
    // until its reload lands: the handles are kept per kind, not looked up by label values each time.
    const hitHandlesOf = perKind((kind) => ({ memory: hits.child(kind, 'memory'), shared: hits.child(kind, 'shared') }));
    const staleHandlesOf = perKind((kind) => ({
      revalidating: stale.child(kind, 'revalidating'),
      loader_failed: stale.child(kind, 'loader_failed'),
    }));
    const missHandleOf = perKind((kind) => misses.child(kind));
    return {
      hit: (kind, tier) => hitHandlesOf(kind)[tier].inc(),
      miss: (kind) => missHandleOf(kind).inc(),
      staleServed: (kind, reason) => staleHandlesOf(kind)[reason].inc(),
      sharedTierError: (kind) => errors.labels(kind, 'shared_tier').inc(),
      backgroundRefreshError: (kind) => errors.labels(kind, 'background_refresh').inc(),
    };
  }

  private backendMetrics(registers: Registry[]): BackendCallObserver {
    const duration = new Histogram({
      name: 'tollgate_backend_call_duration_seconds',
      help: 'Latency of calls leaving the process: database lookups (backend=db) and Redis commands (backend=redis)',
      labelNames: ['backend', 'operation'] as const,
      buckets: BACKEND_BUCKETS,
      registers,
    });
    const errors = new Counter({
      name: 'tollgate_backend_call_errors_total',
      help: 'Database lookups and Redis commands that failed or timed out',
      labelNames: ['backend', 'operation'] as const,
      registers,
    });
    const timer = memo((backend, operation) => duration.labels(backend, operation));
    return {
      call: <T>(backend: Backend, operation: string, work: () => Promise<T>): Promise<T> => {
        const started = performance.now();
        const observe = (): void => timer(backend, operation).observe((performance.now() - started) / 1000);
        return work().then(
          (result) => {
            observe();
            return result;
          },
          (error: unknown) => {
            observe();
            errors.labels(backend, operation).inc();
            throw error;
          },
        );
      },
    };
  }
}

/** What one Check's metrics feed: shared by every Check, bound once. */
interface CheckMeters {
  inFlight: number;
  readonly duration: Readonly<Record<'allow' | 'deny' | 'undecided', HistogramHandle>>;
  readonly allowed: CounterHandle;
  denied(type: string, status: string): CounterHandle;
  refusedBy(check: string): CounterHandle;
  undecided(reason: string): CounterHandle;
  alert(type: string, entity: string): { inc(): void };
}

/**
 * One Check's metrics: its latency, its decision, the check that refused. One object per Check
 * with its methods on the prototype, since every Check makes one and garbage is what a busy
 * server pays for most (docs/performance.md, "What a warm Check costs at a steady rate").
 */
class CheckMetrics implements RequestTelemetry {
  private readonly started = performance.now();
  private done = false;

  constructor(private readonly meters: CheckMeters) {
    meters.inFlight += 1;
  }

  readonly observesPhases = false;

  phase<T>(_name: Phase, work: () => T): T {
    return work();
  }

  checkEvaluated(): void {}

  decided(decision: Decision, refusedBy: string | null): void {
    if (!this.finish(decision.kind)) return;
    if (decision.kind === 'allow') {
      this.meters.allowed.inc();
      return;
    }
    this.meters.denied(decision.denial.type, String(decision.denial.status)).inc();
    if (refusedBy !== null) this.meters.refusedBy(refusedBy).inc();
  }

  alert(event: BudgetAlert): void {
    this.meters.alert(event.type, event.event_group).inc();
  }

  undecided(reason: UndecidedReason): void {
    if (this.finish('undecided')) this.meters.undecided(reason).inc();
  }

  /** False when the Check already ended: it is counted once. */
  private finish(result: 'allow' | 'deny' | 'undecided'): boolean {
    if (this.done) return false;
    this.done = true;
    this.meters.inFlight -= 1;
    this.meters.duration[result].observe((performance.now() - this.started) / 1000);
    return true;
  }
}
