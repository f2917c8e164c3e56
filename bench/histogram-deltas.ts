/**
 * A Prometheus histogram between two scrapes of `/metrics` (text exposition format): what was
 * observed in between, per series, and its quantiles the way Prometheus's `histogram_quantile`
 * computes them. The bench reads Tollgate's own histograms this way, from outside the process,
 * exactly as an operator's Prometheus would.
 */

export interface HistogramDelta {
  readonly count: number;
  /** Sum of the observed values (seconds for Tollgate's histograms). */
  readonly sum: number;
  /** Cumulative counts by upper bound, ascending; the last bound is Infinity (`le="+Inf"`). */
  readonly buckets: ReadonlyArray<readonly [bound: number, cumulative: number]>;
}

type Labels = Readonly<Record<string, string>>;

interface Totals {
  count: number;
  sum: number;
  buckets: Map<number, number>;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * The histogram `metric`'s series in one scrape, merged by `seriesOf` (labels without `le`; null
 * leaves the series out), so that e.g. every `result` of one histogram can be read as one.
 */
function read(text: string, metric: string, seriesOf: (labels: Labels) => string | null): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const part = name === `${metric}_bucket` ? 'bucket' : name === `${metric}_sum` ? 'sum' : name === `${metric}_count` ? 'count' : null;
    if (part === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of labelText.matchAll(LABEL)) labels[key] = value.replace(/\\(.)/g, '$1');
    const { le, ...rest } = labels;
    const series = seriesOf(rest);
    if (series === null) continue;
    const totals = out.get(series) ?? { count: 0, sum: 0, buckets: new Map<number, number>() };
    out.set(series, totals);
    const value = Number(valueText);
    if (part === 'sum') totals.sum += value;
    else if (part === 'count') totals.count += value;
    else if (le !== undefined) {
      const bound = le === '+Inf' ? Infinity : Number(le);
      totals.buckets.set(bound, (totals.buckets.get(bound) ?? 0) + value);
    }
  }
  return out;
}

/** What each series observed between `before` and `after`; series that observed nothing are left out. */
export function histogramDeltas(
  before: string,
  after: string,
  metric: string,
  seriesOf: (labels: Labels) => string | null,
): Map<string, HistogramDelta> {
  const start = read(before, metric, seriesOf);
  const out = new Map<string, HistogramDelta>();
  for (const [series, end] of read(after, metric, seriesOf)) {
    const from = start.get(series);
    const count = end.count - (from?.count ?? 0);
    // Fewer than before: the process restarted in between, and the difference means nothing.
    if (count <= 0) continue;
    const buckets = [...end.buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([bound, cumulative]): [number, number] => [bound, cumulative - (from?.buckets.get(bound) ?? 0)]);
    out.set(series, { count, sum: end.sum - (from?.sum ?? 0), buckets });
  }
  return out;
}

/** The upper bound of the bucket holding the q-quantile: the value is at most this (Infinity past the last bound). */
export function quantileUpperBound(histogram: HistogramDelta, q: number): number {
  const rank = q * histogram.count;
  return histogram.buckets.find(([, cumulative]) => cumulative >= rank)?.[0] ?? Infinity;
}

/**
 * Prometheus's `histogram_quantile`: linear interpolation inside the bucket holding the rank
 * (from 0 in the first bucket); in the +Inf bucket, the highest finite bound. An estimate, as
 * coarse as the buckets; NaN without observations.
 */
export function estimateQuantile(histogram: HistogramDelta, q: number): number {
  if (histogram.count <= 0) return Number.NaN;
  const rank = q * histogram.count;
  let lower = 0;
  let below = 0;
  for (const [bound, cumulative] of histogram.buckets) {
    if (cumulative >= rank) {
      if (bound === Infinity) return lower;
      const inBucket = cumulative - below;
      return inBucket > 0 ? lower + ((bound - lower) * (rank - below)) / inBucket : bound;
    }
    lower = bound;
    below = cumulative;
  }
  return lower;
}
