/**
 * Where a cold Check waits: Tollgate's own `tollgate_backend_call_duration_seconds` histogram
 * (one series per database lookup and Redis command), read from /metrics before and after a
 * phase. The quantile is the upper bound of the bucket it falls in, so it is coarse by design.
 */
import { histogramDeltas, quantileUpperBound } from './histogram-deltas';

const METRIC = 'tollgate_backend_call_duration_seconds';

export interface CallLatency {
  readonly call: string;
  readonly count: number;
  readonly meanUs: number;
  /** Upper bound of the bucket holding the 99th percentile, µs (Infinity past the last bucket). */
  readonly p99UpToUs: number;
}

/** Calls made between two scrapes, by backend and operation, most frequent first. */
export function backendLatency(before: string, after: string): CallLatency[] {
  const calls = histogramDeltas(before, after, METRIC, (labels) => `${labels.backend ?? '?'} ${labels.operation ?? '?'}`);
  return [...calls.entries()]
    .map(([call, h]) => ({ call, count: h.count, meanUs: (h.sum / h.count) * 1e6, p99UpToUs: quantileUpperBound(h, 0.99) * 1e6 }))
    .sort((a, b) => b.count - a.count);
}
