/**
 * Which tools a request asks to use, per API shape (LiteLLM
 * `guardrails/tool_name_extraction.extract_request_tool_names`, litellm-auth.md §4.12).
 * Only tool-capable routes are considered (LiteLLM's `TOOL_CAPABLE_CALL_TYPES`).
 *
 * The stored LiteLLM versions disagree: each newer one closes a different way around the
 * allowlist (chat built-in web search, Responses built-in tools, hoisted and namespaced Responses
 * tools, OpenAI-format and hybrid Anthropic tools). Tollgate reads every place any of them reads,
 * so it lists the same names or more, never fewer: a restricted key may be refused a tool one
 * LiteLLM version would pass unread (a Responses `file_search`), never the other way round.
 */
import type { Json } from '../domain/entities';
import { isJsonObject } from './context';
import { isTruthy } from '../domain/truthiness';
import { pyStr } from './python-format';
import { isPythonTypeError, pyIterOrEmpty, type PythonTypeError } from './python-iteration';

type ToolApi = 'chat' | 'responses' | 'anthropic' | 'generate_content' | 'mcp_call_tool';

/**
 * The entries of LiteLLM's `API_ROUTE_TO_CALL_TYPES` whose call types are tool-capable
 * (`TOOL_CAPABLE_CALL_TYPES`: completion, responses, anthropic_messages, generate_content,
 * call_mcp_tool), in its order. `get_call_types_for_route` takes an exact key, else the first
 * pattern whose `{placeholder}` segments stand for one path segment each. No other route is
 * checked: not `/cursor/chat/completions`, not the MCP REST routes, not streamGenerateContent.
 */
const TOOL_CAPABLE_ROUTES: readonly (readonly [pattern: string, api: ToolApi])[] = [
  ['/chat/completions', 'chat'],
  ['/v1/chat/completions', 'chat'],
  ['/engines/{model}/chat/completions', 'chat'],
  ['/openai/deployments/{model}/chat/completions', 'chat'],
  ['/responses', 'responses'],
  ['/v1/responses', 'responses'],
  ['/openai/v1/responses', 'responses'],
  ['/responses/{response_id}', 'responses'],
  ['/v1/responses/{response_id}', 'responses'],
  ['/openai/v1/responses/{response_id}', 'responses'],
  ['/anthropic/v1/messages', 'anthropic'],
  ['/generate_content', 'generate_content'],
  ['/mcp/call_tool', 'mcp_call_tool'],
  ['/v1/messages', 'anthropic'],
];
const EXACT_TOOL_ROUTES: ReadonlyMap<string, ToolApi> = new Map(TOOL_CAPABLE_ROUTES);

/** `/models/{model}:generateContent`, also under `/v1beta`; the model may hold `/` and not be empty. */
const GENERATE_CONTENT_ROUTE = /^\/(?:v1beta\/)?models\/.+:generateContent$/;

/** Each pattern's segments, split once. */
const PATTERN_SEGMENTS: readonly (readonly [segments: readonly string[], api: ToolApi])[] = TOOL_CAPABLE_ROUTES.map(
  ([pattern, api]) => [trimSlashes(pattern).split('/'), api] as const,
);

/** LiteLLM `_route_matches_pattern`: slashes stripped at both ends, then segment by segment. */
function matchesCallTypePattern(routeParts: readonly string[], patternParts: readonly string[]): boolean {
  if (routeParts.length !== patternParts.length) return false;
  return patternParts.every((part, i) => (part.startsWith('{') && part.endsWith('}')) || part === routeParts[i]);
}

function trimSlashes(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && text[from] === '/') from += 1;
  while (to > from && text[to - 1] === '/') to -= 1;
  return text.slice(from, to);
}

/** The tool-capable API a route serves, or null when tools are not checked there. */
export function toolApiForRoute(route: string): ToolApi | null {
  const exact = EXACT_TOOL_ROUTES.get(route);
  if (exact !== undefined) return exact;
  if (GENERATE_CONTENT_ROUTE.test(route)) return 'generate_content';
  const routeParts = trimSlashes(route).split('/');
  for (const [segments, api] of PATTERN_SEGMENTS) {
    if (matchesCallTypePattern(routeParts, segments)) return api;
  }
  return null;
}

const BUILT_IN_WEB_SEARCH = new Set(['web_search', 'web_search_premium']);

/** Responses input items whose `tools` are hoisted into the request (Codex `additional_tools`, tool search results). */
const HOISTED_TOOL_ITEMS = new Set(['additional_tools', 'tool_search_output']);

type Names = string[] | PythonTypeError;

/**
 * `for tool in data.get(key) or []` keeping the dicts: a string or a dict walks its characters or
 * keys (none of them a dict), a number or `true` raises TypeError.
 */
function toolObjects(value: Json | undefined): readonly Readonly<Record<string, Json>>[] | PythonTypeError {
  const entries = pyIterOrEmpty(value);
  return isPythonTypeError(entries) ? entries : entries.filter(isJsonObject);
}

/** `names.append(str(x))` when x is truthy (LiteLLM's `if tool.get("name"):`). */
function pushName(names: string[], value: Json | undefined): void {
  if (value !== undefined && isTruthy(value)) names.push(pyStr(value));
}

/**
 * OpenAI chat: `tools[].function.name` and legacy `functions[].name` (handler
 * `OpenAIChatCompletionsHandler.extract_request_tool_names`), plus the built-in web search a
 * restricted key must not reach unlisted: `tools[].type` web_search / web_search_premium and
 * `web_search_options` (the LiteLLM version with `test_builtin_web_search_blocked_when_not_allowed`).
 * LiteLLM reads `function.name` only when `type == "function"`; Tollgate reads it on any tool, and
 * both the type and the function of a tool that carries both: only ever more names, never fewer.
 */
function chatToolNames(body: Readonly<Record<string, Json>>): Names {
  const names: string[] = [];
  const tools = toolObjects(body['tools']);
  if (isPythonTypeError(tools)) return tools;
  for (const tool of tools) {
    if (typeof tool['type'] === 'string' && BUILT_IN_WEB_SEARCH.has(tool['type'])) names.push(tool['type']);
    const fn = tool['function'];
    if (isJsonObject(fn)) pushName(names, fn['name']);
  }
  const functions = toolObjects(body['functions']);
  if (isPythonTypeError(functions)) return functions;
  for (const fn of functions) pushName(names, fn['name']);
  const webSearch = body['web_search_options'];
  if (webSearch !== undefined && webSearch !== null) {
    names.push(isJsonObject(webSearch) && webSearch['premium'] === true ? 'web_search_premium' : 'web_search');
  }
  return names;
}

/**
 * One Responses tool: `name` of a function or custom tool, `server_label` of an mcp tool, the
 * children of a `namespace` (Codex groups its tools so), and for any other typed tool (web_search,
 * code_interpreter, file_search…) its type: built-in tools act under their type. A function,
 * custom or mcp tool without its name gives nothing, never its bare type.
 */
function pushResponsesTool(names: string[], tool: Readonly<Record<string, Json>>): void {
  const type = tool['type'];
  if (type === 'function' || type === 'custom') pushName(names, tool['name']);
  else if (type === 'mcp') pushName(names, tool['server_label']);
  else if (type === 'namespace') {
    const children = tool['tools'];
    if (Array.isArray(children)) for (const child of children.filter(isJsonObject)) pushResponsesTool(names, child);
  } else pushName(names, type);
}

/**
 * Responses API: the top-level `tools`, then the tools of `additional_tools` and
 * `tool_search_output` input items, which providers hoist into the request. LiteLLM's newest
 * versions each close one of these ways around the allowlist (tests
 * `test_openai_responses_hoisted_tools`, `..._codex_namespaced_tools_are_extracted`,
 * `..._builtin_tools`); Tollgate reads all of them. A malformed hoisted item is skipped, as there.
 */
function responsesToolNames(body: Readonly<Record<string, Json>>, readInput: boolean): Names {
  const names: string[] = [];
  const tools = toolObjects(body['tools']);
  if (isPythonTypeError(tools)) return tools;
  for (const tool of tools) pushResponsesTool(names, tool);
  // `input` is the prompt, decoded only when read (envoy/json-object.ts): read when a list applies.
  if (!readInput) return names;
  const input = body['input'];
  if (Array.isArray(input)) {
    for (const item of input) {
      if (!isJsonObject(item) || typeof item['type'] !== 'string' || !HOISTED_TOOL_ITEMS.has(item['type'])) continue;
      const hoisted = item['tools'];
      if (Array.isArray(hoisted)) for (const tool of hoisted.filter(isJsonObject)) pushResponsesTool(names, tool);
    }
  }
  return names;
}

/**
 * Anthropic messages: each tool's `name`, then its OpenAI-style `function.name` (the bridge
 * forwards OpenAI-format tools; a hybrid tool yields both, so a decoy `name` cannot hide the
 * function: `test_anthropic_hybrid_tool_yields_every_name`).
 */
function anthropicToolNames(body: Readonly<Record<string, Json>>): Names {
  const tools = toolObjects(body['tools']);
  if (isPythonTypeError(tools)) return tools;
  const names: string[] = [];
  for (const tool of tools) {
    pushName(names, tool['name']);
    const fn = tool['function'];
    if (isJsonObject(fn)) pushName(names, fn['name']);
  }
  return names;
}

/** `tools[].functionDeclarations[].name` (camelCase only, as LiteLLM reads it). */
function generateContentToolNames(body: Readonly<Record<string, Json>>): Names {
  const tools = toolObjects(body['tools']);
  if (isPythonTypeError(tools)) return tools;
  const names: string[] = [];
  for (const tool of tools) {
    const declarations = toolObjects(tool['functionDeclarations']);
    if (isPythonTypeError(declarations)) return declarations;
    for (const declaration of declarations) pushName(names, declaration['name']);
  }
  return names;
}

/** `data.get("name") or data.get("mcp_tool_name")`, then `str()` when truthy. */
function mcpCallToolNames(body: Readonly<Record<string, Json>>): Names {
  const names: string[] = [];
  const name = body['name'];
  pushName(names, name !== undefined && isTruthy(name) ? name : body['mcp_tool_name']);
  return names;
}

const EXTRACTORS: Readonly<Record<ToolApi, (body: Readonly<Record<string, Json>>, readInput: boolean) => Names>> = {
  chat: chatToolNames,
  responses: responsesToolNames,
  anthropic: anthropicToolNames,
  generate_content: generateContentToolNames,
  mcp_call_tool: mcpCallToolNames,
};

const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * Tool names requested on this route, in the request's order, a name sent twice listed twice (as
 * LiteLLM lists them); or the TypeError LiteLLM's extractor raises on a `tools` it cannot iterate
 * (`"tools": 5`), which refuses the request whatever the allowlist. `readInput: false` skips the
 * Responses input items (they raise nothing), for a caller with no list to check them against.
 */
export function requestToolNames(
  route: string,
  body: Readonly<Record<string, Json>>,
  readInput = true,
): readonly string[] | PythonTypeError {
  const api = toolApiForRoute(route);
  // Object.hasOwn: reading `input` to test it would decode the prompt.
  if (api === null || !FIELDS_READ[api].some((field) => Object.hasOwn(body, field))) return NO_NAMES;
  return EXTRACTORS[api](body, readInput);
}

/** The fields each extractor reads: a request with none of them (most) costs no allocation. */
const FIELDS_READ: Readonly<Record<ToolApi, readonly string[]>> = {
  chat: ['tools', 'functions', 'web_search_options'],
  responses: ['tools', 'input'],
  anthropic: ['tools'],
  generate_content: ['tools'],
  mcp_call_tool: ['name', 'mcp_tool_name'],
};
