import { expect } from 'chai';
import { allowedIps } from '../../src/checks/allowed-ips';
import { decide } from './fixtures';

describe('allowed_ips — §2.2 step 3', () => {
  it('denies a peer outside allowed_ips (403)', () => {
    expect(decide(allowedIps, { policy: { allowedIps: ['10.0.0.2'] } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: 'Access forbidden: IP address 10.0.0.1 not allowed.',
      param: 'None',
    });
  });

  it('allows a listed peer, and anyone when unset', () => {
    expect(decide(allowedIps, { policy: { allowedIps: ['10.0.0.1'] } })).to.equal(null);
    expect(decide(allowedIps)).to.equal(null);
  });

  it('admits no one with an empty list', () => {
    expect(decide(allowedIps, { policy: { allowedIps: [] } })?.status).to.equal(403);
  });

  it('compares the raw x-forwarded-for value when use_x_forwarded_for is on (no comma splitting)', () => {
    const request = { headers: { 'x-forwarded-for': '1.2.3.4, 10.0.0.1' } };
    expect(decide(allowedIps, { request, policy: { allowedIps: ['1.2.3.4'], useXForwardedFor: true } })?.message).to.equal(
      'Access forbidden: IP address 1.2.3.4, 10.0.0.1 not allowed.',
    );
    expect(decide(allowedIps, { request, policy: { allowedIps: ['1.2.3.4, 10.0.0.1'], useXForwardedFor: true } })).to.equal(null);
  });
});
