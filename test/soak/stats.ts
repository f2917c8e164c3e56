/**
 * Numbers for the soak report: latency percentiles per window, and whether a series stayed flat
 * (least-squares slope, projected over the run, small next to the series' own level).
 */

/** Nearest-rank percentile of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Least-squares slope of y over x (units of y per unit of x); 0 for fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface Flatness {
  readonly slopePerMinute: number;
  /** Growth the slope predicts over the measured span. */
  readonly projectedChange: number;
  readonly median: number;
  readonly flat: boolean;
}

/**
 * Flat when the trend over the span moves the series by less than `relative` of its median, or
 * by less than `absolute` (tiny series jitter in relative terms). x is in seconds.
 */
export function flatness(points: ReadonlyArray<readonly [number, number]>, relative: number, absolute: number): Flatness {
  const perSecond = slope(points);
  const xs = points.map(([x]) => x);
  const span = xs.length === 0 ? 0 : Math.max(...xs) - Math.min(...xs);
  const projectedChange = perSecond * span;
  const median = percentile(
    points.map(([, y]) => y),
    50,
  );
  const flat = projectedChange <= Math.max(relative * median, absolute);
  return { slopePerMinute: perSecond * 60, projectedChange, median, flat };
}
