import { expect } from 'chai';
import { currentWindow, currentWindowEnd, NO_WINDOW, spendInCurrentWindow } from '../../src/spend/budget-window';

const at = (iso: string): number => new Date(iso).getTime();
const row = (duration: string | null, resetAt: string | null) => ({
  budget_duration: duration,
  budget_reset_at: resetAt === null ? null : new Date(resetAt),
});

describe('spend: budget windows (budget_duration + budget_reset_at)', () => {
  it('is the reset date itself while it is ahead', () => {
    expect(currentWindowEnd(row('30d', '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(at('2025-07-01T00:00:00Z'));
  });

  it('moves on by whole durations once the reset date has passed (no reset job needed)', () => {
    expect(currentWindowEnd(row('1d', '2025-06-01T00:00:00Z'), at('2025-06-03T12:00:00Z'))).to.equal(at('2025-06-04T00:00:00Z'));
    expect(currentWindowEnd(row('1h', '2025-06-01T00:00:00Z'), at('2025-06-01T00:00:00Z'))).to.equal(at('2025-06-01T01:00:00Z'));
    expect(currentWindowEnd(row('2w', '2025-06-01T00:00:00Z'), at('2025-06-20T00:00:00Z'))).to.equal(at('2025-06-29T00:00:00Z'));
  });

  it('steps calendar months for "mo", clamped to the last day of a shorter month', () => {
    expect(currentWindowEnd(row('1mo', '2025-01-31T00:00:00Z'), at('2025-02-10T00:00:00Z'))).to.equal(at('2025-02-28T00:00:00Z'));
    expect(currentWindowEnd(row('1mo', '2025-05-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(at('2025-07-01T00:00:00Z'));
  });

  it('starts a window one duration before its end: at the previous end on the grid, or before a reset date still ahead', () => {
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
      expect(currentWindowEnd(source, at('2025-06-15T00:00:00Z'))).to.equal(NO_WINDOW);
    }
  });

  it("reads a duration as LiteLLM's duration_in_seconds does: from its start (30days), and its words (monthly = 30d)", () => {
    const end = (duration: string) => currentWindowEnd(row(duration, '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'));
    expect(end('30days')).to.equal(end('30d'));
    expect(end('Monthly')).to.equal(end('30d'));
    expect(end('daily')).to.equal(end('24h'));
    expect(end('1month')).to.equal(end('1mo'));
  });

  it("counts the database spend only while the row's own window is current", () => {
    expect(spendInCurrentWindow(4, row('30d', '2025-07-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(4);
    expect(spendInCurrentWindow(4, row('30d', '2025-06-01T00:00:00Z'), at('2025-06-15T00:00:00Z'))).to.equal(0);
    expect(spendInCurrentWindow(4, row(null, null), at('2025-06-15T00:00:00Z'))).to.equal(4);
  });
});
