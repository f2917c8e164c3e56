import { expect } from 'chai';
import { isTruthy } from '../../src/domain/truthiness';

describe('isTruthy (Python truthiness of JSON values)', () => {
  it('is false for null, false, 0, "", [] and {} (and a missing value)', () => {
    for (const value of [undefined, null, false, 0, '', [], {}]) expect(isTruthy(value), JSON.stringify(value)).to.equal(false);
  });

  it('is true for everything else, including "0", "false" and containers holding a falsy value', () => {
    for (const value of [true, 1, -1, 0.5, '0', 'false', ' ', [0], [null], { a: null }]) {
      expect(isTruthy(value), JSON.stringify(value)).to.equal(true);
    }
  });

  it('counts only own keys of an object', () => {
    expect(isTruthy(Object.create({ inherited: 1 }) as { [key: string]: never })).to.equal(false);
  });
});
