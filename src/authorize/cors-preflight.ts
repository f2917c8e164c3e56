import type { RequestFacts } from '../domain/request';

/**
 * A browser's CORS preflight as Starlette's `CORSMiddleware` recognises one: `OPTIONS` with an
 * `Origin` and an `Access-Control-Request-Method` header. LiteLLM's app installs that middleware
 * (every origin allowed by default), and it answers a preflight before routing, so none of
 * LiteLLM's auth sees it: a browser never sends the credential on a preflight, and refusing it
 * would stop every browser client before its real request. Tollgate lets it through to the
 * upstream, which answers it as its CORS policy says (LiteLLM's middleware, or Envoy's CORS filter
 * placed before ext_authz, which then answers it without asking Tollgate at all).
 */
export function isCorsPreflight(facts: RequestFacts): boolean {
  return (
    facts.method === 'OPTIONS' &&
    facts.headers['origin'] !== undefined &&
    facts.headers['access-control-request-method'] !== undefined
  );
}
