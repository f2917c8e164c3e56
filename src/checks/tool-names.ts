/**
 * Which tools a request asks to use, per API shape (LiteLLM
 * `guardrails/tool_name_extraction.extract_request_tool_names`, litellm-auth.md §4.12).
 * Only tool-capable routes are considered (LiteLLM's `TOOL_CAPABLE_CALL_TYPES`).
 */
import type { Json } from '../domain/entities';
import { checkRouteAccess } from '../routes/match';
import { isJsonObject } from './context';
import { isTruthy } from '../domain/truthiness';
import { pyStr } from './python-format';

type ToolApi = 'chat' | 'responses' | 'anthropic' | 'generate_content' | 'mcp_call_tool';

const TOOL_CAPABLE_ROUTES: readonly (readonly [ToolApi, readonly string[]])[] = [
  [
    'chat',
    [
      '/chat/completions',
      '/v1/chat/completions',
      '/engines/{model}/chat/completions',
      '/openai/deployments/{model}/chat/completions',
      '/cursor/chat/completions',
    ],
  ],
  ['responses', ['/responses', '/v1/responses', '/openai/v1/responses']],
  ['anthropic', ['/v1/messages']],
  [
    'generate_content',
    [
      '/v1beta/models/{model_name:path}:generateContent',
      '/v1beta/models/{model_name:path}:streamGenerateContent',
      '/models/{model_name:path}:generateContent',
      '/models/{model_name:path}:streamGenerateContent',
    ],
  ],
  ['mcp_call_tool', ['/mcp/tools/call', '/mcp-rest/tools/call']],
];

/** The tool-capable API a route serves, or null when tools are not checked there. */
export function toolApiForRoute(route: string): ToolApi | null {
  for (const [api, routes] of TOOL_CAPABLE_ROUTES) {
    if (checkRouteAccess(route, routes)) return api;
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
