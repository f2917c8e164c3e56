import { expect } from 'chai';
import { ownedCopy } from '../../src/util/owned-bytes';

describe('ownedCopy', () => {
  it('copies the bytes into memory of exactly their size, not a slice of a shared slab', () => {
    const source = Buffer.from('encoded once, kept for long');
    const copy = ownedCopy(source.subarray(8, 12));
    expect(copy.toString()).to.equal('once');
    expect(copy.byteOffset).to.equal(0);
    expect(copy.buffer.byteLength).to.equal(4);
    // What a plain small copy does, and why it is not used for bytes kept for long.
    expect(Buffer.from(source.subarray(8, 12)).buffer.byteLength).to.be.greaterThan(4);
  });

  it('shares nothing with its source', () => {
    const source = Buffer.from([1, 2, 3]);
    const copy = ownedCopy(source);
    source[0] = 9;
    expect([...copy]).to.deep.equal([1, 2, 3]);
  });

  it('copies nothing into an empty buffer', () => {
    expect(ownedCopy(new Uint8Array(0)).length).to.equal(0);
  });
});
