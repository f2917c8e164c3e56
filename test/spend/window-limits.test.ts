import { expect } from 'chai';
import type { BudgetWindowLimit } from '../../src/domain/entities';
import { budgetWindowStart, parseBudgetLimits, windowSpendId, windowSpendIdParts } from '../../src/spend/window-limits';

describe('budget_limits: the windows LiteLLM enforces (budget_reservation.py _get_budget_limit_counters, _coerce_window)', () => {
  it('reads each window: duration, max budget, reset_at (an ISO text, naive read as UTC)', () => {
    expect(
      parseBudgetLimits([
        { budget_duration: '24h', max_budget: 10, reset_at: null },
        { budget_duration: '30d', max_budget: 100.5, reset_at: '2026-11-01T00:00:00Z' },
        { budget_duration: '1mo', max_budget: 5, reset_at: '2026-11-01 12:30:00' },
        { budget_duration: '7d', max_budget: 1, reset_at: '2026-11-01T00:00:00+02:00' },
      ]),
    ).to.deep.equal([
      { budget_duration: '24h', max_budget: 10, reset_at: null },
      { budget_duration: '30d', max_budget: 100.5, reset_at: new Date('2026-11-01T00:00:00Z') },
      { budget_duration: '1mo', max_budget: 5, reset_at: new Date('2026-11-01T12:30:00Z') },
      { budget_duration: '7d', max_budget: 1, reset_at: new Date('2026-10-31T22:00:00Z') },
    ]);
  });

  it('reads a window stored as a JSON string (_coerce_window json.loads)', () => {
    expect(parseBudgetLimits(['{"budget_duration": "1d", "max_budget": 2}'])).to.deep.equal([{ budget_duration: '1d', max_budget: 2, reset_at: null }]);
  });

  it('keeps a window whose reset_at cannot be read as a rolling one (_coerce_datetime → None)', () => {
    expect(parseBudgetLimits([{ budget_duration: '1d', max_budget: 2, reset_at: 'soon' }])).to.deep.equal([
      { budget_duration: '1d', max_budget: 2, reset_at: null },
    ]);
  });

  const malformed: ReadonlyArray<readonly [string, unknown]> = [
    ['no budget_duration', { max_budget: 5 }],
    ['an empty budget_duration (falsy)', { budget_duration: '', max_budget: 5 }],
    ['a duration duration_in_seconds cannot read', { budget_duration: 'fortnight', max_budget: 5 }],
    ['a number without a unit', { budget_duration: '10', max_budget: 5 }],
    ['no max_budget', { budget_duration: '1d' }],
    ['a null max_budget', { budget_duration: '1d', max_budget: null }],
    ['a max_budget that is not a number', { budget_duration: '1d', max_budget: '5' }],
    ['a string that is not JSON', 'not json'],
    ['a JSON string of a list', '[1, 2]'],
    ['a number', 5],
    ['null', null],
  ];
  for (const [why, window] of malformed) {
    it(`ignores a window with ${why}, keeping the others`, () => {
      expect(parseBudgetLimits([window, { budget_duration: '1h', max_budget: 1 }])).to.deep.equal([{ budget_duration: '1h', max_budget: 1, reset_at: null }]);
    });
  }

  it('reads no window from a column that is not a list (null, an object, a string)', () => {
    for (const column of [null, undefined, {}, { budget_duration: '1d', max_budget: 1 }, '[{"budget_duration": "1d", "max_budget": 1}]']) {
      expect(parseBudgetLimits(column)).to.deep.equal([]);
    }
  });

  it('accepts LiteLLM\'s words for durations ("daily" is 24h)', () => {
    expect(parseBudgetLimits([{ budget_duration: 'daily', max_budget: 1 }])).to.have.length(1);
  });
});

describe('get_budget_window_start', () => {
  const now = Date.parse('2026-10-15T12:00:00.000Z');

  it('is now - duration for a window without reset_at (a rolling window)', () => {
    expect(budgetWindowStart({ budget_duration: '24h', reset_at: null }, now)).to.deep.equal(new Date('2026-10-14T12:00:00.000Z'));
    expect(budgetWindowStart({ budget_duration: '30m', reset_at: null }, now)).to.deep.equal(new Date('2026-10-15T11:30:00.000Z'));
    expect(budgetWindowStart({ budget_duration: '2w', reset_at: null }, now)).to.deep.equal(new Date('2026-10-01T12:00:00.000Z'));
  });

  it('is reset_at - duration when the window has a reset time', () => {
    expect(budgetWindowStart({ budget_duration: '1d', reset_at: new Date('2026-10-16T00:00:00Z') }, now)).to.deep.equal(new Date('2026-10-15T00:00:00Z'));
  });

  it("counts months as duration_in_seconds does: from now to the same day N months on (Oct 15 → Nov 15: 31 days)", () => {
    expect(budgetWindowStart({ budget_duration: '1mo', reset_at: null }, now)).to.deep.equal(new Date('2026-09-14T12:00:00.000Z'));
    expect(budgetWindowStart({ budget_duration: '1mo', reset_at: new Date('2026-11-01T00:00:00Z') }, now)).to.deep.equal(
      new Date('2026-10-01T00:00:00Z'),
    );
  });

  it('is null for a duration LiteLLM cannot read', () => {
    expect(budgetWindowStart({ budget_duration: 'soon', reset_at: null }, now)).to.equal(null);
  });

  it('starts a window longer than any date can reach (1000000000d, 99999999999mo) at 1000-01-01, so it holds every row', () => {
    const earliest = new Date('1000-01-01T00:00:00.000Z');
    for (const budget_duration of ['1000000000d', '99999999999mo', '999999w']) {
      expect(budgetWindowStart({ budget_duration, reset_at: null }, now), budget_duration).to.deep.equal(earliest);
      expect(budgetWindowStart({ budget_duration, reset_at: new Date('2026-11-01T00:00:00Z') }, now), budget_duration).to.deep.equal(earliest);
    }
    expect(budgetWindowStart({ budget_duration: '365000d', reset_at: null }, now)).to.deep.equal(new Date(now - 365_000 * 86_400_000));
  });

  it('starts a window whose reset_at lies past 9999-12-31 in UTC at the last millisecond of that day, so it holds no row', () => {
    const [window] = parseBudgetLimits([{ budget_duration: '1h', max_budget: 1, reset_at: '9999-12-31T23:59:59-14:00' }]);
    expect(budgetWindowStart(window as BudgetWindowLimit, now)).to.deep.equal(new Date('9999-12-31T23:59:59.999Z'));
  });
});

describe('windowSpendId', () => {
  it('names a window by entity, id, duration and end, and is read back', () => {
    const window = { budget_duration: '1d', reset_at: new Date('2026-10-16T00:00:00Z') };
    expect(windowSpendIdParts(windowSpendId('team', 'team-1', window))).to.deep.equal({ entity: 'team', entityId: 'team-1', window });
    expect(windowSpendIdParts(windowSpendId('key', 'abc', { budget_duration: '7d', reset_at: null }))).to.deep.equal({
      entity: 'key',
      entityId: 'abc',
      window: { budget_duration: '7d', reset_at: null },
    });
    expect(windowSpendIdParts('user\u0000u\u00001d\u0000')).to.equal(null);
  });

  it('reads back every window as it was named, whatever characters its id or duration hold (one id, one window)', () => {
    const resetAt = new Date('2026-10-16T00:00:00Z');
    const cases = [
      ['team', 'a\u0000b', { budget_duration: '1d', reset_at: null }],
      ['team', 'a', { budget_duration: '1d\u0000x', reset_at: resetAt }],
      ['key', 'k\u00001d\u0000', { budget_duration: '1d', reset_at: null }],
      ['key', 'k', { budget_duration: '1d\u0000', reset_at: resetAt }],
      ['team', '["x"', { budget_duration: '"]', reset_at: null }],
    ] as const;
    const ids = new Set<string>();
    for (const [entity, entityId, window] of cases) {
      const id = windowSpendId(entity, entityId, window);
      ids.add(id);
      expect(windowSpendIdParts(id), JSON.stringify(id)).to.deep.equal({ entity, entityId, window });
    }
    expect(ids.size).to.equal(cases.length);
    expect(windowSpendId('key', 'k', { budget_duration: '1d', reset_at: null })).to.not.equal(windowSpendId('team', 'k', { budget_duration: '1d', reset_at: null }));
  });
});
