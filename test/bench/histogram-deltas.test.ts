import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { backendLatency } from '../../bench/backend-latency';
import { checkDuration } from '../../bench/check-duration';
import { estimateQuantile, histogramDeltas, quantileUpperBound, type HistogramDelta } from '../../bench/histogram-deltas';
import { ScrapedHistogram } from '../../src/observability/scraped-histogram';

const BUCKETS = [0.001, 0.005, 0.01];

/** `count` observations spread evenly inside (low, high]. */
function observeMany(observe: (seconds: number) => void, count: number, low: number, high: number): void {
  for (let i = 1; i <= count; i += 1) observe(low + ((high - low) * i) / count);
}

describe('bench histogram deltas (Tollgate histograms read from /metrics)', () => {
  it("reads what a prom-client histogram observed between two scrapes, per series, merged as asked", async () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'demo_seconds', help: 'h', labelNames: ['result'], buckets: BUCKETS, registers: [registry] });
    // Observations before the first scrape are not the phase's.
    histogram.observe({ result: 'allow' }, 0.0005);
    const before = await registry.metrics();
    observeMany((s) => histogram.observe({ result: 'allow' }, s), 4, 0, 0.001);
    observeMany((s) => histogram.observe({ result: 'deny' }, s), 2, 0.005, 0.01);
    histogram.observe({ result: 'deny' }, 3);
    const after = await registry.metrics();

    const byResult = histogramDeltas(before, after, 'demo_seconds', (labels) => labels.result ?? '?');
    expect([...byResult.keys()].sort()).to.deep.equal(['allow', 'deny']);
    const allow = byResult.get('allow') as HistogramDelta;
    expect(allow.count).to.equal(4);
    expect(allow.sum).to.be.closeTo(0.00025 + 0.0005 + 0.00075 + 0.001, 1e-12);
    expect(allow.buckets).to.deep.equal([
      [0.001, 4],
      [0.005, 4],
      [0.01, 4],
      [Infinity, 4],
    ]);
    const deny = byResult.get('deny') as HistogramDelta;
    expect(deny.buckets).to.deep.equal([
      [0.001, 0],
      [0.005, 0],
      [0.01, 2],
      [Infinity, 3],
    ]);

    const merged = histogramDeltas(before, after, 'demo_seconds', () => 'all').get('all') as HistogramDelta;
    expect(merged.count).to.equal(7);
    expect(merged.buckets.at(-1)).to.deep.equal([Infinity, 7]);
    const denyOnly = histogramDeltas(before, after, 'demo_seconds', (labels) => (labels.result === 'deny' ? 'deny' : null));
    expect([...denyOnly.keys()]).to.deep.equal(['deny']);
  });

  it('interpolates quantiles as Prometheus histogram_quantile does, and gives the bucket bound', () => {
    // 10 in (0, 1 ms], 80 in (1, 5 ms], 10 in (5, 10 ms].
    const h: HistogramDelta = {
      count: 100,
      sum: 0.4,
      buckets: [
        [0.001, 10],
        [0.005, 90],
        [0.01, 100],
        [Infinity, 100],
      ],
    };
    expect(estimateQuantile(h, 0.5)).to.be.closeTo(0.001 + 0.004 * (40 / 80), 1e-12);
    expect(estimateQuantile(h, 0.99)).to.be.closeTo(0.005 + 0.005 * (9 / 10), 1e-12);
    expect(estimateQuantile(h, 0.05)).to.be.closeTo(0.0005, 1e-12); // from 0 inside the first bucket
    expect(quantileUpperBound(h, 0.5)).to.equal(0.005);
    expect(quantileUpperBound(h, 0.99)).to.equal(0.01);
  });

  it('past the last bound: the estimate stops at the highest finite bound, the bound is Infinity', () => {
    const h: HistogramDelta = {
      count: 10,
      sum: 30,
      buckets: [
        [0.001, 1],
        [0.005, 2],
        [Infinity, 10],
      ],
    };
    expect(estimateQuantile(h, 0.99)).to.equal(0.005);
    expect(quantileUpperBound(h, 0.99)).to.equal(Infinity);
    expect(Number.isNaN(estimateQuantile({ count: 0, sum: 0, buckets: [] }, 0.5))).to.equal(true);
  });

  it('keeps other metrics sharing the name as a prefix, and restarted series, out', () => {
    const text = (count: number): string =>
      [
        '# HELP demo_seconds h',
        '# TYPE demo_seconds histogram',
        `demo_seconds_bucket{le="+Inf",result="allow"} ${count}`,
        `demo_seconds_sum{result="allow"} ${count / 1000}`,
        `demo_seconds_count{result="allow"} ${count}`,
        'demo_seconds_other_bucket{le="+Inf"} 99',
        'demo_seconds_other_count 99',
        'demo_seconds_total 5',
      ].join('\n');
    const grown = histogramDeltas(text(10), text(15), 'demo_seconds', () => 'all').get('all') as HistogramDelta;
    expect(grown.count).to.equal(5);
    expect(grown.buckets).to.deep.equal([[Infinity, 5]]);
    // A process that restarted between the scrapes has fewer than before: no figure, not a negative one.
    expect(histogramDeltas(text(15), text(10), 'demo_seconds', () => 'all').size).to.equal(0);
  });

  it('reads label values with escaped quotes and commas', () => {
    const line = (count: number): string =>
      `demo_seconds_bucket{le="0.001",op="a \\"quoted\\", value"} ${count}\ndemo_seconds_count{op="a \\"quoted\\", value"} ${count}`;
    const deltas = histogramDeltas(line(1), line(3), 'demo_seconds', (labels) => labels.op ?? '?');
    expect([...deltas.keys()]).to.deep.equal(['a "quoted", value']);
    expect(deltas.get('a "quoted", value')?.count).to.equal(2);
  });

  it("reads Tollgate's own histograms (ScrapedHistogram) as the bench does", async () => {
    const registry = new Registry();
    const checks = new ScrapedHistogram(
      { name: 'tollgate_check_duration_seconds', help: 'h', labelNames: ['result'], buckets: [0.00005, 0.0001, 0.00025, 0.001] },
      [registry],
    );
    const calls = new ScrapedHistogram(
      { name: 'tollgate_backend_call_duration_seconds', help: 'h', labelNames: ['backend', 'operation'], buckets: [0.0005, 0.001, 0.0025] },
      [registry],
    );
    const before = await registry.metrics();
    observeMany((s) => checks.child('allow').observe(s), 98, 0.00005, 0.0001);
    observeMany((s) => checks.child('deny').observe(s), 2, 0.00025, 0.001);
    observeMany((s) => calls.child('mysql', 'findKey').observe(s), 3, 0.001, 0.002);
    calls.child('redis', 'GET').observe(0.0002);
    const after = await registry.metrics();

    const own = checkDuration(before, after);
    expect(own).to.not.equal(null);
    expect(own?.count).to.equal(100);
    // The exact mean, from sum and count: (98 allows averaging 75.26 µs + 625 + 1 000 µs) / 100.
    expect(own?.meanUs).to.be.closeTo(90, 1e-3);
    // Rank 50 of 98 in (50, 100 µs]: 50 + 50 × 50/98 µs.
    expect(own?.p50Us).to.be.closeTo(50 + (50 * 50) / 98, 1e-6);
    // Rank 99: the first deny, in (250 µs, 1 ms] after 98 allows; one of its two: halfway.
    expect(own?.p99Us).to.be.closeTo(250 + 750 * 0.5, 1e-6);
    expect(checkDuration(after, after)).to.equal(null);

    const backend = backendLatency(before, after);
    expect(backend.map((c) => [c.call, c.count])).to.deep.equal([
      ['mysql findKey', 3],
      ['redis GET', 1],
    ]);
    expect(backend[0]?.p99UpToUs).to.be.closeTo(2500, 1e-9);
    expect(backend[1]?.meanUs).to.be.closeTo(200, 1e-9);
  });
});
