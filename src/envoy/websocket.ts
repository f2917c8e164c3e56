/**
 * WebSocket handshakes on the routes LiteLLM serves as WebSockets (the Realtime API, Vertex AI's
 * Live API). LiteLLM authenticates them with `user_api_key_auth_websocket`, not the HTTP rules:
 * the key comes from `Authorization: Bearer …`, `api-key` or an `openai-insecure-api-key.<key>`
 * subprotocol (envoy/credential.ts) only, the request's body is
 * `{"model": "<the model query parameter>"}`, and any refusal is a 403.
 */
import { headerValue, type HeaderRecord } from './headers';
import type { QueryParameters } from './route';

const WEBSOCKET_ROUTES: ReadonlySet<string> = new Set(['/realtime', '/v1/realtime', '/openai/v1/realtime', '/vertex_ai/live']);

/**
 * An HTTP/1.1 upgrade (`Upgrade: websocket`) or an HTTP/2 extended CONNECT (`:protocol:
 * websocket`, RFC 8441) to one of those routes.
 */
export function isWebSocketHandshake(headers: HeaderRecord, route: string): boolean {
  if (!WEBSOCKET_ROUTES.has(route)) return false;
  const upgrade = headerValue(headers, 'upgrade') ?? headerValue(headers, ':protocol') ?? '';
  return upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/**
 * The body LiteLLM builds for the handshake (`_realtime_request_body`): the `model` query
 * parameter (Starlette keeps the last of repeated ones), empty when absent.
 */
export function webSocketBody(query: QueryParameters): { readonly model: string } {
  return { model: query.getAll('model').at(-1) ?? '' };
}
