/**
 * Tollgate's own time per Check, from the moment its handler receives the decoded request to the
 * moment its answer is built: `tollgate_check_duration_seconds`, every result together, read
 * from /metrics before and after a phase. It leaves out what any server pays (HTTP/2, gRPC framing,
 * waiting to be scheduled, the client), so it shows Tollgate's share of a latency the client
 * measures. Quantiles are interpolated inside the buckets, as Prometheus does: estimates.
 */
import { estimateQuantile, histogramDeltas } from './histogram-deltas';

const METRIC = 'tollgate_check_duration_seconds';

export interface CheckDuration {
  readonly count: number;
  /** Exact (the histogram's sum over its count), where the quantiles are estimates. */
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/** Checks answered between two scrapes; null when none were. */
export function checkDuration(before: string, after: string): CheckDuration | null {
  const all = histogramDeltas(before, after, METRIC, () => 'all').get('all');
  if (all === undefined) return null;
  return {
    count: all.count,
    meanUs: (all.sum / all.count) * 1e6,
    p50Us: estimateQuantile(all, 0.5) * 1e6,
    p99Us: estimateQuantile(all, 0.99) * 1e6,
  };
}
