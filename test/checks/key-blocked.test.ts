import { expect } from 'chai';
import { keyBlocked } from '../../src/checks/key-blocked';
import { aKey, decide } from './fixtures';

describe('blocked key — §2.7 step 2', () => {
  it("denies a blocked key (401 auth_error) with LiteLLM's exact message", () => {
    expect(decide(keyBlocked, { snapshot: { key: aKey({ blocked: true }) } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
      param: 'None',
    });
  });

  for (const blocked of [false, null]) {
    it(`allows a key with blocked=${String(blocked)}`, () => {
      expect(decide(keyBlocked, { snapshot: { key: aKey({ blocked }) } })).to.equal(null);
    });
  }
});
