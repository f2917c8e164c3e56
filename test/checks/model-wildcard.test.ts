/**
 * Wildcard model patterns: only `*` is special (spec README §4.3), and matching stays linear
 * whatever a database row holds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { deploymentsFor } from '../../src/checks/model-router';
import { globMatches, modelMatchesWildcard } from '../../src/checks/model-wildcard';
import { aDeployment, aPolicy } from './fixtures';

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
      { numRuns: 1000, seed: 8 },
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

describe('router wildcard model_names (config patterns against client-chosen model names)', () => {
  it('matches from the start only, like re.match: a*b routes aXbYY', () => {
    const policy = aPolicy({ modelList: [aDeployment({ modelName: 'a*b' })] });
    expect(deploymentsFor(policy, 'aXbYY')).to.have.length(1);
    expect(deploymentsFor(policy, 'XaXb')).to.have.length(0);
  });

  it('answers at once for a catastrophic-backtracking model_name and a long near-miss model', () => {
    const policy = aPolicy({ modelList: [aDeployment({ modelName: `${'a*'.repeat(30)}b` })] });
    expect(deploymentsFor(policy, `${'a'.repeat(20_000)}c`)).to.have.length(0);
    expect(deploymentsFor(policy, `${'a'.repeat(20_000)}bc`)).to.have.length(1);
  });
});

describe("wildcard model patterns and newlines (Python's `.` and `$`)", () => {
  it('never lets * span a newline, and lets the model end in one', () => {
    expect(modelMatchesWildcard('openai/gpt\nx', 'openai/*')).to.equal(false);
    expect(modelMatchesWildcard('openai/gpt-4o\n', 'openai/*')).to.equal(true);
    expect(modelMatchesWildcard('openai/gpt-4o\n\n', 'openai/*')).to.equal(false);
    expect(modelMatchesWildcard('openai/gpt-4o', 'openai/*')).to.equal(true);
  });
});

describe("router wildcard model_names and newlines (Python's `.`; the router's match is not anchored at the end)", () => {
  it('matches only on the first line of the model', () => {
    const policy = aPolicy({ modelList: [aDeployment({ modelName: 'openai/*-mini' })] });
    expect(deploymentsFor(policy, 'openai/x\n-mini')).to.have.length(0);
    expect(deploymentsFor(policy, 'openai/x-mini\nanything')).to.have.length(1);
    expect(deploymentsFor(policy, 'openai/x-mini')).to.have.length(1);
  });
});
