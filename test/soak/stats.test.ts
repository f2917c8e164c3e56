import { expect } from 'chai';
import { flatness, percentile, slope } from './stats';

describe('soak statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).to.equal(50);
    expect(percentile(samples, 99)).to.equal(99);
    expect(percentile(samples, 100)).to.equal(100);
    expect(Number.isNaN(percentile([], 50))).to.equal(true);
  });

  it('fits a least-squares slope', () => {
    expect(slope([[0, 1], [1, 3], [2, 5]])).to.equal(2);
    expect(slope([[0, 4]])).to.equal(0);
  });

  it('calls a series flat when its trend is small next to its level, and a leak not flat', () => {
    const steady = Array.from({ length: 30 }, (_, i): [number, number] => [i * 10, 100 + (i % 3)]);
    expect(flatness(steady, 0.1, 1).flat).to.equal(true);
    const leaking = Array.from({ length: 30 }, (_, i): [number, number] => [i * 10, 100 + i * 2]);
    expect(flatness(leaking, 0.1, 1).flat).to.equal(false);
  });
});
