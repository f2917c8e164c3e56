import { expect } from 'chai';
import { allReady, andThen, isPromise } from '../../src/util/maybe-promise';

describe('MaybePromise helpers', () => {
  it('stay synchronous while every value is ready', () => {
    const all = allReady<[number, string]>([1, 'a']);
    expect(isPromise(all)).to.equal(false);
    expect(andThen(all, ([n, s]) => `${n}${s}`)).to.equal('1a');
  });

  it('become a promise as soon as one value is pending, keeping the order', async () => {
    const all = allReady<[number, string]>([1, Promise.resolve('b')]);
    expect(isPromise(all)).to.equal(true);
    const next = andThen(all, ([n, s]) => `${n}${s}`);
    expect(isPromise(next)).to.equal(true);
    expect(await next).to.equal('1b');
  });

  it('propagate a rejection', async () => {
    const failed = andThen(allReady<[number]>([Promise.reject(new Error('down'))]), () => 1);
    let message = '';
    await Promise.resolve(failed).catch((error: Error) => (message = error.message));
    expect(message).to.equal('down');
  });
});
