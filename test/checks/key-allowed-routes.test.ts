import { expect } from 'chai';
import { keyAllowedRoutes } from '../../src/checks/key-allowed-routes';
import { aKey, decide } from './fixtures';

describe('virtual-key allowed_routes — §6.4, README §4.5', () => {
  it('denies a route outside the key allowed_routes (403, {"error": …} envelope fields)', () => {
    expect(decide(keyAllowedRoutes, { snapshot: { key: aKey({ allowed_routes: ['/embeddings', 'info_routes'] }) } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message:
        "Virtual key is not allowed to call this route. Only allowed to call routes: ['/embeddings', 'info_routes']. Tried to call route: /chat/completions",
      param: 'None',
    });
  });

  it('allows any route when allowed_routes is empty', () => {
    expect(decide(keyAllowedRoutes)).to.equal(null);
  });

  it('allows routes admitted by a group name', () => {
    expect(decide(keyAllowedRoutes, { snapshot: { key: aKey({ allowed_routes: ['llm_api_routes'] }) } })).to.equal(null);
  });
});
