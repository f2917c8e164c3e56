import { expect } from 'chai';
import { budgetResetAt, currentWindow, durationGridEnd, NO_WINDOW, spendInCurrentWindow, useBudgetResetZone } from '../../src/spend/budget-window';
import { resetZoneOf, UTC_RESET_ZONE } from '../../src/spend/standardized-reset';

const at = (iso: string): number => new Date(iso).getTime();
const row = (duration: string | null, resetAt: string | null) => ({
  budget_duration: duration,
  budget_reset_at: resetAt === null ? null : new Date(resetAt),
});

describe('spend: budget windows (budget_duration + budget_reset_at)', () => {
  it('is the reset date itself while it is ahead', () => {
    expect(durationGridEnd(row('30d', '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(at('2025-07-01T00:00:00Z'));
  });

  it('durationGridEnd (grace periods) moves on by whole durations once the date has passed', () => {
    expect(durationGridEnd(row('1d', '2025-06-01T00:00:00Z'), at('2025-06-03T12:00:00Z'))).to.equal(at('2025-06-04T00:00:00Z'));
    expect(durationGridEnd(row('1h', '2025-06-01T00:00:00Z'), at('2025-06-01T00:00:00Z'))).to.equal(at('2025-06-01T01:00:00Z'));
    expect(durationGridEnd(row('2w', '2025-06-01T00:00:00Z'), at('2025-06-20T00:00:00Z'))).to.equal(at('2025-06-29T00:00:00Z'));
  });

  it('durationGridEnd (grace periods) steps calendar months for "mo", clamped to the last day of a shorter month', () => {
    expect(durationGridEnd(row('1mo', '2025-01-31T00:00:00Z'), at('2025-02-10T00:00:00Z'))).to.equal(at('2025-02-28T00:00:00Z'));
    expect(durationGridEnd(row('1mo', '2025-05-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(at('2025-07-01T00:00:00Z'));
  });

  it('starts a window one duration before a reset date still ahead, and at the previous reset once it has passed', () => {
    expect(currentWindow(row('1d', '2025-06-01T00:00:00Z'), at('2025-06-03T12:00:00Z'))).to.deep.equal({
      start: at('2025-06-03T00:00:00Z'),
      end: at('2025-06-04T00:00:00Z'),
    });
    expect(currentWindow(row('30d', '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.deep.equal({
      start: at('2025-06-01T00:00:00Z'),
      end: at('2025-07-01T00:00:00Z'),
    });
    expect(currentWindow(row('1mo', '2025-03-31T00:00:00Z'), at('2025-03-10T00:00:00Z'))).to.deep.equal({
      start: at('2025-02-28T00:00:00Z'),
      end: at('2025-03-31T00:00:00Z'),
    });
    expect(currentWindow(null, at('2025-06-15T00:00:00Z'))).to.deep.equal({ start: NO_WINDOW, end: NO_WINDOW });
  });

  it('has no window without both columns or with an unreadable duration', () => {
    for (const source of [null, row(null, '2025-07-01T00:00:00Z'), row('30d', null), row('fortnightly', '2025-07-01T00:00:00Z'), row('0d', '2025-07-01T00:00:00Z'), row(' 1d', '2025-07-01T00:00:00Z'), row('30', '2025-07-01T00:00:00Z')]) {
      expect(durationGridEnd(source, at('2025-06-15T00:00:00Z'))).to.equal(NO_WINDOW);
    }
  });

  it("reads a duration as LiteLLM's duration_in_seconds does: from its start (30days), and its words (monthly = 30d)", () => {
    const end = (duration: string) => durationGridEnd(row(duration, '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'));
    expect(end('30days')).to.equal(end('30d'));
    expect(end('Monthly')).to.equal(end('30d'));
    expect(end('daily')).to.equal(end('24h'));
    expect(end('1month')).to.equal(end('1mo'));
  });

  describe("once the row's budget_reset_at has passed: the windows LiteLLM's reset job would write", () => {
    afterEach(() => useBudgetResetZone(UTC_RESET_ZONE));

    it('starts the first window at the passed reset and ends it at the next standardized reset (30d: the 1st)', () => {
      expect(currentWindow(row('30d', '2026-01-15T00:00:00Z'), at('2026-01-20T00:00:00Z'))).to.deep.equal({
        start: at('2026-01-15T00:00:00Z'),
        end: at('2026-02-01T00:00:00Z'),
      });
    });

    it('rolls a passed 30d reset on to month starts, not 30-day steps (Feb 14, Mar 16)', () => {
      expect(currentWindow(row('30d', '2026-01-15T00:00:00Z'), at('2026-03-10T00:00:00Z'))).to.deep.equal({
        start: at('2026-03-01T00:00:00Z'),
        end: at('2026-04-01T00:00:00Z'),
      });
      expect(currentWindow(row('monthly', '2026-01-15T00:00:00Z'), at('2026-03-01T00:00:00Z')).start).to.equal(at('2026-03-01T00:00:00Z'));
    });

    it('rolls 1mo on to month starts too, not the same day of each month clamped (Feb 28)', () => {
      expect(currentWindow(row('1mo', '2025-01-31T00:00:00Z'), at('2025-02-10T00:00:00Z'))).to.deep.equal({
        start: at('2025-02-01T00:00:00Z'),
        end: at('2025-03-01T00:00:00Z'),
      });
    });

    it('rolls 7d on to Mondays and 1d to midnights, whatever time the reset was', () => {
      // 2026-11-26 is a Thursday.
      expect(currentWindow(row('7d', '2026-11-26T15:00:00Z'), at('2026-12-02T00:00:00Z'))).to.deep.equal({
        start: at('2026-11-30T00:00:00Z'),
        end: at('2026-12-07T00:00:00Z'),
      });
      expect(currentWindow(row('1d', '2026-11-26T15:00:00Z'), at('2026-11-28T09:00:00Z'))).to.deep.equal({
        start: at('2026-11-28T00:00:00Z'),
        end: at('2026-11-29T00:00:00Z'),
      });
    });

    it('reads 30days as LiteLLM\'s reset job does: an unknown unit, so daily resets at midnight', () => {
      expect(currentWindow(row('30days', '2026-01-15T12:00:00Z'), at('2026-01-20T10:00:00Z'))).to.deep.equal({
        start: at('2026-01-20T00:00:00Z'),
        end: at('2026-01-21T00:00:00Z'),
      });
    });

    it('aligns to midnight in litellm_settings.timezone, across a DST change (Berlin, New York)', () => {
      useBudgetResetZone(resetZoneOf('Europe/Berlin'));
      // Berlin's month starts at 23:00Z in winter and 22:00Z in summer; DST began on March 29.
      expect(currentWindow(row('30d', '2026-01-15T00:00:00Z'), at('2026-04-10T00:00:00Z'))).to.deep.equal({
        start: at('2026-03-31T22:00:00Z'),
        end: at('2026-04-30T22:00:00Z'),
      });
      useBudgetResetZone(resetZoneOf('America/New_York'));
      // Midnight EST on March 8, then EDT from March 9.
      expect(currentWindow(row('1d', '2026-03-06T12:00:00Z'), at('2026-03-08T12:00:00Z'))).to.deep.equal({
        start: at('2026-03-08T05:00:00Z'),
        end: at('2026-03-09T04:00:00Z'),
      });
    });

    it('is the same window whichever earlier Check a replica computed first (cached walks agree)', () => {
      const source = row('1h', '2026-06-01T00:30:00Z');
      const fresh = currentWindow(source, at('2026-06-03T10:15:00Z'));
      useBudgetResetZone(resetZoneOf('Asia/Tokyo'));
      useBudgetResetZone(UTC_RESET_ZONE);
      currentWindow(source, at('2026-06-02T05:00:00Z'));
      expect(currentWindow(source, at('2026-06-03T10:15:00Z'))).to.deep.equal(fresh);
      expect(fresh).to.deep.equal({ start: at('2026-06-03T10:00:00Z'), end: at('2026-06-03T11:00:00Z') });
    });

    it("gives the budget_reset_at LiteLLM's writes set (get_budget_reset_time), in the configured zone", () => {
      expect(budgetResetAt('30d', at('2026-11-29T21:00:00Z'))).to.deep.equal(new Date('2026-12-01T00:00:00Z'));
      expect(budgetResetAt('2mo', at('2026-11-29T21:00:00Z'))).to.equal(null);
      useBudgetResetZone(resetZoneOf('Europe/Berlin'));
      expect(budgetResetAt('1d', at('2026-11-29T21:00:00Z'))).to.deep.equal(new Date('2026-11-29T23:00:00Z'));
    });

    it('keeps the duration grid where LiteLLM has no standardized reset (2mo: its job raises)', () => {
      expect(currentWindow(row('2mo', '2026-01-15T00:00:00Z'), at('2026-04-01T00:00:00Z'))).to.deep.equal({
        start: at('2026-03-15T00:00:00Z'),
        end: at('2026-05-15T00:00:00Z'),
      });
    });

    it('keeps the duration grid for a row more than 1,000 resets behind', () => {
      const source = row('1s', '2026-01-01T00:00:00.500Z');
      expect(currentWindow(source, at('2026-01-02T00:00:00.100Z'))).to.deep.equal({
        start: at('2026-01-01T23:59:59.500Z'),
        end: at('2026-01-02T00:00:00.500Z'),
      });
      // Within 1,000 resets: whole seconds, as LiteLLM's job writes them; past them, the grid.
      expect(currentWindow(source, at('2026-01-01T00:16:39.100Z'))).to.deep.equal({
        start: at('2026-01-01T00:16:39Z'),
        end: at('2026-01-01T00:16:40Z'),
      });
      expect(currentWindow(source, at('2026-01-01T00:16:40.700Z'))).to.deep.equal({
        start: at('2026-01-01T00:16:40.500Z'),
        end: at('2026-01-01T00:16:41.500Z'),
      });
    });

    it('walks at most 1,000 resets on a Check: a 1d budget 27 years behind is on the grid', () => {
      useBudgetResetZone(resetZoneOf('Europe/Berlin'));
      expect(currentWindow(row('1d', '2000-01-01T15:00:00Z'), at('2026-11-29T21:00:00Z'))).to.deep.equal({
        start: at('2026-11-29T15:00:00Z'),
        end: at('2026-11-30T15:00:00Z'),
      });
      // 2.5 years behind: still Berlin's midnights.
      expect(currentWindow(row('1d', '2024-06-01T15:00:00Z'), at('2026-11-29T21:00:00Z'))).to.deep.equal({
        start: at('2026-11-28T23:00:00Z'),
        end: at('2026-11-29T23:00:00Z'),
      });
    });

    it('finds the grid window holding now however far behind the row is (no walk to stop short)', () => {
      // 1s from 2020 to 2026 is some 220 million grid steps; 1m from 2000, 14 million.
      expect(currentWindow(row('1s', '2020-01-01T00:00:00.500Z'), at('2026-11-29T21:00:00.100Z'))).to.deep.equal({
        start: at('2026-11-29T20:59:59.500Z'),
        end: at('2026-11-29T21:00:00.500Z'),
      });
      expect(currentWindow(row('1m', '2000-01-01T00:00:30Z'), at('2026-11-29T21:00:00Z'))).to.deep.equal({
        start: at('2026-11-29T20:59:30Z'),
        end: at('2026-11-29T21:00:30Z'),
      });
      expect(durationGridEnd(row('1s', '2020-01-01T00:00:00.500Z'), at('2026-11-29T21:00:00.100Z'))).to.equal(at('2026-11-29T21:00:00.500Z'));
    });
  });

  it("counts the database spend only while the row's own window is current", () => {
    expect(spendInCurrentWindow(4, row('30d', '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(4);
    expect(spendInCurrentWindow(4, row('30d', '2025-06-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(0);
    expect(spendInCurrentWindow(4, row(null, null), at('2025-06-15T00:00:00Z'))).to.equal(4);
  });
});
