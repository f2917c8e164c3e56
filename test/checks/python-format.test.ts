import { expect } from 'chai';
import { pyConfigNumber, pyDict, pyFixed, pyFloat, pyList, pyRepr, pyStr, pyUtcDatetime } from '../../src/checks/python-format';

describe('Python formatting of message values — §1', () => {
  const floats: readonly (readonly [number, string])[] = [
    [10, '10.0'],
    [0, '0.0'],
    [-3, '-3.0'],
    [0.1, '0.1'],
    [10.5, '10.5'],
    [0.40741249999999996, '0.40741249999999996'],
    [0.00015, '0.00015'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [123456789012345.6, '123456789012345.6'],
  ];
  for (const [value, text] of floats) {
    it(`renders float ${value} as ${text}`, () => expect(pyFloat(value)).to.equal(text));
  }

  it('renders YAML integers as ints and other config numbers as floats', () => {
    expect(pyConfigNumber(100)).to.equal('100');
    expect(pyConfigNumber(2.5)).to.equal('2.5');
  });

  it('renders lists and dicts like Python str()', () => {
    expect(pyList(['gpt-4o', 'o1'])).to.equal("['gpt-4o', 'o1']");
    expect(pyList([])).to.equal('[]');
    expect(pyRepr("it's")).to.equal('"it\'s"');
    expect(pyDict({ error: 'x' })).to.equal("{'error': 'x'}");
  });

  it('renders aware UTC datetimes like str(datetime)', () => {
    expect(pyUtcDatetime(new Date('2025-01-02T03:04:05.000Z'))).to.equal('2025-01-02 03:04:05+00:00');
    expect(pyUtcDatetime(new Date('2025-01-02T03:04:05.123Z'))).to.equal('2025-01-02 03:04:05.123000+00:00');
  });

  it("pyStr: Python's str() of JSON values", () => {
    expect(pyStr('a')).to.equal('a');
    expect(pyStr(7)).to.equal('7');
    expect(pyStr(1.5)).to.equal('1.5');
    expect(pyStr(null)).to.equal('None');
    expect(pyStr(false)).to.equal('False');
    expect(pyStr(['a', 1, null, true])).to.equal("['a', 1, None, True]");
    expect(pyStr({ k: 'v', n: { x: [] } })).to.equal("{'k': 'v', 'n': {'x': []}}");
  });

  it("formats as Python's '{:.Nf}': exact ties to even, and huge values in full rather than in exponent notation", () => {
    const cases: readonly (readonly [number, number, string])[] = [
      [0.125, 2, '0.12'],
      [0.375, 2, '0.38'],
      [2.675, 2, '2.67'],
      [2.5, 0, '2'],
      [-0.125, 2, '-0.12'],
      [0.00005, 4, '0.0001'],
      [1e21, 2, '1000000000000000000000.00'],
      [-2.5e22, 4, '-24999999999999997902848.0000'],
      [1.2345e25, 0, '12344999999999999704301568'],
      [Number.POSITIVE_INFINITY, 2, 'inf'],
    ];
    for (const [value, digits, python] of cases) expect(pyFixed(value, digits), `${value}:.${digits}f`).to.equal(python);
  });
});
