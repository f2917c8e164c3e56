import { expect } from 'chai';
import { decodeCached, encodeCached } from '../../src/cache/codec';

describe('cache codec', () => {
  it('round-trips Dates, nulls and nested values, and deep-freezes the result', () => {
    const value = { expires: new Date('2030-01-02T03:04:05.678Z'), spend: 1.5, models: ['a'], meta: { x: null } };
    const decoded = decodeCached<typeof value>(encodeCached(value));
    expect(decoded.expires).to.be.instanceOf(Date);
    expect(decoded.expires.toISOString()).to.equal('2030-01-02T03:04:05.678Z');
    expect(decoded).to.deep.equal(value);
    expect(Object.isFrozen(decoded.models)).to.equal(true);
  });
});
