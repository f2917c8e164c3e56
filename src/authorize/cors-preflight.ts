import type { RequestFacts } from '../domain/request';

/**
 * A browser's CORS preflight as Starlette's `CORSMiddleware` recognises one: `OPTIONS` with an
 * `Origin` and an `Access-Control-Request-Method` header. LiteLLM's app installs that middleware
 * (every origin allowed by default), and it answers a preflight before routing, so none of
 * LiteLLM's auth sees it: a browser never sends the credential on a preflight, and refusing it
 * would stop every browser client before its real request. Tollgate lets it through to the
 * upstream, which answers it as its CORS policy says (LiteLLM's middleware, or Envoy's CORS filter
 * placed before ext_authz, which then answers it without asking Tollgate at all).
 *
 * Only what a browser's preflight can be: no upgrade (uvicorn upgrades an `OPTIONS` carrying
 * `Upgrade: websocket` as it does a `GET`, and the middleware passes a WebSocket scope on to the
 * app: a Realtime session without a key), no body, no method-override header. A page can add none
 * of them to a preflight, and an upstream other than Starlette may act on them; such a request is
 * decided as any other.
 */
export function isCorsPreflight(facts: RequestFacts): boolean {
  if (facts.method !== 'OPTIONS') return false;
  const headers = facts.headers;
  return (
    headers['origin'] !== undefined &&
    headers['access-control-request-method'] !== undefined &&
    headers['upgrade'] === undefined &&
    headers[':protocol'] === undefined &&
    facts.bodyBytes === 0 &&
    headers['transfer-encoding'] === undefined &&
    (headers['content-length'] === undefined || headers['content-length'] === '0') &&
    !METHOD_OVERRIDES.some((name) => headers[name] !== undefined)
  );
}

/** The headers frameworks and gateways read as the request's real method. */
const METHOD_OVERRIDES: readonly string[] = ['x-http-method-override', 'x-http-method', 'x-method-override'];
