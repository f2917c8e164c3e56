import { expect } from 'chai';
import { distinct } from '../../src/util/distinct';

describe('distinct', () => {
  it('returns a list without repeats as it is, not a copy', () => {
    const none: readonly string[] = [];
    const one = ['gpt-4o'];
    const several = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet'];
    expect(distinct(none)).to.equal(none);
    expect(distinct(one)).to.equal(one);
    expect(distinct(several)).to.equal(several);
  });

  it('drops repeats in first-seen order, without changing its argument', () => {
    const names = ['b', 'a', 'b', 'c', 'a'];
    expect(distinct(names)).to.deep.equal(['b', 'a', 'c']);
    expect(names).to.deep.equal(['b', 'a', 'b', 'c', 'a']);
  });

  it('drops repeats in long lists too (past the pairwise scan)', () => {
    const long = Array.from({ length: 40 }, (_, i) => `m${i % 25}`);
    expect(distinct(long)).to.deep.equal(Array.from({ length: 25 }, (_, i) => `m${i}`));
    const unique = Array.from({ length: 40 }, (_, i) => `m${i}`);
    expect(distinct(unique)).to.deep.equal(unique);
  });
});
