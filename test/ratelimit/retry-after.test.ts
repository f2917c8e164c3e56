import { expect } from 'chai';
import { msUntilAdmitted, retryAfterSeconds, type WindowCounts } from '../../src/ratelimit/retry-after';

/** A time `seconds` into some minute. */
const at = (seconds: number): number => 1_000 * 60_000 + seconds * 1000;
const rpm = (limit: number, previous: number, current: number): WindowCounts => ({ metric: 'rpm', limit, previous, current });
const tpm = (limit: number, previous: number, current: number, amount = 1): WindowCounts => ({ metric: 'tpm', limit, previous, current, amount });

describe('rate limits: retry-after from the sliding window', () => {
  const rows: ReadonlyArray<readonly [string, number, WindowCounts, number | null]> = [
    ['admits now: nothing to wait for', at(10), rpm(4, 2, 1), 0],
    // 4 × (1 − x/60) + 1 + 1 <= 4 → x >= 30 s; 10 s in → 20 s.
    ['rpm: the previous minute weighs less as it slides out; waits until it has fallen enough', at(10), rpm(4, 4, 1), 20_000],
    // Current bucket full: next minute (50 s away), where 4 × (1 − x/60) + 1 <= 4 → x >= 15 s.
    ['rpm: a full current minute waits for the next one, where it is the weighted bucket', at(10), rpm(4, 0, 4), 65_000],
    ['rpm: a limit of 1 frees only when the whole used minute has slid out', at(59), rpm(1, 0, 1), 61_000],
    // tpm admits while used + the request's estimate <= limit (v3 refuses current + estimate > limit):
    // 1000 × (1 − x/60) + 100 <= 500 → x >= 36 s.
    ['tpm: waits until the weighted count leaves room for the estimate the request reserves', at(0), tpm(500, 1000, 0, 100), 36_000],
    // Next minute (30 s away): 1000 × (1 − x/60) + 1 <= 1000 → x >= 0.06 s.
    ['tpm: a current minute at the limit waits for the next minute', at(30), tpm(1000, 0, 1000), 30_060],
    ['tpm: an estimate above the limit never fits', at(10), tpm(100, 0, 0, 101), null],
    ['a limit of 0 never admits', at(10), rpm(0, 0, 0), null],
  ];
  for (const [name, now, counts, expected] of rows) {
    it(name, () => {
      const wait = msUntilAdmitted(now, counts);
      if (expected === null) expect(wait).to.equal(null);
      else expect(wait).to.be.closeTo(expected, 1e-6);
    });
  }

  it('answers whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(at(10), [rpm(4, 4, 1)])).to.equal(20);
    expect(retryAfterSeconds(at(0), [tpm(500, 1000, 0)])).to.equal(31);
    expect(retryAfterSeconds(at(10), [rpm(4, 2, 1)]), 'even when the window already has room').to.equal(1);
  });

  it('waits for the slowest of the limits: the request is admitted only when all of them fit', () => {
    expect(retryAfterSeconds(at(10), [rpm(4, 4, 1), rpm(4, 0, 4), tpm(10, 0, 0)])).to.equal(65);
  });

  it("answers the seconds to the next minute for a limit that never admits, as LiteLLM's limiter does", () => {
    expect(retryAfterSeconds(at(10.5), [rpm(0, 0, 0)])).to.equal(50);
  });
});
