import { expect } from 'chai';
import { proxyAllowedRoutes } from '../../src/checks/proxy-allowed-routes';
import { decide } from './fixtures';

describe('proxy-wide allowed_routes — §2.2 step 4', () => {
  it('denies a route not exactly listed (403)', () => {
    expect(decide(proxyAllowedRoutes, { policy: { allowedRoutes: ['/v1/chat/completions'] } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: 'Access forbidden: Route /chat/completions not allowed',
      param: 'None',
    });
  });

  it('allows an exactly listed route, and everything when unset', () => {
    expect(decide(proxyAllowedRoutes, { policy: { allowedRoutes: ['/chat/completions'] } })).to.equal(null);
    expect(decide(proxyAllowedRoutes)).to.equal(null);
  });
});
