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
      'Responses function/custom names and mcp server_label',
      '/v1/responses',
      { tools: [{ type: 'function', name: 'f' }, { type: 'custom', name: 'c' }, { type: 'mcp', server_label: 'srv' }, { type: 'web_search' }] },
      ['f', 'c', 'srv'],
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
  ];
  for (const [why, route, body, expected] of rows) {
    it(`${why}`, () => {
      expect(requestToolNames(route, body)).to.deep.equal(expected);
    });
  }
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

  it('allows any tool when neither key nor team has a list', () => {
    expect(decide(toolAllowlist, { request: { body } })).to.equal(null);
  });
});
