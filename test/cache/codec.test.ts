import { expect } from 'chai';
import { decodeCached, encodeCached, sameCachedValue } from '../../src/cache/codec';

describe('cache codec', () => {
  it('round-trips Dates, nulls and nested values, and deep-freezes the result', () => {
    const value = { expires: new Date('2030-01-02T03:04:05.678Z'), spend: 1.5, models: ['a'], meta: { x: null } };
    const decoded = decodeCached<typeof value>(encodeCached(value));
    expect(decoded.expires).to.be.instanceOf(Date);
    expect(decoded.expires.toISOString()).to.equal('2030-01-02T03:04:05.678Z');
    expect(decoded).to.deep.equal(value);
    expect(Object.isFrozen(decoded.models)).to.equal(true);
  });

  it('tells equal cached values from different ones (Dates by time, arrays by order, objects by keys)', () => {
    const row = { expires: new Date('2030-01-02T03:04:05.678Z'), spend: 1.5, models: ['a', 'b'], meta: { x: null } };
    expect(sameCachedValue(row, decodeCached(encodeCached(row)))).to.equal(true);
    expect(sameCachedValue(row, { ...row, spend: 1.6 })).to.equal(false);
    expect(sameCachedValue(row, { ...row, expires: new Date('2030-01-02T03:04:05.679Z') })).to.equal(false);
    expect(sameCachedValue(row, { ...row, models: ['b', 'a'] })).to.equal(false);
    expect(sameCachedValue(row, { ...row, meta: { x: null, y: 1 } })).to.equal(false);
    expect(sameCachedValue({ a: undefined }, { b: undefined })).to.equal(false);
    expect(sameCachedValue(null, {})).to.equal(false);
    expect(sameCachedValue([], {})).to.equal(false);
    expect(sameCachedValue(null, null)).to.equal(true);
  });
});
