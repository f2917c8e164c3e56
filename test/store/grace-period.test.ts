import { expect } from 'chai';
import { AdminInputError } from '../../src/store/admin-inputs';
import { revokeAtAfter } from '../../src/store/grace-period';

const NOW = new Date('2026-01-31T12:00:00.000Z');

describe("revokeAtAfter: /key/regenerate's grace_period, in LiteLLM's duration grammar", () => {
  const rows: Array<[string, string | undefined, string | null]> = [
    ['no grace period: refused at once', undefined, null],
    ['an empty one: the same (LiteLLM: `if not grace_period_value`)', '', null],
    ['seconds', '30s', '2026-01-31T12:00:30.000Z'],
    ['minutes', '15m', '2026-01-31T12:15:00.000Z'],
    ['hours', '24h', '2026-02-01T12:00:00.000Z'],
    ['days', '2d', '2026-02-02T12:00:00.000Z'],
    ['weeks', '1w', '2026-02-07T12:00:00.000Z'],
    ['calendar months, clamped to the month end', '1mo', '2026-02-28T12:00:00.000Z'],
    ['text after the unit is ignored, as re.match reads it', '2days', '2026-02-02T12:00:00.000Z'],
    ['zero long: no deprecated row (LiteLLM: grace_seconds <= 0)', '0h', null],
  ];
  for (const [name, text, expected] of rows) {
    it(name, () => {
      expect(revokeAtAfter(text, NOW)?.toISOString() ?? null).to.equal(expected);
    });
  }

  for (const text of ['24', 'soon', '-1h', 'h24']) {
    it(`refuses '${text}' before anything is written (LiteLLM logs it and rotates with no grace period)`, () => {
      expect(() => revokeAtAfter(text, NOW)).to.throw(AdminInputError, /--grace-period/);
    });
  }
});
