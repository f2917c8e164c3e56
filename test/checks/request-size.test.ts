import { expect } from 'chai';
import { requestSize } from '../../src/checks/request-size';
import { decide } from './fixtures';

describe('request size — §2.2 step 1', () => {
  it('denies a content-length above max_request_size_mb (400 bad_request_error, param content-length)', () => {
    expect(decide(requestSize, { request: { headers: { 'content-length': String(3 * 1024 * 1024) } }, policy: { maxRequestSizeMb: 2 } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message: 'Request size is too large. Request size is 3.0 MB. Max size is 2 MB',
      param: 'content-length',
    });
  });

  it('allows exactly the maximum, no header, or no setting', () => {
    expect(decide(requestSize, { request: { headers: { 'content-length': String(2 * 1024 * 1024) } }, policy: { maxRequestSizeMb: 2 } })).to.equal(null);
    expect(decide(requestSize, { policy: { maxRequestSizeMb: 2 } })).to.equal(null);
    expect(decide(requestSize, { request: { headers: { 'content-length': '999999999' } } })).to.equal(null);
  });
});
