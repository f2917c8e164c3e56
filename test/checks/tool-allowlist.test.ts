import { expect } from 'chai';
import { toolAllowlist } from '../../src/checks/tool-allowlist';
import { requestToolNames } from '../../src/checks/tool-names';
import type { Json } from '../../src/domain/entities';
import { aKey, aTeam, decide } from './fixtures';

describe('request tool names by API shape — §4.12', () => {
  const rows: readonly (readonly [string, string, Record<string, Json>, readonly string[]])[] = [
    ['OpenAI chat tools[].function.name', '/v1/chat/completions', { tools: [{ type: 'function', function: { name: 'get_weather' } }] }, ['get_weather']],
    ['legacy functions[].name', '/chat/completions', { functions: [{ name: 'legacy_fn' }] }, ['legacy_fn']],
    ['built-in web_search tool type', '/chat/completions', { tools: [{ type: 'web_search_premium' }] }, ['web_search_premium']],
    ['web_search_options', '/chat/completions', { web_search_options: {} }, ['web_search']],
    ['web_search_options premium', '/chat/completions', { web_search_options: { premium: true } }, ['web_search_premium']],
    [
      'Responses function/custom names, mcp server_label, a built-in tool by its type',
      '/v1/responses',
      { tools: [{ type: 'function', name: 'f' }, { type: 'custom', name: 'c' }, { type: 'mcp', server_label: 'srv' }, { type: 'web_search' }] },
      ['f', 'c', 'srv', 'web_search'],
    ],
    ['Anthropic tools[].name', '/v1/messages', { tools: [{ name: 'bash' }] }, ['bash']],
    [
      'generateContent functionDeclarations',
      '/v1beta/models/gemini-1.5-pro:generateContent',
      { tools: [{ functionDeclarations: [{ name: 'a' }, { name: 'b' }] }] },
      ['a', 'b'],
    ],
    ['MCP call_tool name', '/mcp/call_tool', { name: 'search' }, ['search']],
    ['MCP call_tool mcp_tool_name', '/mcp/call_tool', { mcp_tool_name: 'search2' }, ['search2']],
    ['Anthropic through its pass-through route', '/anthropic/v1/messages', { tools: [{ name: 'run_sql' }] }, ['run_sql']],
    ['generateContent without v1beta, a model holding /', '/models/gemini/gemini-2.5-flash:generateContent', { tools: [{ functionDeclarations: [{ name: 'a' }] }] }, ['a']],
    ['Responses under a response id', '/v1/responses/resp_1', { tools: [{ type: 'function', name: 'f' }] }, ['f']],
    ['a placeholder stands for one segment, slashes at the ends stripped', '/engines/gpt-4o/chat/completions/', { tools: [{ function: { name: 'x' } }] }, ['x']],
    ['non-dict entries are skipped', '/chat/completions', { tools: ['x', 3, null, { function: { name: 'ok' } }] }, ['ok']],
    ['not a tool-capable route', '/embeddings', { tools: [{ function: { name: 'x' } }] }, []],
    // Absent from LiteLLM's route table, or mapped to a call type that is not tool-capable.
    ['the Cursor chat route', '/cursor/chat/completions', { tools: [{ function: { name: 'x' } }] }, []],
    ['the MCP REST tool call', '/mcp-rest/tools/call', { name: 'x' }, []],
    ['streamGenerateContent', '/v1beta/models/gemini-pro:streamGenerateContent', { tools: [{ functionDeclarations: [{ name: 'a' }] }] }, []],
    ['an empty model in generateContent', '/models/:generateContent', { tools: [{ functionDeclarations: [{ name: 'a' }] }] }, []],
    ['Responses input items', '/v1/responses/resp_1/input_items', { tools: [{ type: 'function', name: 'f' }] }, []],
    ["a falsy name is no name (Python's `if tool.get(\"name\")`)", '/chat/completions', { tools: [{ function: { name: '' } }, { function: { name: 0 } }] }, []],
    ['a name that is not a string is its str()', '/chat/completions', { tools: [{ function: { name: 7 } }, { function: { name: true } }] }, ['7', 'True']],
    ['MCP: a falsy name falls back to mcp_tool_name', '/mcp/call_tool', { name: '', mcp_tool_name: 'search' }, ['search']],
    ['MCP: a number is its str()', '/mcp/call_tool', { name: 42, mcp_tool_name: 'search' }, ['42']],
    ['a name sent twice is listed twice', '/v1/messages', { tools: [{ name: 'f' }, { name: 'f' }] }, ['f', 'f']],
    // LiteLLM's newest extractors, each closing a way around the allowlist.
    [
      'Responses: built-in tools act under their type (test_openai_responses_builtin_tools)',
      '/v1/responses',
      { tools: [{ type: 'web_search' }, { type: 'code_interpreter', container: { type: 'auto' } }, { type: 'function', name: 'get_weather' }] },
      ['web_search', 'code_interpreter', 'get_weather'],
    ],
    [
      'Responses: an unnamed function, custom or mcp tool gives nothing, never its bare type',
      '/v1/responses',
      { tools: [{ type: 'function' }, { type: 'custom', name: '' }, { type: 'mcp' }, 'junk'] },
      [],
    ],
    [
      'Responses: tools of additional_tools and tool_search_output input items, after the top-level ones (test_openai_responses_hoisted_tools)',
      '/v1/responses',
      {
        tools: [{ type: 'function', name: 'allowed' }],
        input: [
          { type: 'tool_search_output', call_id: 'c1', tools: [{ type: 'custom', name: 'forbidden_custom' }, { type: 'mcp', server_label: 'forbidden_mcp' }] },
          { role: 'user', content: 'hi' },
          { type: 'additional_tools', role: 'developer', tools: [{ type: 'function', name: 'forbidden_function' }] },
        ],
      },
      ['allowed', 'forbidden_custom', 'forbidden_mcp', 'forbidden_function'],
    ],
    [
      'Responses: the children of a namespace, top level or hoisted (test_openai_responses_codex_namespaced_tools_are_extracted)',
      '/v1/responses',
      {
        tools: [{ type: 'namespace', name: 'functions', tools: [{ type: 'function', name: 'read_file' }] }],
        input: [{ type: 'additional_tools', tools: [{ type: 'namespace', name: 'collaboration', tools: [{ type: 'function', name: 'spawn_agent' }] }] }],
      },
      ['read_file', 'spawn_agent'],
    ],
    [
      'Responses: tools of ordinary input items, malformed hoisted items and a string input are not read',
      '/v1/responses',
      { input: [{ type: 'message', role: 'user', tools: [{ type: 'function', name: 'x' }] }, { type: 'additional_tools' }, { type: 'additional_tools', tools: 'not-a-list' }, 'junk'] },
      [],
    ],
    [
      'Anthropic: OpenAI-format tools the bridge forwards, a tool without a name skipped',
      '/v1/messages',
      { tools: [{ type: 'function', function: { name: 'get_weather' } }, { name: 'run_sql' }, { googleSearch: {} }] },
      ['get_weather', 'run_sql'],
    ],
    [
      'Anthropic: a hybrid tool yields every name, so a decoy name cannot hide its function (test_anthropic_hybrid_tool_yields_every_name)',
      '/v1/messages',
      { tools: [{ type: 'function', name: 'decoy', function: { name: 'blocked_fn' } }, { type: 'function', name: '', function: { name: 'hidden_fn' } }] },
      ['decoy', 'blocked_fn', 'hidden_fn'],
    ],
    [
      'chat: a built-in web_search tool carrying a function yields both names',
      '/chat/completions',
      { tools: [{ type: 'web_search', function: { name: 'innocent' } }] },
      ['web_search', 'innocent'],
    ],
    ['a tools dict or string walks keys or characters: no name', '/chat/completions', { tools: { function: { name: 'x' } }, functions: 'abc' }, []],
  ];
  for (const [why, route, body, expected] of rows) {
    it(`${why}`, () => {
      expect(requestToolNames(route, body)).to.deep.equal(expected);
    });
  }
});

describe('request tool names LiteLLM cannot iterate — §4.12', () => {
  const rows: readonly (readonly [string, string, Record<string, Json>, string])[] = [
    ['chat tools a number', '/chat/completions', { tools: 5 }, "'int' object is not iterable"],
    ['legacy functions true', '/chat/completions', { functions: true }, "'bool' object is not iterable"],
    ['Responses tools a float', '/v1/responses', { tools: 1.5 }, "'float' object is not iterable"],
    ['Anthropic tools a number', '/v1/messages', { tools: 3 }, "'int' object is not iterable"],
    ['generateContent functionDeclarations a number', '/generate_content', { tools: [{ functionDeclarations: 2 }] }, "'int' object is not iterable"],
  ];
  for (const [why, route, body, typeError] of rows) {
    it(`raises TypeError: ${why}`, () => {
      expect(requestToolNames(route, body)).to.deep.equal({ typeError });
    });
  }

  it('leaves the Responses input (the prompt, decoded on read) unread when no list applies', () => {
    const body: Record<string, Json> = { tools: [{ type: 'function', name: 'f' }] };
    Object.defineProperty(body, 'input', { enumerable: true, get: () => expect.fail('input was decoded') });
    expect(requestToolNames('/v1/responses', body, false)).to.deep.equal(['f']);
  });

  it('reads a falsy tools as no tools (Python `or []`)', () => {
    expect(requestToolNames('/chat/completions', { tools: 0, functions: false })).to.deep.equal([]);
  });
});

describe('tool allowlist — §4 step 12', () => {
  const body = { model: 'gpt-4o', tools: [{ type: 'function', function: { name: 'rm_rf' } }, { type: 'function', function: { name: 'ls' } }] };

  it("denies a tool outside the key's allowed_tools (403 tool_access_denied, param tools)", () => {
    expect(decide(toolAllowlist, { request: { body }, snapshot: { key: aKey({ metadata: { allowed_tools: ['ls'] } }) } })).to.deep.equal({
      status: 403,
      type: 'tool_access_denied',
      message: "Tool(s) ['rm_rf'] are not in the allowed tools list for this key/team.",
      param: 'tools',
    });
  });

  it("falls back to the team's allowed_tools when the key's list is empty", () => {
    expect(
      decide(toolAllowlist, {
        request: { body },
        snapshot: { key: aKey({ metadata: { allowed_tools: [] } }), team: aTeam({ metadata: { allowed_tools: ['ls'] } }) },
      })?.type,
    ).to.equal('tool_access_denied');
  });

  it("uses the key's list over the team's", () => {
    expect(
      decide(toolAllowlist, {
        request: { body },
        snapshot: { key: aKey({ metadata: { allowed_tools: ['ls', 'rm_rf'] } }), team: aTeam({ metadata: { allowed_tools: ['ls'] } }) },
      }),
    ).to.equal(null);
  });

  it('denies a tool hoisted from a Responses additional_tools input item (403 tool_access_denied)', () => {
    const denial = decide(toolAllowlist, {
      request: { route: '/v1/responses', body: { input: [{ type: 'additional_tools', role: 'developer', tools: [{ type: 'custom', name: 'restricted_tool' }] }] } },
      snapshot: { key: aKey({ metadata: { allowed_tools: ['other_tool'] } }) },
    });
    expect(denial?.message).to.equal("Tool(s) ['restricted_tool'] are not in the allowed tools list for this key/team.");
  });

  it('denies the function behind a decoy name on /v1/messages (403 tool_access_denied)', () => {
    const denial = decide(toolAllowlist, {
      request: { route: '/v1/messages', body: { tools: [{ type: 'function', name: 'decoy', function: { name: 'run_sql' } }] } },
      snapshot: { key: aKey({ metadata: { allowed_tools: ['decoy'] } }) },
    });
    expect(denial?.message).to.equal("Tool(s) ['run_sql'] are not in the allowed tools list for this key/team.");
  });

  it("checks a JWT identity (no key) against its team's list, as LiteLLM's JWT token carries team_metadata", () => {
    expect(
      decide(toolAllowlist, { request: { body }, snapshot: { key: null, team: aTeam({ metadata: { allowed_tools: ['ls'] } }) } })?.type,
    ).to.equal('tool_access_denied');
  });

  it('refuses a tools value the extractor cannot iterate, whatever the allowlist (401 auth_error)', () => {
    expect(decide(toolAllowlist, { request: { body: { model: 'gpt-4o', tools: 5 } } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: "Authentication Error, 'int' object is not iterable",
      param: 'None',
    });
  });

  it('does not read tools on a route that is not tool-capable, even one it could not iterate', () => {
    expect(decide(toolAllowlist, { request: { route: '/embeddings', body: { tools: 5 } } })).to.equal(null);
  });

  describe('a body Envoy cut short (a deliberate difference: LiteLLM sees the whole body)', () => {
    const prefix = { model: 'gpt-4o', tools: [{ type: 'function', function: { name: 'ls' } }] };
    const limited = { key: aKey({ metadata: { allowed_tools: ['ls'] } }) };

    it('refuses a caller with a list: a tool or a second tools member past the cut would go unchecked (403 tool_access_denied)', () => {
      const denial = decide(toolAllowlist, { request: { body: prefix, bodyTruncated: true }, snapshot: limited });
      expect(denial?.status).to.equal(403);
      expect(denial?.type).to.equal('tool_access_denied');
      expect(denial?.param).to.equal('tools');
      expect(denial?.message).to.contain('request body cut short by Envoy');
    });

    it('names a tool the prefix shows and the list does not allow, as for a whole body', () => {
      const shown = { model: 'gpt-4o', tools: [{ type: 'function', function: { name: 'rm_rf' } }] };
      expect(decide(toolAllowlist, { request: { body: shown, bodyTruncated: true }, snapshot: limited })?.message).to.equal(
        "Tool(s) ['rm_rf'] are not in the allowed tools list for this key/team.",
      );
    });

    it("refuses under the team's list too, and with no tools in the prefix at all", () => {
      const denial = decide(toolAllowlist, {
        request: { route: '/v1/messages', body: { model: 'claude' }, bodyTruncated: true },
        snapshot: { key: aKey({ metadata: { allowed_tools: [] } }), team: aTeam({ metadata: { allowed_tools: ['ls'] } }) },
      });
      expect(denial?.type).to.equal('tool_access_denied');
    });

    it('lets it through without a list, on a route that carries no tools, and whole bodies as before', () => {
      expect(decide(toolAllowlist, { request: { body: prefix, bodyTruncated: true } })).to.equal(null);
      expect(decide(toolAllowlist, { request: { route: '/v1/embeddings', body: { model: 'e' }, bodyTruncated: true }, snapshot: limited })).to.equal(null);
      expect(decide(toolAllowlist, { request: { body: prefix }, snapshot: limited })).to.equal(null);
    });
  });

  it('allows any tool when neither key nor team has a list', () => {
    expect(decide(toolAllowlist, { request: { body } })).to.equal(null);
  });
});
