/**
 * Wildcard model patterns: only `*` is special (spec README §4.3), and matching stays linear
 * whatever a database row holds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { globMatches, modelMatchesWildcard } from '../../src/checks/model-wildcard';

/** The definition being implemented, as an (exponential-time) regex: fine for short inputs. */
function reference(model: string, pattern: string): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 's').test(model);
}

describe('model wildcard patterns', () => {
  it('matches like an anchored regex where only * is special (short random inputs)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '\n', '?', 'é'), maxLength: 10 });
    fc.assert(
      fc.property(text, text, (model, pattern) => {
        expect(globMatches(model, pattern)).to.equal(reference(model, pattern));
      }),
      { numRuns: 2000, seed: 8 },
    );
  });

  it('treats only * as special: claude-3.5* does not match claude-345', () => {
    expect(modelMatchesWildcard('claude-345', 'claude-3.5*')).to.equal(false);
    expect(modelMatchesWildcard('claude-3.5-sonnet', 'claude-3.5*')).to.equal(true);
    expect(modelMatchesWildcard('openai/gpt-4o', 'openai/*')).to.equal(true);
    expect(modelMatchesWildcard('anything', '*')).to.equal(true);
  });

  it('is not a pattern without *', () => {
    expect(modelMatchesWildcard('gpt-4o', 'gpt-4o')).to.equal(false);
  });

  it('answers at once for catastrophic-backtracking shapes (a*a*a*…b against aaaa…c)', () => {
    // A backtracking regex needs ~n^k steps here and would never finish; the mocha timeout bounds it.
    const pattern = `${Array.from({ length: 40 }, () => 'a').join('*')}*b`;
    expect(modelMatchesWildcard(`${'a'.repeat(5000)}c`, pattern)).to.equal(false);
    expect(modelMatchesWildcard(`${'a'.repeat(5000)}b`, pattern)).to.equal(true);
    expect(modelMatchesWildcard('*'.repeat(10_000), '*'.repeat(10_000))).to.equal(true);
  });
});
