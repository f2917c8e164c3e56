import { expect } from 'chai';
import { parsePythonJson, withNonFiniteAsNull } from '../../src/util/python-json';

describe("Python's JSON constants (NaN, Infinity, -Infinity)", () => {
  it('writes each outside strings as null, and says when there is none', () => {
    expect(withNonFiniteAsNull('{"a":NaN,"b":[Infinity,-Infinity],"c":1}')).to.equal('{"a":null,"b":[null,null],"c":1}');
    expect(withNonFiniteAsNull('{"a":1}')).to.equal(null);
  });

  it('leaves them inside strings, escaped quotes and backslashes included, and words that only start like them', () => {
    expect(withNonFiniteAsNull(String.raw`{"a":"NaN \" Infinity","b":NaN}`)).to.equal(String.raw`{"a":"NaN \" Infinity","b":null}`);
    expect(withNonFiniteAsNull(String.raw`{"a":"x\\","b":NaN}`)).to.equal(String.raw`{"a":"x\\","b":null}`);
    expect(withNonFiniteAsNull('{"a":NaNs,"b":xInfinity}')).to.equal(null);
  });

  it('parses as json.loads would: plain JSON, then with the constants, else undefined', () => {
    expect(parsePythonJson('{"a":1}')).to.deep.equal({ a: 1 });
    expect(parsePythonJson('{"a":NaN}')).to.deep.equal({ a: null });
    expect(parsePythonJson('{"a":}')).to.equal(undefined);
    expect(parsePythonJson('{"a":NaN,}')).to.equal(undefined);
  });
});
