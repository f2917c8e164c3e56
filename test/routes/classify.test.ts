import { expect } from 'chai';
import {
  isRateLimitedRoute,
  allowedRoutesCheck,
  isAzureOpenAiRoute,
  isInfoRoute,
  isLlmApiRoute,
  isManagementRoute,
  isMasterKeyOnlyRoute,
  isMcpRoute,
  isPublicRoute,
  keyAllowedRoutesAdmit,
  tokenAllowedRoutesAdmit,
} from '../../src/routes/classify';
import { passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';

describe('isLlmApiRoute — §6.2', () => {
  const rows: readonly (readonly [string, boolean, string])[] = [
    ['/chat/completions', true, 'exact openai route'],
    ['/v1/chat/completions', true, 'exact openai route with /v1'],
    ['/v1/messages', true, 'exact anthropic route'],
    ['/v1beta/interactions', true, 'exact google route'],
    ['/rag/query', true, 'exact native route'],
    ['/mcp/tools/call', true, 'mcp inference route'],
    ['/mcp/some-server', true, 'mcp inference placeholder /mcp/{subpath}'],
    ['/a2a/agent-7/message/send', true, 'agent route placeholder'],
    ['/v1/agents', true, 'agent management route (LiteLLM matches all agent_routes)'],
    ['/v1/threads/thread_49EIN5QF32s4mH20M7GFKdlZ', true, 'openai placeholder template'],
    ['/openai/deployments/gpt-4/chat/completions', true, 'Azure deployment placeholder'],
    ['/engines/gpt-4/chat/completions', true, 'engines placeholder'],
    ['/v1/containers/cntr_1/files', true, 'trailing-* openai route'],
    ['/v1beta/models/gemini-1.5-pro:generateContent', true, 'google {model_name:path} template'],
    ['/models/bedrock/claude-sonnet-3.7:countTokens', true, '{model_name:path} may contain /'],
    ['/v1/skills/skill_1', true, 'anthropic placeholder template'],
    ['/realtimeabc', true, 'LiteLLM quirk: unescaped "?" in /realtime?{model} makes "e" optional'],
    ['/bedrock/model/x/invoke', true, 'pass-through prefix'],
    ['/team/openai-admins', true, 'LiteLLM quirk: pass-through prefixes match as substrings'],
    ['/x/cohere', true, 'substring /cohere anywhere'],
    ['/models', true, 'model list is an openai route'],
    ['/key/info', false, 'info route'],
    ['/team/new', false, 'management route'],
    ['/model/info', false, 'model info is in llm_api_routes but not an LLM route for is_llm_api_route'],
    ['/v1/mcp/server', false, 'MCP management route'],
    ['/health', false, 'health'],
  ];
  for (const [route, expected, why] of rows) {
    it(`${route} → ${String(expected)} (${why})`, () => {
      expect(isLlmApiRoute(route)).to.equal(expected);
    });
  }

  it('is false for a non-string route', () => {
    expect(isLlmApiRoute(undefined)).to.equal(false);
    expect(isLlmApiRoute(42)).to.equal(false);
  });
});

describe("isRateLimitedRoute: where LiteLLM's limiter runs (a model-calling endpoint's pre-call hook)", () => {
  it('limits the routes that call a model, pass-throughs included', () => {
    for (const route of ['/v1/chat/completions', '/embeddings', '/v1/messages', '/v1/responses/resp_1', '/anthropic/v1/messages', '/openai/deployments/gpt-4o/chat/completions']) {
      expect(isRateLimitedRoute(route), route).to.equal(true);
    }
  });

  it('limits the pass-through endpoints the config registers with auth: true', () => {
    const endpoints = passThroughEndpointsOf([{ path: '/svc', auth: true }, { path: '/open', auth: false }, { path: '/unset' }]);
    expect(isRateLimitedRoute('/svc', endpoints)).to.equal(true);
    expect(isRateLimitedRoute('/svc')).to.equal(false);
    expect(isRateLimitedRoute('/open', endpoints), 'one with auth: false is not registered as an LLM route').to.equal(false);
    expect(isRateLimitedRoute('/unset', endpoints), 'one that sets no auth is read as auth: true').to.equal(true);
  });

  it('leaves out model listing, token counting and every non-LLM route', () => {
    for (const route of ['/v1/models', '/models', '/cursor/v1/models', '/utils/token_counter', '/key/info', '/team/new', '/health', '/v1/model/info']) {
      expect(isRateLimitedRoute(route), route).to.equal(false);
    }
  });
});

describe("a route ending in a newline (%0A): matched as Python's `$` matches, before a final newline", () => {
  it('is an LLM API route wherever a LiteLLM pattern makes it one, so no LLM-route check is skipped', () => {
    for (const route of ['/engines/gpt-4o/chat/completions\n', '/openai/deployments/azure/gpt-4o/chat/completions\n', '/v1/threads/x/messages\n']) {
      expect(isLlmApiRoute(route), JSON.stringify(route)).to.equal(true);
    }
    expect(isAzureOpenAiRoute('/engines/gpt-4o/chat/completions\n')).to.equal(true);
    expect(isLlmApiRoute('/v1/threads/x/messages\n\n'), 'only one final newline').to.equal(false);
    expect(isLlmApiRoute('/chat/completions\n'), 'exact lists stay exact, as in LiteLLM').to.equal(false);
  });
});

describe('isAzureOpenAiRoute — §6.2', () => {
  it('matches a provider-qualified deployment', () => {
    expect(isAzureOpenAiRoute('/openai/deployments/vertex_ai/gemini-1.5-flash/chat/completions')).to.equal(true);
  });
  it('does not match deeper paths', () => {
    expect(isAzureOpenAiRoute('/openai/deployments/a/b/c/chat/completions')).to.equal(false);
  });
});

describe('route classifiers — §6.2', () => {
  it('isInfoRoute is exact membership: /v1/models yes, /v1/models/x no', () => {
    expect(isInfoRoute('/v1/models')).to.equal(true);
    expect(isInfoRoute('/v1/models/gpt-4o')).to.equal(false);
    expect(isInfoRoute('/key/info')).to.equal(true);
  });

  it('isManagementRoute matches placeholder templates (/key/{key_id}/regenerate)', () => {
    expect(isManagementRoute('/key/abc/regenerate')).to.equal(true);
    expect(isManagementRoute('/chat/completions')).to.equal(false);
  });

  it('isMcpRoute covers inference and management MCP routes', () => {
    expect(isMcpRoute('/mcp/tools/call')).to.equal(true);
    expect(isMcpRoute('/v1/mcp/server/abc/tools')).to.equal(true);
    expect(isMcpRoute('/chat/completions')).to.equal(false);
  });

  it('isMasterKeyOnlyRoute — §2.6 step 6', () => {
    expect(isMasterKeyOnlyRoute('/global/spend/reset')).to.equal(true);
    expect(isMasterKeyOnlyRoute('/global/spend')).to.equal(false);
  });
});

describe('isPublicRoute — §2.4', () => {
  it('admits LiteLLM public routes without configuration', () => {
    expect(isPublicRoute('/health/liveliness')).to.equal(true);
    expect(isPublicRoute('/')).to.equal(true);
  });
  it('does not admit /metrics or LLM routes', () => {
    expect(isPublicRoute('/metrics')).to.equal(false);
    expect(isPublicRoute('/chat/completions')).to.equal(false);
  });
  it('admits configured public routes exactly or by trailing *', () => {
    expect(isPublicRoute('/spend/calculate', ['/spend/calculate'])).to.equal(true);
    expect(isPublicRoute('/api/users/1', ['/api/*'])).to.equal(true);
    expect(isPublicRoute('/apix', ['/api/*'])).to.equal(false);
  });
});

describe('keyAllowedRoutesAdmit (virtual-key allowed_routes) — §6.4', () => {
  const rows: readonly (readonly [string, readonly string[], boolean, string])[] = [
    ['/chat/completions', [], true, 'empty list means no restriction'],
    ['/chat/completions', ['/chat/completions'], true, 'exact entry'],
    ['/fake-proxy-6/v1/chat', ['/fake-proxy-6'], true, 'sub-path of an entry'],
    ['/fake-proxy-600', ['/fake-proxy-6'], false, 'a longer sibling is not a sub-path'],
    ['/v1/threads/t1', ['openai_routes'], true, 'group name, placeholder template'],
    ['/anthropic/v1/messages', ['llm_api_routes'], true, 'llm_api_routes covers pass-through wildcards'],
    ['/key/generate', ['llm_api_routes'], false, 'management route outside llm_api_routes'],
    ['/scim/v2/Users', ['/scim/v2/*'], true, 'trailing-* entry'],
    ['/key/info', ['info_routes'], true, 'info_routes group'],
  ];
  for (const [route, allowed, expected, why] of rows) {
    it(`${route} with ${JSON.stringify(allowed)} → ${String(expected)} (${why})`, () => {
      expect(keyAllowedRoutesAdmit(route, allowed)).to.equal(expected);
    });
  }
});

describe('tokenAllowedRoutesAdmit (RBAC step 12) — §6.3', () => {
  it('admits nothing with an empty list', () => {
    expect(tokenAllowedRoutesAdmit('/team/new', [])).to.equal(false);
  });
  it('does not expand group names', () => {
    expect(tokenAllowedRoutesAdmit('/team/new', ['management_routes'])).to.equal(false);
  });
  it('admits exact, sub-path and trailing-* entries', () => {
    expect(tokenAllowedRoutesAdmit('/team/new', ['/team/new'])).to.equal(true);
    expect(tokenAllowedRoutesAdmit('/team/new', ['/team'])).to.equal(true);
    expect(tokenAllowedRoutesAdmit('/team/new', ['/te*'])).to.equal(true);
  });
});

describe('allowedRoutesCheck (JWT role routes) — §6.2', () => {
  it('expands group names with Starlette-style templates', () => {
    expect(allowedRoutesCheck('/v1/threads/t1', ['openai_routes'])).to.equal(true);
    expect(allowedRoutesCheck('/v1beta/models/a/b:generateContent', ['google_routes'])).to.equal(true);
  });
  it('escapes literal template text (no regex quirks)', () => {
    expect(allowedRoutesCheck('/realtimeabc', ['openai_routes'])).to.equal(false);
  });
  it('compares literal entries exactly', () => {
    expect(allowedRoutesCheck('/v1/messages', ['/v1/messages'])).to.equal(true);
    expect(allowedRoutesCheck('/v1/messages/count_tokens', ['/v1/messages'])).to.equal(false);
  });
});
