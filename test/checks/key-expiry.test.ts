import { expect } from 'chai';
import { keyExpired } from '../../src/checks/key-expiry';
import { NOW, aKey, decide } from './fixtures';

describe('expired key — §2.6 step 3, §2.7 step 7', () => {
  it('denies a key whose expiry is in the past (401 expired_key, param sk-...<last4>)', () => {
    const expires = new Date('2025-05-01T00:00:00.000Z');
    expect(decide(keyExpired, { snapshot: { key: aKey({ expires }) }, now: new Date('2025-06-01T12:00:00.250Z') })).to.deep.equal({
      status: 401,
      type: 'expired_key',
      message:
        'Authentication Error - Expired Key. Key Expiry time 2025-05-01 00:00:00+00:00 and current time 2025-06-01 12:00:00.250000+00:00',
      param: 'sk-...abcd',
    });
  });

  it('allows a key expiring exactly now (LiteLLM: expires < now)', () => {
    expect(decide(keyExpired, { snapshot: { key: aKey({ expires: NOW }) } })).to.equal(null);
  });

  it('allows a key with a future expiry or none', () => {
    expect(decide(keyExpired, { snapshot: { key: aKey({ expires: new Date('2026-01-01T00:00:00Z') }) } })).to.equal(null);
    expect(decide(keyExpired)).to.equal(null);
  });
});
