import { expect } from 'chai';
import { masterKeyOnlyRoute } from '../../src/checks/master-key-only-route';
import { decide } from './fixtures';

describe('master-key-only routes — §2.6 step 6', () => {
  it('denies a virtual key on /global/spend/reset (401 auth_error)', () => {
    expect(decide(masterKeyOnlyRoute, { request: { route: '/global/spend/reset', model: null } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: 'Authentication Error, Tried to access route=/global/spend/reset, which is only for MASTER KEY',
      param: 'None',
    });
  });

  it('allows other routes', () => {
    expect(decide(masterKeyOnlyRoute)).to.equal(null);
  });
});
