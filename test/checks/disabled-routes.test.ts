import { expect } from 'chai';
import { disabledRoutes } from '../../src/checks/disabled-routes';
import type { DisabledRoutes } from '../../src/config/disabled-routes';
import type { Denial } from '../../src/checks/types';
import { passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';
import type { Policy } from '../../src/config/policy';
import type { RequestFacts } from '../../src/domain/request';
import { Authorizer } from '../../src/authorize/authorize';
import { JwtAuthenticator } from '../../src/auth/jwt/authenticator';
import { aVerifier, jwtSettings, MemoryDirectory } from '../auth/jwt/fixtures';
import { aSigningKey, aToken, type SigningKey } from '../support/jwt';
import { MemoryStore } from '../support/memory-store';
import { aPolicy, aRequest, decide, NOW } from './fixtures';

const ADMIN_INSTANCE: DisabledRoutes = { management: false, llmApi: true }; // DISABLE_LLM_API_ENDPOINTS=true
const WORKER: DisabledRoutes = { management: true, llmApi: false }; // DISABLE_ADMIN_ENDPOINTS=true
const BOTH: DisabledRoutes = { management: true, llmApi: true };

const MANAGEMENT_DISABLED: Denial = { status: 403, type: 'auth_error', message: 'Management routes are disabled for this instance.', param: 'None' };
const LLM_API_DISABLED: Denial = { status: 403, type: 'auth_error', message: 'LLM API routes are disabled for this instance.', param: 'None' };

function on(route: string, disabled: DisabledRoutes | undefined, method = 'POST'): Denial | null {
  return decide(disabledRoutes, { request: { route, path: route, method }, policy: disabled === undefined ? {} : { disabledRoutes: disabled } });
}

describe('DISABLE_ADMIN_ENDPOINTS / DISABLE_LLM_API_ENDPOINTS — EnterpriseRouteChecks.should_call_route', () => {
  it('refuses management routes on an instance with DISABLE_ADMIN_ENDPOINTS (403, the {"error": …} envelope)', () => {
    for (const route of ['/key/generate', '/team/new', '/user/update', '/spend/logs', '/model/info']) {
      expect(on(route, WORKER), route).to.deep.equal(MANAGEMENT_DISABLED);
    }
  });

  it('leaves LLM API routes open on an instance with DISABLE_ADMIN_ENDPOINTS only', () => {
    for (const route of ['/chat/completions', '/v1/chat/completions', '/v1/embeddings', '/mcp/tools/call', '/models']) {
      expect(on(route, WORKER), route).to.equal(null);
    }
  });

  it('refuses LLM API routes on an instance with DISABLE_LLM_API_ENDPOINTS (403)', () => {
    for (const route of ['/chat/completions', '/v1/chat/completions', '/v1/embeddings', '/v1/messages', '/openai/deployments/gpt-4o/chat/completions']) {
      expect(on(route, ADMIN_INSTANCE), route).to.deep.equal(LLM_API_DISABLED);
    }
  });

  it('keeps /models and /v1/models open under DISABLE_LLM_API_ENDPOINTS (LLM_API_EXEMPT_ROUTES: the admin UI lists models), exactly those', () => {
    expect(on('/models', ADMIN_INSTANCE, 'GET')).to.equal(null);
    expect(on('/v1/models', ADMIN_INSTANCE, 'GET')).to.equal(null);
    expect(on('/v1/models', BOTH, 'GET')).to.equal(null);
    // Membership, not a prefix: another listing route stays an LLM API route.
    expect(on('/cursor/v1/models', ADMIN_INSTANCE, 'GET')).to.deep.equal(LLM_API_DISABLED);
  });

  it('judges a route ending in a newline (%0A) as the route Starlette serves for it', () => {
    // Python's `$` matches before a final newline, so Starlette serves `/chat/completions\n` as
    // /chat/completions; LiteLLM's exact-membership test misses it and its admin instance serves the call.
    for (const route of ['/chat/completions\n', '/v1/messages\n', '/v1/embeddings\n', '/v1beta/models/gemini:generateContent\n']) {
      expect(on(route, ADMIN_INSTANCE), JSON.stringify(route)).to.deep.equal(LLM_API_DISABLED);
    }
    expect(on('/key/generate\n', WORKER)).to.deep.equal(MANAGEMENT_DISABLED);
    expect(on('/v1/models\n', ADMIN_INSTANCE, 'GET')).to.equal(null);
    // Only one: Starlette serves no route for two.
    expect(on('/chat/completions\n\n', ADMIN_INSTANCE)).to.equal(null);
  });

  it('judges MCP server CRUD as management and MCP tool calls as LLM API routes (BerriAI/litellm#26367)', () => {
    for (const route of ['/v1/mcp/server', '/v1/mcp/server/abc-123']) {
      expect(on(route, ADMIN_INSTANCE), `${route} on the admin instance`).to.equal(null);
      expect(on(route, WORKER), `${route} on a worker`).to.deep.equal(MANAGEMENT_DISABLED);
    }
    for (const route of ['/mcp/tools/call', '/mcp/my-server', '/v1/mcp/tools']) {
      expect(on(route, ADMIN_INSTANCE), `${route} on the admin instance`).to.deep.equal(LLM_API_DISABLED);
      expect(on(route, WORKER), `${route} on a worker`).to.equal(null);
    }
  });

  it('judges a route that is both first as management, then, with management open, as LLM API (LiteLLM if/elif)', () => {
    // "/team/openai-admins" is a management route and, by LiteLLM's "/openai" substring test, an LLM API route.
    expect(on('/team/openai-admins', BOTH)).to.deep.equal(MANAGEMENT_DISABLED);
    expect(on('/team/openai-admins', ADMIN_INSTANCE)).to.deep.equal(LLM_API_DISABLED);
    // The agent management routes are in both groups, so neither instance serves them.
    for (const route of ['/v1/agents', '/v1/agents/agent-1']) {
      expect(on(route, WORKER), `${route} on a worker`).to.deep.equal(MANAGEMENT_DISABLED);
      expect(on(route, ADMIN_INSTANCE), `${route} on the admin instance`).to.deep.equal(LLM_API_DISABLED);
    }
  });

  it('treats a registered pass-through endpoint as an LLM API route, as LiteLLM appends it to openai_routes', () => {
    const passThroughEndpoints = passThroughEndpointsOf([{ path: '/my-provider', target: 'https://example.com', auth: true }]);
    const denial = decide(disabledRoutes, { request: { route: '/my-provider', path: '/my-provider' }, policy: { disabledRoutes: ADMIN_INSTANCE, passThroughEndpoints } });
    expect(denial).to.deep.equal(LLM_API_DISABLED);
  });

  it('refuses nothing when neither is set, and nothing outside both groups when both are', () => {
    expect(on('/key/generate', undefined)).to.equal(null);
    expect(on('/chat/completions', { management: false, llmApi: false })).to.equal(null);
    const neither = ['/health/liveliness', '/config/update', '/global/spend/reset', '/organization/new', '/customer/new', '/budget/new', '/spend/keys', '/key/health', '/v1/model/info'];
    for (const route of neither) {
      expect(on(route, BOTH), route).to.equal(null);
    }
  });

  describe('in the pipeline: every caller is refused, before any credential is read', () => {
    const MASTER = 'sk-master-0000';
    let signingKey: SigningKey;

    before(async () => {
      signingKey = await aSigningKey('ES256', 'disabled-routes');
    });

    function anAuthorizer(store: MemoryStore, policy: Partial<Policy>, masterKey: string | null = MASTER): Authorizer {
      const fullPolicy = aPolicy({ disabledRoutes: WORKER, ...policy });
      const settings = jwtSettings({ tollgate: { public_keys: [signingKey.jwk] }, env: { publicKeyUrl: null } });
      const jwt = new JwtAuthenticator({ settings, policy: fullPolicy, store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
      return new Authorizer({ store, policy: fullPolicy, masterKey, jwt, now: () => NOW });
    }

    async function refusal(facts: RequestFacts, policy: Partial<Policy> = {}, masterKey: string | null = MASTER): Promise<{ refusedBy: string | null; denial: Denial | null; lookups: readonly string[] }> {
      const store = new MemoryStore();
      const { decision, refusedBy } = await anAuthorizer(store, policy, masterKey).authorize(facts);
      return { refusedBy, denial: decision.kind === 'deny' ? decision.denial : null, lookups: store.calls };
    }

    const REFUSED = { refusedBy: 'disabled_routes', denial: MANAGEMENT_DISABLED, lookups: [] };
    const onKeyGenerate = (credential: RequestFacts['credential']): RequestFacts => aRequest({ route: '/key/generate', body: { models: ['gpt-4o'] }, credential });

    it('the master key, an unknown key (401 in LiteLLM, which authenticates first) and a malformed credential', async () => {
      expect(await refusal(onKeyGenerate({ kind: 'present', value: MASTER, header: 'authorization' }))).to.deep.equal(REFUSED);
      expect(await refusal(onKeyGenerate({ kind: 'present', value: 'sk-nobody', header: 'authorization' }))).to.deep.equal(REFUSED);
      expect(await refusal(onKeyGenerate({ kind: 'malformed', header: 'authorization' }))).to.deep.equal(REFUSED);
    });

    it('a proxy-admin JWT', async () => {
      const token = await aToken(signingKey, { sub: 'admin', scope: 'litellm_proxy_admin' });
      expect(await refusal(onKeyGenerate({ kind: 'present', value: token, header: 'authorization' }))).to.deep.equal(REFUSED);
    });

    it('callers that need no key: an open proxy, a configured public route, a pass-through without auth', async () => {
      expect(await refusal(onKeyGenerate({ kind: 'none' }), {}, null)).to.deep.equal(REFUSED);
      expect(await refusal(onKeyGenerate({ kind: 'none' }), { publicRoutes: ['/key/generate'] })).to.deep.equal(REFUSED);
      const passThroughEndpoints = passThroughEndpointsOf([{ path: '/team/my-forwarder', target: 'https://example.com', auth: false }]);
      const forwarded = aRequest({ route: '/team/my-forwarder', credential: { kind: 'none' } });
      expect(await refusal(forwarded, { passThroughEndpoints })).to.deep.equal(REFUSED);
    });

    it('while the same callers pass on an instance that disables nothing', async () => {
      expect((await refusal(onKeyGenerate({ kind: 'present', value: MASTER, header: 'authorization' }), { disabledRoutes: undefined })).refusedBy).to.equal(null);
      expect((await refusal(onKeyGenerate({ kind: 'none' }), { disabledRoutes: undefined }, null)).refusedBy).to.equal(null);
      const token = await aToken(signingKey, { sub: 'admin', scope: 'litellm_proxy_admin' });
      expect((await refusal(onKeyGenerate({ kind: 'present', value: token, header: 'authorization' }), { disabledRoutes: undefined })).refusedBy).to.equal(null);
    });
  });
});
