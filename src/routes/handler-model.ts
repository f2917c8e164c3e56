/**
 * The `model` parameter of LiteLLM's chat, text completions and embeddings handlers, which its
 * request setup puts in `data["model"]` over the body's (`common_processing_pre_call_logic`:
 * `completion_model or user_model or model or data.get("model")`): the path's model on
 * `/engines/{model:path}/…` and `/openai/deployments/{model:path}/…`, else the query's `?model=`
 * (FastAPI reads a parameter the path lacks from the query). LiteLLM's auth reads the body's model
 * all the same (`populate_request_with_path_params` adds the path's and the query's only where the
 * body names none), so what it checks and what it serves can differ. `general_settings.completion_model`
 * comes first in that `or`: when the config sets it, those handlers (and the Responses API's and
 * Anthropic's messages: appliesCompletionModel) serve it whatever the body, the path or the query names.
 */

import { pyStrip } from '../util/python-strip';

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

/**
 * The other routes whose handler sets its model in `common_processing_pre_call_logic`
 * (`model=None`, no parameter of its own) and has the router serve it: the Responses API's create
 * (`aresponses`, Cursor's bridge to it included) and Anthropic's messages (`anthropic_messages`).
 */
const COMPLETION_MODEL_ONLY_ROUTES: ReadonlySet<string> = new Set(['/v1/responses', '/responses', '/openai/v1/responses', '/cursor/chat/completions', '/v1/messages']);

/**
 * Whether the route's handler takes `general_settings.completion_model` as its model: those of
 * chat, text completions and embeddings, on every route they serve, and those above. Not followed
 * on LiteLLM's other handlers that run the same setup, though some of them have the router serve
 * the model it leaves too (the Realtime API, the Responses API's compact, image edits, Google's
 * generateContent): there the request's own model is checked, named and limited, as before.
 */
export function appliesCompletionModel(route: string): boolean {
  return readsQueryModel(route) || COMPLETION_MODEL_ONLY_ROUTES.has(route.endsWith('\n') ? route.slice(0, -1) : route) || pathModelOf(route) !== null;
}

/**
 * The handler's `model` as LiteLLM's request setup reads it, from the route and the raw path with
 * its query: the path's, else the query's last `model`, on the routes whose handler reads one.
 * Only a non-empty one (`or` passes over ""); as sent, neither stripped nor split.
 */
export function handlerModelIn(route: string, path: string | undefined): string | null {
  const inPath = pathModelOf(route);
  if (inPath !== null) return inPath === '' ? null : inPath;
  return path === undefined || !readsQueryModel(route) ? null : queryModelIn(path);
}

function queryModelIn(path: string): string | null {
  // indexOf, not a regular expression: this runs on every Check, and most paths have no query.
  const queryAt = path.indexOf('?');
  if (queryAt === -1) return null;
  const fragmentAt = path.indexOf('#');
  if (fragmentAt !== -1 && fragmentAt < queryAt) return null;
  const model = new URLSearchParams(path.slice(queryAt + 1, fragmentAt === -1 ? undefined : fragmentAt)).getAll('model').at(-1);
  return model === undefined || model === '' ? null : model;
}

/**
 * The names LiteLLM serves for the handler's `model`, read as get_model_from_request reads the
 * body's: stripped, split on commas (`route_request` serves `"a,b"` as a batch to `a` and `b`),
 * blanks and repeats dropped. Null when none is left.
 */
export function servedNamesOf(model: string): string | readonly string[] | null {
  if (!model.includes(',')) {
    const name = pyStrip(model);
    return name === '' ? null : name;
  }
  const names: string[] = [];
  for (const part of model.split(',')) {
    const name = pyStrip(part);
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  return names.length === 0 ? null : names.length === 1 ? (names[0] as string) : names;
}

/** What the handler's model is read from: the route, the raw path with its query, and the config's `completion_model` where it applies. */
export interface HandlerModelRequest {
  readonly route: string;
  readonly path?: string;
  readonly completionModel?: string;
}

/**
 * The handler's `model` in LiteLLM's `or` order: `completion_model` (RequestFacts.completionModel,
 * set only where it applies), else the path's, else `?model=`. Null when it serves the body's.
 */
export function servedHandlerModelOf(request: HandlerModelRequest): string | null {
  return request.completionModel ?? handlerModelIn(request.route, request.path);
}

/**
 * The names the handler serves in place of the body's model (`completion_model`, else the path's,
 * else `?model=`, read as servedNamesOf reads them), null when it serves the body's: what the model
 * checks, the identity and the per-model budgets read beside or instead of the body's.
 */
export function servedModelNamesOf(request: HandlerModelRequest): string | readonly string[] | null {
  const served = servedHandlerModelOf(request);
  return served === null ? null : servedNamesOf(served);
}
