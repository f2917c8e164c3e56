/**
 * A Prometheus histogram for the request path, on the same idea as scraped-counter.ts: an
 * observation is a bucket scan and three additions on a kept handle, and the series are built only
 * when the registry is scraped. prom-client's own `observe` validates and hashes its labels and
 * re-looks up its series on every call, about 2 µs per Check under load.
 *
 * The registered object is not a prom-client Histogram: its public API can only add observations,
 * which cannot reproduce a kept sum exactly. Instead it answers `get()` with the same values, in the
 * same shapes, that prom-client's Histogram gives, so the text scrape, `getMetricsAsJSON` and the
 * cluster aggregation of `serve --workers N` (which sums workers' values by `aggregator`) all see
 * a histogram they cannot tell from prom-client's.
 */
import type { Metric, Registry } from 'prom-client';
import { labelRecord } from './label-record';

export interface HistogramHandle {
  /** Seconds; a non-finite or negative value is dropped (prom-client would throw on the request path). */
  observe(seconds: number): void;
}

interface Child extends HistogramHandle {
  readonly labels: Record<string, string>;
  /** Per bucket, not cumulative; the last slot holds values above the highest bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** One sample as prom-client's Histogram `get()` gives it (labels splayed, `le` first). */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

export class ScrapedHistogram {
  private readonly children = new Map<string, Child>();
  private readonly labelNames: readonly string[];
  private readonly buckets: readonly number[];

  constructor(
    config: { readonly name: string; readonly help: string; readonly labelNames: readonly string[]; readonly buckets: readonly number[] },
    registers: Registry[],
  ) {
    const { name, help, labelNames, buckets } = config;
    if (labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    // The bucket scan stops at the first bound not below the value, which is only right if they ascend.
    buckets.forEach((bound, i) => {
      if (!Number.isFinite(bound) || (i > 0 && bound <= (buckets[i - 1] as number))) {
        throw new Error(`histogram buckets must be finite and ascending, got ${buckets.join(', ')}`);
      }
    });
    this.labelNames = labelNames;
    this.buckets = [...buckets];
    // prom-client's unlabelled histogram shows zeros before any observation; so does this one.
    if (labelNames.length === 0) this.child();

    const children = this.children;
    const bounds = this.buckets;
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async (): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> => ({
        name,
        help,
        type: 'histogram',
        values: samples(name, bounds, labelNames.length === 0, children.values()),
        aggregator: 'sum',
      }),
      // Registry.resetMetrics: forget the observations, keep the handles valid.
      reset: (): void => {
        for (const child of children.values()) {
          child.counts.fill(0);
          child.sum = 0;
          child.count = 0;
        }
      },
    };
    // registerMetric is typed for prom-client's own classes, but reads only name, get() and reset()
    // (prom-client registers its cluster-aggregated metrics as plain objects the same way).
    for (const registry of registers) registry.registerMetric(metric as unknown as Metric);
  }

  /** The handle for one combination of label values (label sets are small and fixed: keep it). */
  child(...values: string[]): HistogramHandle {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      const labels = labelRecord(this.labelNames, values);
      const bounds = this.buckets;
      const last = bounds.length;
      const created: Child = {
        labels,
        counts: new Array<number>(last + 1).fill(0),
        sum: 0,
        count: 0,
        observe(seconds) {
          if (!(seconds >= 0 && seconds < Infinity)) return;
          let i = 0;
          while (i < last && seconds > (bounds[i] as number)) i += 1;
          (created.counts[i] as number) += 1;
          created.sum += seconds;
          created.count += 1;
        },
      };
      child = created;
      this.children.set(key, child);
    }
    return child;
  }
}

/**
 * What prom-client's Histogram exposes: per series, cumulative `_bucket` samples with `le` (a
 * number, then '+Inf'), `_sum` and `_count`. A labelled series appears with its first observation,
 * as prom-client's does, so a bound but unused handle adds nothing to the scrape.
 */
function samples(name: string, bounds: readonly number[], unlabelled: boolean, children: Iterable<Child>): Sample[] {
  const values: Sample[] = [];
  for (const child of children) {
    if (child.count === 0 && !unlabelled) continue;
    let cumulative = 0;
    bounds.forEach((le, i) => {
      cumulative += child.counts[i] as number;
      values.push({ labels: { le, ...child.labels }, value: cumulative, metricName: `${name}_bucket` });
    });
    values.push({ labels: { le: '+Inf', ...child.labels }, value: child.count, metricName: `${name}_bucket` });
    values.push({ labels: { ...child.labels }, value: child.sum, metricName: `${name}_sum` });
    values.push({ labels: { ...child.labels }, value: child.count, metricName: `${name}_count` });
  }
  return values;
}
