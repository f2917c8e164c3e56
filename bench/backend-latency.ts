/**
 * Where a cold Check waits: Tollgate's own `tollgate_backend_call_duration_seconds` histogram
 * (one series per database lookup and Redis command), read from /metrics before and after a
 * phase. The quantile is the upper bound of the bucket it falls in, so it is coarse by design.
 */
const METRIC = 'tollgate_backend_call_duration_seconds';

export interface CallLatency {
  readonly call: string;
  readonly count: number;
  readonly meanUs: number;
  /** Upper bound of the bucket holding the 99th percentile, µs (Infinity past the last bucket). */
  readonly p99UpToUs: number;
}

type Series = Map<string, { buckets: Map<number, number>; sum: number; count: number }>;

function parse(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(METRIC)) continue;
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const call = `${labels.backend ?? '?'} ${labels.operation ?? '?'}`;
    const entry = series.get(call) ?? { buckets: new Map<number, number>(), sum: 0, count: 0 };
    series.set(call, entry);
    const value = Number(valueText);
    if (name.endsWith('_bucket')) entry.buckets.set(labels.le === '+Inf' ? Infinity : Number(labels.le), value);
    else if (name.endsWith('_sum')) entry.sum = value;
    else if (name.endsWith('_count')) entry.count = value;
  }
  return series;
}

/** Calls made between two scrapes, by backend and operation, most frequent first. */
export function backendLatency(before: string, after: string): CallLatency[] {
  const start = parse(before);
  const out: CallLatency[] = [];
  for (const [call, end] of parse(after)) {
    const from = start.get(call);
    const count = end.count - (from?.count ?? 0);
    if (count <= 0) continue;
    const sum = end.sum - (from?.sum ?? 0);
    const bounds = [...end.buckets.keys()].sort((a, b) => a - b);
    const p99 = bounds.find((le) => (end.buckets.get(le) ?? 0) - (from?.buckets.get(le) ?? 0) >= 0.99 * count) ?? Infinity;
    out.push({ call, count, meanUs: (sum / count) * 1e6, p99UpToUs: p99 * 1e6 });
  }
  return out.sort((a, b) => b.count - a.count);
}
