/**
 * Prometheus metrics of metering and of the spend queue: what responses were charged, what was
 * recorded and how, and how the flush to the database keeps up.
 *
 * Metering is built before the metrics registry exists (server/serve.ts), and a process has one
 * of each, so the counts live in one process-wide MeteringStats of plain numbers, copied into the
 * registry when it is scraped (as the per-Check counters are: observability/scraped-counter.ts).
 * Labels come from the fixed sets below only, never ids, keys or models.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type ResponseOutcome = 'charged' | 'estimated' | 'unpriced' | 'unmetered' | 'upstream_error' | 'ignored';
export type RecordResult = 'recorded' | 'duplicate' | 'failed';
export type FlushedResult = 'written' | 'replayed' | 'unreadable' | 'refused';
export type BatchResult = 'ok' | 'failed';

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

export class MeteringStats {
  /** ext_proc exchanges by what became of them. */
  readonly responses = zeros<ResponseOutcome>(['charged', 'estimated', 'unpriced', 'unmetered', 'upstream_error', 'ignored']);
  /** Spend events handed to the recorder. */
  readonly events = zeros<RecordResult>(['recorded', 'duplicate', 'failed']);
  /** Sum of the cost of recorded events, in model_list's currency (LiteLLM's: USD). */
  recordedCost = 0;
  /** Events written straight to the database: no Redis, or Redis failing (counters missed them). */
  directWrites = 0;
  readonly batches = zeros<BatchResult>(['ok', 'failed']);
  readonly flushed = zeros<FlushedResult>(['written', 'replayed', 'unreadable', 'refused']);
  /** Queue entries taken over from a replica that read them and never acknowledged (it died). */
  claimed = 0;
  /** The spend stream's length, asked at scrape time; null while this process has no queue. */
  queueLength: (() => Promise<number>) | null = null;
}

/** The one instance a process records into (see above). */
export const meteringStats = new MeteringStats();

export function registerMeteringMetrics(registry: Registry, stats: MeteringStats = meteringStats): void {
  const registers = [registry];
  const labelled = <K extends string>(name: string, help: string, label: string, counts: Record<K, number>): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, count] of Object.entries<number>(counts)) this.inc({ [label]: value }, count);
      },
    });
  };
  const single = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };

  labelled(
    'tollgate_metered_responses_total',
    'ext_proc exchanges by outcome: charged, estimated (2xx without usage, charged an estimate), unpriced (model without a price, charged 0), unmetered (2xx without usage, not charged), upstream_error (not 2xx), ignored (tollgate.metering off)',
    'outcome',
    stats.responses,
  );
  labelled(
    'tollgate_spend_events_total',
    'Spend events by result: recorded, duplicate (this request id was already recorded), failed (not recorded)',
    'result',
    stats.events,
  );
  single('tollgate_spend_recorded_total', "Cost of the spend events recorded, in model_list's currency", () => stats.recordedCost);
  single(
    'tollgate_spend_direct_writes_total',
    'Spend events sent straight to the database (no Redis, or Redis failing): shared counters do not see them until they re-seed',
    () => stats.directWrites,
  );
  labelled('tollgate_spend_flush_batches_total', 'Batches moved from the spend queue to the database, by result (ok|failed)', 'result', stats.batches);
  labelled(
    'tollgate_spend_flushed_events_total',
    'Queue entries flushed: written, replayed (already in LiteLLM_SpendLogs, nothing added), unreadable (dropped), refused (a row the database would not take, dropped alone)',
    'result',
    stats.flushed,
  );
  single('tollgate_spend_flush_claimed_total', 'Queue entries taken over from a replica that read them and never acknowledged them', () => stats.claimed);
  new Gauge({
    name: 'tollgate_spend_queue_entries',
    help: 'Spend events queued in Redis and not yet acknowledged by a flush (all replicas)',
    registers,
    async collect() {
      const probe = stats.queueLength;
      if (probe === null) return;
      try {
        this.set(await probe());
      } catch {
        // A scrape must not fail because Redis does: the gauge keeps its last value.
      }
    },
  });
}
