import { expect } from 'chai';
import type { WindowSpend } from '../../src/domain/entities';
import {
  applyWindowSums,
  FULL_SUM_EVERY_MS,
  fullRefresh,
  isWindowSpend,
  planWindowRefresh,
  rangesOf,
  SETTLE_LAG_MS,
  windowSpendTotal,
} from '../../src/spend/window-spend';

const T0 = Date.parse('2030-03-31T15:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A 30-day rolling window's state as taken at `at`, last summed in full at `fullAt`. */
function stateAt(at: number, fields: Partial<WindowSpend> = {}): WindowSpend {
  return { start: at - 30 * DAY, settledEnd: at - SETTLE_LAG_MS, settled: 10, settledRows: 4, tail: 1, at, fullAt: at, ...fields };
}

const NO_SUMS = { aged: 0, agedRows: 0, settled: 0, settledRows: 0, tail: 0 };

describe('window spend kept incrementally: which ranges a refresh reads', () => {
  it('sums in full from nothing: an empty settled part at the start, extended to now - the settle lag, and the tail after it', () => {
    const refresh = planWindowRefresh(null, T0 - 30 * DAY, T0);
    expect(refresh.full).to.equal(true);
    expect(rangesOf(refresh)).to.deep.equal({ agedFrom: T0 - 30 * DAY, agedTo: T0 - 30 * DAY, settledFrom: T0 - 30 * DAY, settledTo: T0 - SETTLE_LAG_MS });
  });

  it('continues a state: what aged out of a rolling window, and the minute that settled since', () => {
    const previous = stateAt(T0);
    const refresh = planWindowRefresh(previous, T0 + 65_000 - 30 * DAY, T0 + 65_000);
    expect(refresh.full).to.equal(false);
    expect(rangesOf(refresh)).to.deep.equal({
      agedFrom: T0 - 30 * DAY,
      agedTo: T0 + 65_000 - 30 * DAY,
      settledFrom: T0 - SETTLE_LAG_MS,
      settledTo: T0 + 60_000 - SETTLE_LAG_MS,
    });
  });

  it('settles up to the minute boundary before now - the lag, where the window tails in Redis take over', () => {
    const refresh = planWindowRefresh(stateAt(T0), T0 + 59_999 - 30 * DAY, T0 + 59_999);
    expect(refresh.full).to.equal(false);
    expect(rangesOf(refresh)).to.include({ settledFrom: T0 - SETTLE_LAG_MS, settledTo: T0 - SETTLE_LAG_MS });
    expect(planWindowRefresh(null, T0 + 30_500 - 30 * DAY, T0 + 30_500).settledEnd).to.equal(T0 - SETTLE_LAG_MS);
  });

  it('ages nothing out of a window with a fixed start (reset_at)', () => {
    const start = T0 - 10 * DAY;
    const refresh = planWindowRefresh(stateAt(T0, { start }), start, T0 + 5000);
    expect(refresh.full).to.equal(false);
    expect(rangesOf(refresh)).to.include({ agedFrom: start, agedTo: start });
  });

  it('settles nothing in a window younger than the lag: all of it is tail', () => {
    const refresh = planWindowRefresh(null, T0 - 60_000, T0);
    expect(rangesOf(refresh)).to.deep.equal({ agedFrom: T0 - 60_000, agedTo: T0 - 60_000, settledFrom: T0 - 60_000, settledTo: T0 - 60_000 });
  });

  const fullSumCases: [string, WindowSpend, number, number][] = [
    ['the start moved backwards', stateAt(T0), T0 - 30 * DAY - 1, T0 + 5000],
    ['the start moved past the old settled end (a long-idle entry)', stateAt(T0), T0, T0 + 5000],
    ['the start jumped forwards an hour or more (another reset_at, a month changing length)', stateAt(T0), T0 + HOUR - 30 * DAY, T0 + 5000],
    ['the clock stepped back', stateAt(T0), T0 - 5000 - 30 * DAY, T0 - 5000],
    ['the last full sum is FULL_SUM_EVERY_MS old', stateAt(T0, { fullAt: T0 + 5000 - FULL_SUM_EVERY_MS }), T0 + 5000 - 30 * DAY, T0 + 5000],
    ['the state is malformed (from the shared tier)', { ...stateAt(T0), settledRows: -1 }, T0 + 5000 - 30 * DAY, T0 + 5000],
    ['the state is an older version\'s bare number', 12 as unknown as WindowSpend, T0 + 5000 - 30 * DAY, T0 + 5000],
  ];
  for (const [why, previous, start, now] of fullSumCases) {
    it(`sums in full when ${why}`, () => {
      const refresh = planWindowRefresh(previous, start, now);
      expect(refresh.full).to.equal(true);
      expect(refresh.base).to.include({ start, settledEnd: start, settled: 0, settledRows: 0, fullAt: now });
    });
  }
});

describe('window spend kept incrementally: the state after a refresh', () => {
  it('adds what settled, subtracts what aged out, takes the new tail, and keeps when the full sum was', () => {
    const previous = stateAt(T0, { fullAt: T0 - HOUR / 2 });
    const refresh = planWindowRefresh(previous, T0 + 65_000 - 30 * DAY, T0 + 65_000);
    const next = applyWindowSums(refresh, { aged: 2, agedRows: 1, settled: 0.5, settledRows: 2, tail: 3 });
    expect(next).to.deep.equal({
      start: T0 + 65_000 - 30 * DAY,
      settledEnd: T0 + 60_000 - SETTLE_LAG_MS,
      settled: 8.5,
      settledRows: 5,
      tail: 3,
      at: T0 + 65_000,
      fullAt: T0 - HOUR / 2,
    });
    expect(windowSpendTotal(next)).to.equal(11.5);
  });

  it('is exactly 0 once the last settled row aged out, whatever rounding was left', () => {
    const previous = stateAt(T0, { settled: 0.1 + 0.2, settledRows: 2 });
    const next = applyWindowSums(planWindowRefresh(previous, T0 + 5000 - 30 * DAY, T0 + 5000), { ...NO_SUMS, aged: 0.3, agedRows: 2 });
    expect(next?.settled).to.equal(0);
  });

  it('takes a rounding-sized negative as 0', () => {
    const previous = stateAt(T0, { settled: 0.1 + 0.2 - 0.3 + 1e-17, settledRows: 3 });
    const next = applyWindowSums(planWindowRefresh(previous, T0 + 5000 - 30 * DAY, T0 + 5000), { ...NO_SUMS, aged: 1e-16, agedRows: 1 });
    expect(next?.settled).to.equal(0);
  });

  it('wants a full sum when more aged out than was settled (rows deleted or rewritten under it)', () => {
    const refresh = planWindowRefresh(stateAt(T0), T0 + 5000 - 30 * DAY, T0 + 5000);
    expect(applyWindowSums(refresh, { ...NO_SUMS, aged: 10, agedRows: 5 })).to.equal(null);
    expect(applyWindowSums(refresh, { ...NO_SUMS, aged: 11, agedRows: 1 })).to.equal(null);
  });

  it('takes a full sum as it comes', () => {
    const refresh = fullRefresh(T0 - DAY, T0);
    expect(applyWindowSums(refresh, { ...NO_SUMS, settled: 4, settledRows: 2, tail: 1 })).to.deep.equal({
      start: T0 - DAY,
      settledEnd: T0 - SETTLE_LAG_MS,
      settled: 4,
      settledRows: 2,
      tail: 1,
      at: T0,
      fullAt: T0,
    });
  });
});

describe('window spend: reading a cached value', () => {
  it('reads a state as settled + tail, a bare number as itself, and anything else as no spend', () => {
    expect(windowSpendTotal(stateAt(T0))).to.equal(11);
    expect(windowSpendTotal(2.5)).to.equal(2.5);
    expect(windowSpendTotal(null)).to.equal(0);
    expect(windowSpendTotal({ settled: 1 } as unknown as WindowSpend)).to.equal(0);
  });

  it('accepts only a complete, ordered state', () => {
    expect(isWindowSpend(stateAt(T0))).to.equal(true);
    expect(isWindowSpend({ ...stateAt(T0), tail: '1' })).to.equal(false);
    expect(isWindowSpend({ ...stateAt(T0), settledRows: 1.5 })).to.equal(false);
    expect(isWindowSpend({ ...stateAt(T0), settledEnd: T0 - 31 * DAY })).to.equal(false);
    expect(isWindowSpend({ ...stateAt(T0), fullAt: T0 + 1 })).to.equal(false);
    expect(isWindowSpend({ ...stateAt(T0), at: Number.NaN })).to.equal(false);
  });
});
