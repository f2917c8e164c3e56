import { expect } from 'chai';
import { isUnauthenticatedPassThrough, passThroughEndpointsFor, passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';

describe('general_settings.pass_through_endpoints as LiteLLM auth reads them', () => {
  it('reads path, auth (only true authenticates), the key header and the Langfuse parser; skips entries without a string path', () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/open', target: 'https://example.com' },
      { path: '/strict', auth: true, headers: { litellm_user_api_key: 'X-Svc-Key' } },
      { path: '/quoted', auth: 'true' },
      { path: '/langfuse', auth: true, custom_auth_parser: 'langfuse' },
      { path: 7 },
      'not an object',
      null,
    ]);
    expect(endpoints).to.deep.equal([
      { path: '/open', authenticated: false, keyHeader: null, langfuseAuth: false },
      { path: '/strict', authenticated: true, keyHeader: 'x-svc-key', langfuseAuth: false },
      { path: '/quoted', authenticated: false, keyHeader: null, langfuseAuth: false },
      { path: '/langfuse', authenticated: true, keyHeader: null, langfuseAuth: true },
    ]);
    expect(passThroughEndpointsOf(undefined)).to.deep.equal([]);
  });

  it('matches the exact path only; any matching endpoint without auth leaves the route unauthenticated, as LiteLLM walks them all', () => {
    const endpoints = passThroughEndpointsOf([{ path: '/svc', auth: true }, { path: '/svc' }, { path: '/only-auth', auth: true }]);
    expect(passThroughEndpointsFor(endpoints, '/svc')).to.have.length(2);
    expect(isUnauthenticatedPassThrough(endpoints, '/svc')).to.equal(true);
    expect(isUnauthenticatedPassThrough(endpoints, '/only-auth')).to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/svc/sub'), 'a sub-path is not the endpoint').to.equal(false);
  });
});
