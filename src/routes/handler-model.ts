/**
 * The `model` parameter of LiteLLM's chat, text completions and embeddings handlers, which its
 * request setup puts in `data["model"]` over the body's (`common_processing_pre_call_logic`:
 * `completion_model or user_model or model or data.get("model")`): the path's model on
 * `/engines/{model:path}/…` and `/openai/deployments/{model:path}/…`, else the query's `?model=`
 * (FastAPI reads a parameter the path lacks from the query). LiteLLM's auth reads the body's model
 * all the same (`populate_request_with_path_params` adds the path's and the query's only where the
 * body names none), so what it checks and what it serves can differ.
 */

/**
 * LiteLLM's `{model:path}` routes (Starlette's `.*`, so the longest capture:
 * `/openai/deployments/azure/gpt-4o/chat/completions` → `azure/gpt-4o`), in the order LiteLLM
 * registers them, so a chat route is never read as a completions route. Python's `.` is `[^\n]`:
 * JavaScript's also stops at `\r` and U+2028/2029, which would leave such a model unread.
 */
const MODEL_PATH_ROUTES: readonly RegExp[] = [
  /^\/(?:openai\/deployments|engines)\/([^\n]*)\/chat\/completions\n?$/,
  /^\/(?:openai\/deployments|engines)\/([^\n]*)\/completions\n?$/,
  /^\/(?:openai\/deployments|engines)\/([^\n]*)\/embeddings\n?$/,
];

/** The path's model of those routes, as captured ("" included); null on any other route. */
export function pathModelOf(route: string): string | null {
  if (!route.startsWith('/engines/') && !route.startsWith('/openai/deployments/')) return null;
  for (const pattern of MODEL_PATH_ROUTES) {
    const match = pattern.exec(route);
    if (match !== null) return match[1] as string;
  }
  return null;
}

/** The same handlers' other routes, where `model` comes from the query. */
const QUERY_MODEL_ROUTES: ReadonlySet<string> = new Set([
  '/v1/chat/completions',
  '/chat/completions',
  '/v1/completions',
  '/completions',
  '/v1/embeddings',
  '/embeddings',
]);

/** Whether the route's handler reads `?model=` (Starlette serves a route ending in `\n` as the route without it). */
export function readsQueryModel(route: string): boolean {
  return QUERY_MODEL_ROUTES.has(route.endsWith('\n') ? route.slice(0, -1) : route);
}
