/**
 * Which tools a request asks to use, per API shape (LiteLLM
 * `guardrails/tool_name_extraction.extract_request_tool_names`, litellm-auth.md §4.12).
 * Only tool-capable routes are considered (LiteLLM's `TOOL_CAPABLE_CALL_TYPES`).
 */
import type { Json } from '../domain/entities';
import { isJsonObject } from './context';
import { isTruthy } from '../domain/truthiness';
import { pyStr } from './python-format';

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

function toolObjects(value: Json | undefined): readonly Readonly<Record<string, Json>>[] {
  // Non-dict entries are skipped, as LiteLLM does.
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

/** LiteLLM's extractors: `if tool.get("name"): names.append(str(tool["name"]))`. */
function stringField(value: Json | undefined): string | null {
  return value !== undefined && isTruthy(value) ? pyStr(value) : null;
}

function chatToolNames(body: Readonly<Record<string, Json>>): string[] {
  const names: (string | null)[] = [];
  for (const tool of toolObjects(body['tools'])) {
    const fn = tool['function'];
    if (isJsonObject(fn)) names.push(stringField(fn['name']));
    else if (typeof tool['type'] === 'string' && BUILT_IN_WEB_SEARCH.has(tool['type'])) names.push(tool['type']);
  }
  for (const fn of toolObjects(body['functions'])) names.push(stringField(fn['name']));
  const webSearch = body['web_search_options'];
  if (webSearch !== undefined && webSearch !== null) {
    names.push(isJsonObject(webSearch) && webSearch['premium'] === true ? 'web_search_premium' : 'web_search');
  }
  return names.filter((n): n is string => n !== null);
}

function responsesToolNames(body: Readonly<Record<string, Json>>): string[] {
  return toolObjects(body['tools'])
    .map((tool) => {
      if (tool['type'] === 'function' || tool['type'] === 'custom') return stringField(tool['name']);
      if (tool['type'] === 'mcp') return stringField(tool['server_label']);
      return null;
    })
    .filter((n): n is string => n !== null);
}

function anthropicToolNames(body: Readonly<Record<string, Json>>): string[] {
  return toolObjects(body['tools'])
    .map((tool) => stringField(tool['name']))
    .filter((n): n is string => n !== null);
}

function generateContentToolNames(body: Readonly<Record<string, Json>>): string[] {
  return toolObjects(body['tools'])
    .flatMap((tool) => toolObjects(tool['functionDeclarations']))
    .map((declaration) => stringField(declaration['name']))
    .filter((n): n is string => n !== null);
}

/** `data.get("name") or data.get("mcp_tool_name")`, then `str()` when truthy. */
function mcpCallToolNames(body: Readonly<Record<string, Json>>): string[] {
  const name = stringField(body['name']) ?? stringField(body['mcp_tool_name']);
  return name === null ? [] : [name];
}

const EXTRACTORS: Readonly<Record<ToolApi, (body: Readonly<Record<string, Json>>) => string[]>> = {
  chat: chatToolNames,
  responses: responsesToolNames,
  anthropic: anthropicToolNames,
  generate_content: generateContentToolNames,
  mcp_call_tool: mcpCallToolNames,
};

/** Tool names requested on this route, in the request's order, a name sent twice listed twice (as LiteLLM lists them). */
export function requestToolNames(route: string, body: Readonly<Record<string, Json>>): readonly string[] {
  const api = toolApiForRoute(route);
  return api === null ? [] : EXTRACTORS[api](body);
}
