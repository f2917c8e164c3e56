import { expect } from 'chai';
import { pyStrip } from '../../src/util/python-strip';

describe("pyStrip (Python's str.strip)", () => {
  it("strips Python's whitespace, not JavaScript's", () => {
    expect(pyStrip('\u001c\u0085 a \t')).to.equal('a');
    expect(pyStrip('\ufeffa\ufeff')).to.equal('\ufeffa\ufeff');
    expect(pyStrip('   ')).to.equal('');
  });
});
