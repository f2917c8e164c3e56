/**
 * Emits budget alerts off the request path: the request hands its alerts to `emit` (synchronous,
 * never throws, never waits); a background drain writes one structured log line per alert and,
 * when `tollgate.alerting.webhook_url` is set, POSTs it as JSON.
 *
 * Each alert is sent at most once per entity and alert type per window
 * (`tollgate.alerting.dedupe_seconds`): a key over its soft budget would otherwise alert on every
 * request. The queue is bounded; when the webhook cannot keep up, new alerts are dropped (and
 * counted) rather than held in memory. A slow or failing webhook never delays or fails a Check.
 */
import type { Logger } from '../observability/logger';
import type { BudgetAlert } from '../domain/budget-alert';

/** Where the authorizer hands a request's alerts. */
export interface AlertSink {
  emit(alerts: readonly BudgetAlert[]): void;
}

export const NO_ALERTS: AlertSink = { emit: () => undefined };

export interface AlertEmitterOptions {
  readonly logger: Logger;
  readonly webhookUrl: string | null;
  readonly dedupeSeconds: number;
  /** Per webhook POST. */
  readonly timeoutMs: number;
  /** Alerts waiting to be sent; beyond it new ones are dropped. */
  readonly queueSize: number;
  readonly now?: () => number;
}

export interface AlertEmitterStats {
  emitted: number;
  deduplicated: number;
  dropped: number;
  delivered: number;
  failed: number;
}

/** Distinct entities remembered for deduplication; past it the oldest are forgotten first. */
const MAX_REMEMBERED = 10_000;
/** At most one "webhook failed" log line per this many milliseconds. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

export function dedupeKey(alert: BudgetAlert): string {
  return `${alert.type}\u0000${alert.event_group}\u0000${alert.entity_id}`;
}

export class AlertEmitter implements AlertSink {
  readonly stats: AlertEmitterStats = { emitted: 0, deduplicated: 0, dropped: 0, delivered: 0, failed: 0 };
  private readonly now: () => number;
  /** dedupe key → time the window ends; insertion order = age. */
  private readonly lastSent = new Map<string, number>();
  private readonly queue: BudgetAlert[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  private lastFailureLog = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: AlertEmitterOptions) {
    this.now = options.now ?? Date.now;
  }

  emit(alerts: readonly BudgetAlert[]): void {
    for (const alert of alerts) this.accept(alert);
  }

  /** Resolves once queued alerts are sent, or after `timeoutMs`; later alerts are ignored. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.draining === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.draining,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /** Resolves when the queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.draining !== null) await this.draining;
  }

  private accept(alert: BudgetAlert): void {
    if (this.closed) return;
    const now = this.now();
    const key = dedupeKey(alert);
    const until = this.lastSent.get(key);
    if (until !== undefined && until > now) {
      this.stats.deduplicated += 1;
      return;
    }
    if (this.queue.length >= this.options.queueSize) {
      this.stats.dropped += 1;
      return;
    }
    this.remember(key, now + this.options.dedupeSeconds * 1000);
    this.stats.emitted += 1;
    this.queue.push(alert);
    // setImmediate: the drain starts after the current Check has answered.
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private remember(key: string, until: number): void {
    this.lastSent.delete(key);
    this.lastSent.set(key, until);
    // Every window has the same length, so insertion order is also expiry order: forget the oldest.
    for (const old of this.lastSent.keys()) {
      if (this.lastSent.size <= MAX_REMEMBERED) break;
      this.lastSent.delete(old);
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let alert = this.queue.shift(); alert !== undefined; alert = this.queue.shift()) {
        this.options.logger.warn({ event: 'budget_alert', alert }, `budget alert: ${alert.event_group} ${alert.type}`);
        if (this.options.webhookUrl !== null) await this.post(this.options.webhookUrl, alert);
      }
    } finally {
      this.draining = null;
    }
  }

  private async post(url: string, alert: BudgetAlert): Promise<void> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'budget_alert', timestamp: new Date(this.now()).toISOString(), ...alert }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.stats.delivered += 1;
    } catch (error) {
      this.stats.failed += 1;
      const now = this.now();
      if (now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
        this.lastFailureLog = now;
        this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'budget alert webhook failed');
      }
    }
  }
}
