import { expect } from 'chai';
import { isUnauthenticatedPassThrough, passThroughEndpointsFor, passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';
import { isLlmApiRoute, keyAllowedRoutesAdmit } from '../../src/routes/classify';

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
    const plain = { guarded: false, includeSubpath: false, registered: false, keyHeader: null, langfuseAuth: false };
    expect(endpoints).to.deep.equal([
      { ...plain, path: '/open', authenticated: false, registered: true },
      { ...plain, path: '/strict', authenticated: true, guarded: true, keyHeader: 'x-svc-key' },
      { ...plain, path: '/quoted', authenticated: false, guarded: true },
      { ...plain, path: '/langfuse', authenticated: true, guarded: true, langfuseAuth: true },
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

  it("include_subpath: LiteLLM serves path/… without a key when the endpoint has no auth dependency, and as a keyed route when it has", () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/open', target: 'https://a.example', include_subpath: true },
      { path: '/guarded', target: 'https://b.example', include_subpath: true, auth: true },
      { path: '/quoted', target: 'https://c.example', include_subpath: true, auth: 'True' },
      { path: '/no-target', include_subpath: true },
    ]);
    expect(isUnauthenticatedPassThrough(endpoints, '/open/v1/x')).to.equal(true);
    expect(isUnauthenticatedPassThrough(endpoints, '/openx'), 'a longer name is no sub-path').to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/guarded/x')).to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/quoted'), 'the exact path: auth is not True').to.equal(true);
    expect(isUnauthenticatedPassThrough(endpoints, '/quoted/x'), 'its sub-paths carry the auth dependency').to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/no-target/x'), 'never registered without a target').to.equal(false);
    expect(passThroughEndpointsFor(endpoints, '/guarded/x'), "the key header rules see the exact path, as LiteLLM's auth").to.deep.equal([]);
  });

  it('counts a guarded path among openai_routes and LLM API routes, and every registered route and sub-path in llm_api_routes', () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/guarded', target: 'https://b.example', include_subpath: true, auth: true },
      { path: '/open', target: 'https://a.example', include_subpath: true },
    ]);
    expect(isLlmApiRoute('/guarded', endpoints)).to.equal(true);
    expect(isLlmApiRoute('/guarded/x', endpoints), 'only the path is appended to openai_routes').to.equal(false);
    expect(keyAllowedRoutesAdmit('/guarded/x', ['llm_api_routes'], endpoints)).to.equal(true);
    expect(keyAllowedRoutesAdmit('/open', ['llm_api_routes'], endpoints)).to.equal(true);
    expect(keyAllowedRoutesAdmit('/guarded/x', ['openai_routes'], endpoints)).to.equal(false);
    expect(keyAllowedRoutesAdmit('/guarded', ['openai_routes'], endpoints)).to.equal(true);
  });
});
