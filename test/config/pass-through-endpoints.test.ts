import { expect } from 'chai';
import { isUnauthenticatedPassThrough, passThroughEndpointsFor, passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';
import { isLlmApiRoute, keyAllowedRoutesAdmit } from '../../src/routes/classify';

describe('general_settings.pass_through_endpoints as LiteLLM auth reads them', () => {
  it('reads path, auth (true or unset authenticates), the key header and the Langfuse parser; skips entries without a string path', () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/open', target: 'https://example.com', auth: false },
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
      { ...plain, path: '/quoted', authenticated: true, guarded: true },
      { ...plain, path: '/langfuse', authenticated: true, guarded: true, langfuseAuth: true },
    ]);
    expect(passThroughEndpointsOf(undefined)).to.deep.equal([]);
  });

  it('reads an endpoint that sets no auth (or auth: null) as auth: true, as newer LiteLLM does (GHSA-7h34-mmrh-6g58), so it is no open forwarder', () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/unset', target: 'https://a.example', include_subpath: true },
      { path: '/null', target: 'https://b.example', auth: null },
      { path: '/off', target: 'https://c.example', auth: false },
    ]);
    for (const route of ['/unset', '/unset/v1/x', '/null']) {
      expect(isUnauthenticatedPassThrough(endpoints, route), route).to.equal(false);
      expect(isLlmApiRoute(route, endpoints), `${route}: counted among openai_routes`).to.equal(true);
    }
    expect(isUnauthenticatedPassThrough(endpoints, '/off'), 'auth: false stays keyless').to.equal(true);
    expect(isLlmApiRoute('/off', endpoints)).to.equal(false);
  });

  it('serves without a key only auth false or "false" (pass_through_auth_mode PUBLIC); "true", "yes", 1, 0, "" and the like need one, as newer LiteLLM reads them', () => {
    const spellings: readonly [unknown, boolean][] = [
      [true, false],
      ['true', false],
      [' TRUE ', false],
      ['yes', false],
      [1, false],
      [0, false],
      ['', false],
      [null, false],
      [false, true],
      ['false', true],
      [' False ', true],
    ];
    for (const [auth, keyless] of spellings) {
      const endpoints = passThroughEndpointsOf([{ path: '/svc', target: 'https://a.example', include_subpath: true, auth }]);
      const label = JSON.stringify(auth);
      expect(isUnauthenticatedPassThrough(endpoints, '/svc'), label).to.equal(keyless);
      expect(isUnauthenticatedPassThrough(endpoints, '/svc/x'), `${label} sub-path`).to.equal(keyless);
      expect(isLlmApiRoute('/svc/x', endpoints), `${label}: policy checked as an LLM API route`).to.equal(!keyless);
    }
  });

  it('matches the exact path only; any matching endpoint without auth leaves the route unauthenticated, as LiteLLM walks them all', () => {
    const endpoints = passThroughEndpointsOf([{ path: '/svc', auth: true }, { path: '/svc', auth: false }, { path: '/only-auth', auth: true }]);
    expect(passThroughEndpointsFor(endpoints, '/svc')).to.have.length(2);
    expect(isUnauthenticatedPassThrough(endpoints, '/svc')).to.equal(true);
    expect(isUnauthenticatedPassThrough(endpoints, '/only-auth')).to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/svc/sub'), 'a sub-path is not the endpoint').to.equal(false);
  });

  it("include_subpath: LiteLLM serves path/… without a key when the endpoint has no auth dependency, and as a keyed route when it has", () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/open', target: 'https://a.example', include_subpath: true, auth: false },
      { path: '/guarded', target: 'https://b.example', include_subpath: true, auth: true },
      { path: '/quoted', target: 'https://c.example', include_subpath: true, auth: 'True' },
      { path: '/no-target', include_subpath: true },
    ]);
    expect(isUnauthenticatedPassThrough(endpoints, '/open/v1/x')).to.equal(true);
    expect(isUnauthenticatedPassThrough(endpoints, '/openx'), 'a longer name is no sub-path').to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/guarded/x')).to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/quoted'), 'the exact path: "True" needs a key too').to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/quoted/x'), 'its sub-paths carry the auth dependency').to.equal(false);
    expect(isUnauthenticatedPassThrough(endpoints, '/no-target/x'), 'never registered without a target').to.equal(false);
    expect(passThroughEndpointsFor(endpoints, '/guarded/x'), "the key header rules see the exact path, as LiteLLM's auth").to.deep.equal([]);
  });

  it('counts a guarded path among openai_routes and LLM API routes, and every registered route and sub-path in llm_api_routes', () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/guarded', target: 'https://b.example', include_subpath: true, auth: true },
      { path: '/open', target: 'https://a.example', include_subpath: true, auth: false },
    ]);
    expect(isLlmApiRoute('/guarded', endpoints)).to.equal(true);
    expect(keyAllowedRoutesAdmit('/guarded/x', ['llm_api_routes'], endpoints)).to.equal(true);
    expect(keyAllowedRoutesAdmit('/open', ['llm_api_routes'], endpoints)).to.equal(true);
    expect(keyAllowedRoutesAdmit('/guarded', ['openai_routes'], endpoints)).to.equal(true);
    expect(isLlmApiRoute('/open/x', endpoints), 'no auth dependency: not appended').to.equal(false);
  });

  it('counts the sub-paths of a guarded include_subpath endpoint among openai_routes, as LiteLLM appends path.rstrip("/") + "/*"', () => {
    const endpoints = passThroughEndpointsOf([
      { path: '/guarded', target: 'https://b.example', include_subpath: true, auth: true },
      { path: '/slashed/', target: 'https://c.example', include_subpath: true, auth: 'True' },
      { path: '/exact-only', target: 'https://d.example', auth: true },
    ]);
    expect(isLlmApiRoute('/guarded/x', endpoints), 'so the key budget, rate limits and route RBAC treat it as an LLM route').to.equal(true);
    expect(isLlmApiRoute('/guarded/', endpoints)).to.equal(true);
    expect(isLlmApiRoute('/guardedx', endpoints), 'a longer name is no sub-path').to.equal(false);
    expect(isLlmApiRoute('/slashed/v1/x', endpoints)).to.equal(true);
    expect(isLlmApiRoute('/exact-only/x', endpoints), 'without include_subpath only the path is appended').to.equal(false);
    expect(keyAllowedRoutesAdmit('/guarded/x', ['openai_routes'], endpoints)).to.equal(true);
  });
});
