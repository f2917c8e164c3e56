import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ScrapedCounter } from '../../src/observability/scraped-counter';

describe('ScrapedCounter', () => {
  it('exposes the totals of each label combination at every scrape, without double counting', async () => {
    const registry = new Registry();
    const counter = new ScrapedCounter({ name: 't_total', help: 'test', labelNames: ['kind', 'tier'] }, [registry]);
    const memory = counter.child('key', 'memory');
    memory.inc();
    memory.inc();
    counter.child('key', 'shared').inc();
    expect(counter.child('key', 'memory')).to.equal(memory);
    const first = await registry.metrics();
    expect(first).to.include('t_total{kind="key",tier="memory"} 2');
    expect(first).to.include('t_total{kind="key",tier="shared"} 1');
    memory.inc();
    const second = await registry.metrics();
    expect(second).to.include('t_total{kind="key",tier="memory"} 3');
    expect(second).to.include('t_total{kind="key",tier="shared"} 1');
  });

  it('refuses a wrong number of label values', () => {
    const counter = new ScrapedCounter({ name: 't2_total', help: 'test', labelNames: ['kind'] }, [new Registry()]);
    expect(() => counter.child('a', 'b')).to.throw(/expected 1 label values/);
  });
});
