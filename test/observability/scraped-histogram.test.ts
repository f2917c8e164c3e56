import { expect } from 'chai';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { ScrapedHistogram } from '../../src/observability/scraped-histogram';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** A ScrapedHistogram and a prom-client Histogram of the same name, labels and buckets, each in its own registry. */
function aPair(labelNames: string[]): {
  scraped: ScrapedHistogram;
  reference: Histogram;
  scrapedRegistry: Registry;
  referenceRegistry: Registry;
} {
  const scrapedRegistry = new Registry();
  const referenceRegistry = new Registry();
  const config = { name: 't_seconds', help: 'test latency', labelNames, buckets: BUCKETS };
  return {
    scraped: new ScrapedHistogram(config, [scrapedRegistry]),
    reference: new Histogram({ ...config, registers: [referenceRegistry] }),
    scrapedRegistry,
    referenceRegistry,
  };
}

/** Scrape text, its lines sorted so only the samples, not their order, are compared. */
async function lines(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').sort();
}

/** On a bound, between bounds, below the first, above the last, and repeated. */
const OBSERVATIONS: ReadonlyArray<readonly [string, string, number]> = [
  ['allow', 'memory', 0.00005],
  ['allow', 'memory', 0.001],
  ['allow', 'memory', 0.0011],
  ['allow', 'memory', 0.1],
  ['deny', 'memory', 0.3],
  ['deny', 'shared', 1],
  ['deny', 'shared', 2.5],
  ['allow', 'memory', 0.001],
  ['undecided', 'shared', 30],
  ['allow', 'shared', 0],
  ['deny', 'memory', 0.05],
];

describe('ScrapedHistogram', () => {
  it('scrapes exactly as a prom-client Histogram fed the same observations', async () => {
    const { scraped, reference, scrapedRegistry, referenceRegistry } = aPair(['result', 'tier']);
    for (const [result, tier, seconds] of OBSERVATIONS) {
      scraped.child(result, tier).observe(seconds);
      reference.labels(result, tier).observe(seconds);
    }
    const text = await scrapedRegistry.metrics();
    expect(text).to.include('# TYPE t_seconds histogram');
    expect(text).to.include('t_seconds_bucket{le="0.001",result="allow",tier="memory"} 3');
    expect(text).to.include('t_seconds_bucket{le="+Inf",result="undecided",tier="shared"} 1');
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
  });

  it('scrapes exactly as a prom-client Histogram without labels, before and after observations', async () => {
    const { scraped, reference, scrapedRegistry, referenceRegistry } = aPair([]);
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
    for (const [, , seconds] of OBSERVATIONS) {
      scraped.child().observe(seconds);
      reference.observe(seconds);
    }
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
  });

  it('shows a labelled series only once observed, as prom-client does', async () => {
    const { scraped, reference, scrapedRegistry, referenceRegistry } = aPair(['result', 'tier']);
    scraped.child('allow', 'memory');
    reference.labels('allow', 'memory');
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
    expect(await scrapedRegistry.metrics()).not.to.include('t_seconds_count');
  });

  it('drops non-finite and negative values without touching the sum or the counts', async () => {
    const { scraped, reference, scrapedRegistry, referenceRegistry } = aPair(['result']);
    const allow = scraped.child('allow');
    for (const ignored of [Number.NaN, Infinity, -Infinity, -0.5]) allow.observe(ignored);
    expect(await scrapedRegistry.metrics()).not.to.include('t_seconds_count');
    allow.observe(0.002);
    allow.observe(-1);
    allow.observe(Number.NaN);
    reference.labels('allow').observe(0.002);
    const text = await scrapedRegistry.metrics();
    expect(text).to.include('t_seconds_sum{result="allow"} 0.002');
    expect(text).to.include('t_seconds_count{result="allow"} 1');
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
  });

  it('refuses a wrong number of label values', () => {
    const histogram = new ScrapedHistogram({ name: 't2_seconds', help: 'test', labelNames: ['result'], buckets: BUCKETS }, [
      new Registry(),
    ]);
    expect(() => histogram.child('a', 'b')).to.throw(/expected 1 label values/);
    expect(() => histogram.child()).to.throw(/expected 1 label values/);
  });

  it('refuses buckets that do not ascend, and an le label', () => {
    expect(() => new ScrapedHistogram({ name: 't3_seconds', help: 'test', labelNames: [], buckets: [0.1, 0.01] }, [new Registry()])).to.throw(
      /ascending/,
    );
    expect(() => new ScrapedHistogram({ name: 't4_seconds', help: 'test', labelNames: ['le'], buckets: BUCKETS }, [new Registry()])).to.throw(
      /reserved/,
    );
  });

  it('gives the same text at every scrape, adding only what was observed since', async () => {
    const { scraped, reference, scrapedRegistry, referenceRegistry } = aPair(['result', 'tier']);
    scraped.child('allow', 'memory').observe(0.004);
    reference.labels('allow', 'memory').observe(0.004);
    const first = await scrapedRegistry.metrics();
    expect(await scrapedRegistry.metrics()).to.equal(first);
    scraped.child('allow', 'memory').observe(0.04);
    reference.labels('allow', 'memory').observe(0.04);
    const second = await scrapedRegistry.metrics();
    expect(second).to.include('t_seconds_count{result="allow",tier="memory"} 2');
    expect(await scrapedRegistry.metrics()).to.equal(second);
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
  });

  it('forgets its observations on Registry.resetMetrics, keeping its handles', async () => {
    const { scraped, reference, scrapedRegistry, referenceRegistry } = aPair(['result']);
    const allow = scraped.child('allow');
    allow.observe(0.5);
    reference.labels('allow').observe(0.5);
    scrapedRegistry.resetMetrics();
    referenceRegistry.resetMetrics();
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
    allow.observe(0.02);
    reference.labels('allow').observe(0.02);
    expect(await lines(scrapedRegistry)).to.deep.equal(await lines(referenceRegistry));
  });

  it('sums across cluster workers as a prom-client Histogram does (serve --workers N)', async () => {
    const workers = [aPair(['result', 'tier']), aPair(['result', 'tier'])];
    OBSERVATIONS.forEach(([result, tier, seconds], i) => {
      const worker = workers[i % 2] as (typeof workers)[number];
      worker.scraped.child(result, tier).observe(seconds);
      worker.reference.labels(result, tier).observe(seconds);
    });
    const scrapedJson = await Promise.all(workers.map((w) => w.scrapedRegistry.getMetricsAsJSON()));
    const referenceJson = await Promise.all(workers.map((w) => w.referenceRegistry.getMetricsAsJSON()));
    const scraped = await AggregatorRegistry.aggregate(scrapedJson).metrics();
    expect(scraped).to.include('t_seconds_count{result="allow",tier="memory"} 5');
    expect(scraped.split('\n').sort()).to.deep.equal((await AggregatorRegistry.aggregate(referenceJson).metrics()).split('\n').sort());
  });
});
