import { expect } from 'chai';
import { activeTokenOf, type DeprecatedKey } from '../../src/domain/deprecated-key';

const NOW = new Date('2026-01-01T12:00:00.000Z');

function aMapping(revokeAt: Date, active = 'b'.repeat(64)): DeprecatedKey {
  return { token: 'a'.repeat(64), active_token_id: active, revoke_at: revokeAt };
}

describe('activeTokenOf: whether a rotated-out key still stands for its active key', () => {
  const rows: Array<[string, DeprecatedKey | null, string | null]> = [
    ['no deprecated row: an unknown key', null, null],
    ['revoke_at ahead: the active hash (grace period running)', aMapping(new Date(NOW.getTime() + 1)), 'b'.repeat(64)],
    ['revoke_at now: refused (LiteLLM asks revoke_at > now)', aMapping(NOW), null],
    ['revoke_at past: refused as any unknown key', aMapping(new Date(NOW.getTime() - 60_000)), null],
    ['revoke_at unreadable (NaN): refused', aMapping(new Date(Number.NaN)), null],
    ['an empty active_token_id: refused (LiteLLM: `and deprecated_row.active_token_id`)', aMapping(new Date(NOW.getTime() + 60_000), ''), null],
  ];
  for (const [name, mapping, expected] of rows) {
    it(name, () => {
      expect(activeTokenOf(mapping, NOW)).to.equal(expected);
    });
  }
});
