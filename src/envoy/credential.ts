/**
 * Which credential the caller presented, in LiteLLM's order (litellm-auth.md §2.3,
 * user_api_key_auth.py::get_api_key and get_api_key_from_custom_header).
 */
import type { Settings } from '../config/settings';
import type { Credential } from '../domain/request';
import { headerValue, nonEmptyHeader, type HeaderRecord } from './headers';
import { passThroughEndpointsFor } from '../config/pass-through-endpoints';
import { pythonBase64Decode } from '../util/python-base64';
import { pyStrip } from '../util/python-strip';
import type { QueryParameters } from './route';
import { LITELLM_ROUTES } from '../routes/route-groups';

export type CredentialSettings = Pick<Settings, 'credentials'>;

/** `Credential.header` when the key came from the `key=` query parameter: not a header name
 *  (`?` cannot appear in one), so the response strips the query parameter instead. */
export const QUERY_KEY_CREDENTIAL = '?key';

/** Headers that carry the key as-is, after Authorization, in LiteLLM's order. */
const RAW_KEY_HEADERS = ['api-key', 'x-api-key', 'x-goog-api-key', 'ocp-apim-subscription-key'] as const;

/** The credential as LiteLLM has it when it tests for a JWT: before a pass-through names the key. */
export function credentialBeforePassThrough(
  headers: HeaderRecord,
  route: string,
  query: QueryParameters,
  settings: CredentialSettings,
  webSocket = false,
): Credential {
  const base = webSocket ? extractWebSocket(headers) : extractDefault(headers, route, query, settings);
  return base.kind === 'refused' ? base : withCustomHeader(base, headers, settings);
}

/**
 * Mapped pass-throughs (/vertex_ai, /anthropic, …) keep Authorization for the provider's own
 * credential; LiteLLM then takes the key from `litellm_user_api_key`, as sent (present but empty →
 * "" → malformed). check_api_key_for_custom_headers_or_pass_through_endpoints, which runs after
 * the JWT test: `found` itself when nothing replaces it.
 */
export function withPassThroughKey(found: Credential, headers: HeaderRecord, route: string, settings: CredentialSettings): Credential {
  if (found.kind === 'refused') return found;
  const passThroughKey = headers[PASS_THROUGH_KEY_HEADER];
  const named = passThroughKey !== undefined && isMappedPassThroughRoute(route) ? credential(PASS_THROUGH_KEY_HEADER, passThroughKey) : found;
  const endpoints = settings.credentials.passThroughEndpoints;
  if (endpoints.length === 0) return named;
  let parsed = named;
  for (const endpoint of passThroughEndpointsFor(endpoints, route)) {
    // An unauthenticated one ends LiteLLM's walk: the request is then let through without a key.
    if (!endpoint.authenticated) break;
    if (endpoint.langfuseAuth) parsed = langfuseKey(parsed);
  }
  return parsed;
}

/**
 * `custom_auth_parser: langfuse`: Langfuse SDKs send `Basic base64(public_key:secret_key)` and
 * the public key is the LiteLLM key. The value is decoded as Python's b64decode does; one that
 * does not decode (LiteLLM raises, 401) is read as a malformed key.
 */
function langfuseKey(found: Credential): Credential {
  if (found.kind !== 'present' && found.kind !== 'malformed') return found;
  const encoded = found.kind === 'present' ? found.value.split('Basic ').join('').trim() : '';
  try {
    const decoded = new TextDecoder('utf-8', { fatal: true }).decode(pythonBase64Decode(encoded, false));
    return credential(found.header, decoded.split(':')[0]);
  } catch {
    return { kind: 'malformed', header: found.header };
  }
}

const NO_CREDENTIAL: Credential = Object.freeze({ kind: 'none' });

/** The header a mapped pass-through request names its LiteLLM key in (litellm-auth.md §2.3). */
export const PASS_THROUGH_KEY_HEADER = 'litellm_user_api_key';

function withCustomHeader(found: Credential, headers: HeaderRecord, settings: CredentialSettings): Credential {
  const custom = settings.credentials.customKeyHeader;
  if (custom === null) return found;
  // general_settings.litellm_key_header_name replaces whatever was found; missing → "" (malformed).
  const value = nonEmptyHeader(headers, custom);
  return credential(custom, value === undefined ? '' : bearerToken(value));
}

function isMappedPassThroughRoute(route: string): boolean {
  return LITELLM_ROUTES.mapped_pass_through_routes.some((prefix) => route.startsWith(prefix));
}

function extractDefault(headers: HeaderRecord, route: string, query: QueryParameters, settings: CredentialSettings): Credential {
  // 1. x-litellm-api-key beats Authorization (LiteLLM test_x_litellm_api_key); unknown prefixes pass as is.
  const litellm = nonEmptyHeader(headers, 'x-litellm-api-key');
  if (litellm !== undefined) return credential('x-litellm-api-key', bearerTokenOrValue(litellm));
  // 2. Authorization needs a recognised prefix, else the key is "" → "Malformed API Key" (401).
  const authorization = nonEmptyHeader(headers, 'authorization');
  if (authorization !== undefined) return credential('authorization', bearerToken(authorization));
  // 3–6. Azure, Anthropic, Google AI Studio, Azure APIM SDK headers carry the raw key.
  for (const name of RAW_KEY_HEADERS) {
    const value = nonEmptyHeader(headers, name);
    if (value !== undefined) return credential(name, value);
  }
  // 7. Google generateContent clients may pass ?key=… (RouteChecks.is_generate_content_route).
  // Starlette's QueryParams.get returns the last value of a repeated parameter.
  const queryKey = query.getAll('key').at(-1);
  if (isGenerateContentRoute(route) && queryKey) return credential(QUERY_KEY_CREDENTIAL, queryKey);
  // 8. A configured pass-through endpoint may name its own key header (raw value; the last
  // matching endpoint wins, as LiteLLM walks them all).
  const endpoints = settings.credentials.passThroughEndpoints;
  if (endpoints.length === 0) return NO_CREDENTIAL;
  let endpointKey: Credential = NO_CREDENTIAL;
  for (const endpoint of endpoints) {
    if (endpoint.path !== route || endpoint.keyHeader === null) continue;
    const value = headerValue(headers, endpoint.keyHeader);
    if (value !== undefined) endpointKey = credential(endpoint.keyHeader, value);
  }
  return endpointKey;
}

/**
 * `user_api_key_auth_websocket`: `Authorization` must start with `Bearer ` (any other value is
 * refused, not read as missing), else `api-key`, else the first `openai-insecure-api-key.<key>`
 * entry of `Sec-WebSocket-Protocol` (how browsers, which cannot set headers on a WebSocket, send
 * it; newer LiteLLM); the key then goes through the usual Bearer parsing. Every other credential
 * header is ignored on a handshake.
 */
function extractWebSocket(headers: HeaderRecord): Credential {
  const authorization = nonEmptyHeader(headers, 'authorization');
  if (authorization === undefined) {
    const apiKey = nonEmptyHeader(headers, 'api-key');
    if (apiKey !== undefined) return credential('api-key', bearerToken(`Bearer ${apiKey}`));
    const protocolKey = subprotocolKey(headerValue(headers, SUBPROTOCOL_HEADER));
    if (protocolKey === null) return { kind: 'refused', message: 'No API key provided', header: null };
    return credential(SUBPROTOCOL_HEADER, bearerToken(`Bearer ${protocolKey}`));
  }
  if (!authorization.startsWith('Bearer ')) return { kind: 'refused', message: 'Invalid Authorization header format', header: 'authorization' };
  return credential('authorization', bearerToken(`Bearer ${authorization.slice('Bearer '.length).trim()}`));
}

/** The handshake header that may carry the key as one of the subprotocols a browser offers. */
export const SUBPROTOCOL_HEADER = 'sec-websocket-protocol';
const SUBPROTOCOL_KEY_PREFIX = 'openai-insecure-api-key.';

/**
 * The key of the first `openai-insecure-api-key.` entry (entries split on commas and stripped, as
 * LiteLLM reads them); null when there is none, or when that entry holds nothing (LiteLLM stops at
 * it and then finds no key).
 */
function subprotocolKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  for (const entry of value.split(',')) {
    const protocol = pyStrip(entry);
    if (!protocol.startsWith(SUBPROTOCOL_KEY_PREFIX)) continue;
    const key = protocol.slice(SUBPROTOCOL_KEY_PREFIX.length);
    return key === '' ? null : key;
  }
  return null;
}

/** Does a `Sec-WebSocket-Protocol` value offer a key as an `openai-insecure-api-key.` entry? */
export function offersSubprotocolKey(value: string): boolean {
  return value.includes(SUBPROTOCOL_KEY_PREFIX);
}

/**
 * The `Sec-WebSocket-Protocol` value left once the entries that carry a key (the
 * `openai-insecure-api-key.` ones, whichever key they hold, and any holding part of `key`) are
 * taken out, so the upstream still sees, and can echo, the subprotocols the client offered; null
 * when nothing is left. A key holding a comma spans entries: each entry it overlaps goes.
 */
export function subprotocolsWithoutKey(value: string, key: string | null): string | null {
  const rest: string[] = [];
  let start = 0;
  for (const entry of value.split(',')) {
    const end = start + entry.length;
    const protocol = pyStrip(entry);
    if (protocol !== '' && !protocol.startsWith(SUBPROTOCOL_KEY_PREFIX) && !(key !== null && overlapsKey(value, key, start, end))) rest.push(protocol);
    start = end + 1;
  }
  return rest.length === 0 ? null : rest.join(', ');
}

/** Does an occurrence of `key` in `value` overlap `value[start, end)`? */
function overlapsKey(value: string, key: string, start: number, end: number): boolean {
  for (let at = value.indexOf(key, Math.max(0, start - key.length + 1)); at >= 0 && at < end; at = value.indexOf(key, at + 1)) {
    if (at + key.length > start) return true;
  }
  return false;
}

function isGenerateContentRoute(route: string): boolean {
  return route.includes('generateContent') || route.includes('streamGenerateContent');
}

function credential(header: string, value: string): Credential {
  return value === '' ? { kind: 'malformed', header } : { kind: 'present', value, header };
}

/** _get_bearer_token: a value without a recognised prefix yields "". */
function bearerToken(value: string): string {
  return stripPrefix(value) ?? '';
}

/** _get_bearer_token_or_received_api_key: a value without a recognised prefix is the key itself. */
function bearerTokenOrValue(value: string): string {
  return stripPrefix(value) ?? value;
}

/**
 * LiteLLM's prefixes: "Bearer ", "Basic " (Langfuse), "bearer ", and LangChain's AWS SigV4 form
 * `AWS4-HMAC-SHA256 Credential=Bearer <key>/date/region/service/aws4_request, …`.
 * LiteLLM uses str.replace, which removes every occurrence of the prefix, not just the first;
 * copied so that the key we hash is the key LiteLLM would hash. null = no recognised prefix.
 */
function stripPrefix(value: string): string | null {
  for (const prefix of ['Bearer ', 'Basic ', 'bearer ']) {
    if (!value.startsWith(prefix)) continue;
    // The usual value holds the prefix once: a slice, without split's array and join's copy.
    return value.includes(prefix, prefix.length) ? value.split(prefix).join('') : value.slice(prefix.length);
  }
  if (value.startsWith('AWS4-HMAC-SHA256')) {
    const match = /Credential=Bearer\s+([^/\s,]+)/.exec(value) ?? /Credential=([^/\s,]+)/.exec(value);
    return match ? match[1] : null;
  }
  return null;
}
