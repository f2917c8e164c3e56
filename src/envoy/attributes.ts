/**
 * Envoy CheckRequest → RequestFacts: everything later stages need, independent of how Envoy
 * encoded it (merged or raw headers, body as text or bytes, whole or partial).
 */
import type { Settings } from '../config/settings';
import { UNREAD_MODEL, type RequestFacts } from '../domain/request';
import { isLlmApiRoute } from '../routes/classify';
import { appliesCompletionModel, pathModelOf, readsQueryModel, servedNamesOf } from '../routes/handler-model';
import { readBody } from './body';
import { credentialBeforePassThrough, withPassThroughKey } from './credential';
import { getEndUserId } from './end-user';
import { collectHeaders, headerValue } from './headers';
import type { CheckRequest } from './messages';
import type { Json, JsonObject } from '../domain/entities';
import { fromStruct } from './messages';
import { getModelFromRequest, type RequestedModel } from './request-model';
import { MANAGED_ID_FIELDS, managedIdInPath, type ModelIdResolver } from './managed-resource-ids';
import { parseRequestTarget, type QueryParameters } from './route';
import { isWebSocketHandshake, webSocketBody } from './websocket';

export type AttributeSettings = Pick<Settings, 'basePath' | 'credentials'>;

/**
 * `resolveModelId` is the router's deployment-id lookup (by the policy in force, database models
 * included), for the model ids LiteLLM decodes from managed video and character ids;
 * `completionModel` is the policy's `general_settings.completion_model` (null: none).
 */
export function parseCheckRequest(
  request: CheckRequest,
  settings: AttributeSettings,
  resolveModelId?: ModelIdResolver | null,
  completionModel: string | null = null,
): RequestFacts {
  const http = request.attributes?.request?.http;
  const headers = collectHeaders(http);
  const path = http?.path || headerValue(headers, ':path') || '/';
  const { route, query } = parseRequestTarget(path, settings.basePath);
  const webSocket = isWebSocketHandshake(headers, route);
  const body = webSocket ? webSocketRequestBody(query) : readBody(http, headers);
  // A cut body's model is the one its prefix names, never another field of the prefix
  // (`target_model_names`): the body past the cut may still name a `model`, which wins.
  const found = credentialBeforePassThrough(headers, route, query, settings, webSocket);
  const credential = withPassThroughKey(found, headers, route, settings);
  // A cut body is not merged: a query value would stand in for a field past the cut, which wins.
  const data = webSocket ? body.body : body.invalid || body.truncated ? withPathVectorStoreOnly(body.body, route) : withRequestParameters(body.body, route, query);
  const modelSource = webSocket || !(body.truncated || body.invalid) ? data : unreadBodyModelSource(body, route, query);
  const completion = completionModel !== null && appliesCompletionModel(route) ? completionModel : null;
  const requested = getModelFromRequest(modelSource, route, query, headers, resolveModelId);
  const model = withServedModel(requested, route, query, completion);
  const facts: RequestFacts = {
    requestId: http?.id || headerValue(headers, 'x-request-id') || '',
    method: http?.method || headerValue(headers, ':method') || '',
    route,
    path,
    headers,
    body: data,
    sentBody: data === body.body ? undefined : body.body,
    bodyTruncated: body.truncated,
    bodyInvalid: body.invalid,
    unreadableForm: body.unreadableForm,
    bodyBytes: body.byteLength,
    credential,
    jwtCredential: credential === found ? undefined : found,
    // Not JSON at all, the body is read as LiteLLM reads it, as none: the request is refused 400
    // once the caller passes (checks/invalid-json-body.ts), so its model never reaches the upstream.
    model: requested === null && (body.truncated || body.invalid) && body.invalidJson === undefined && mayNameModel(route) ? UNREAD_MODEL : model,
    endUserId: getEndUserId(headers, data, settings, body.endUserLiterals),
    sourceAddress: request.attributes?.source?.address?.socket_address?.address || null,
    filterMetadata: filterMetadataOf(request),
    webSocket: webSocket ? true : undefined,
  };
  // Copied only for such a body, or where the config's completion_model applies: the usual facts stay one object of one shape.
  const served = completion === null ? facts : requested === null ? { ...facts, completionModel: completion, namesNoModel: true as const } : { ...facts, completionModel: completion };
  return body.invalidJson === undefined || isMcpServerRoute(route) ? served : { ...served, invalidJson: body.invalidJson };
}

/**
 * The model(s) to check, with the one LiteLLM's handler serves when it is not the body's: its own
 * `model` parameter (routes/handler-model.ts), the path's on `/openai/deployments/{model}/…` and
 * `/engines/{model}/…`, else the query's `?model=`, replaces the body's model after LiteLLM's auth
 * checked the body's. Checking the body's alone, a caller limited to one model could be served
 * another by naming it in the path or the query (and Azure's upstream serves the path's too), so
 * both are checked, as the models of a list are: a deliberate difference, stricter than LiteLLM.
 * `general_settings.completion_model` comes before both in LiteLLM's `or` and replaces them: where it
 * applies (`completion`), it is the served model, checked even for a request that names none.
 * A request whose model was not read keeps UNREAD_MODEL, which only callers allowed every model pass.
 */
function withServedModel(model: RequestedModel, route: string, query: QueryParameters, completion: string | null): RequestedModel {
  if (model === UNREAD_MODEL) return model;
  if (model === null) return completion === null ? null : servedNamesOf(completion);
  const served = completion !== null ? servedNamesOf(completion) : handlerModel(route, query);
  if (served === null || served === model) return model;
  if (typeof served === 'string') {
    if (typeof model === 'string') return [model, served];
    return model.includes(served) ? model : [...model, served];
  }
  const names = typeof model === 'string' ? [model] : [...model];
  for (const name of served) if (!names.includes(name)) names.push(name);
  return names.length === 1 ? (names[0] as string) : names;
}

/**
 * Only a non-empty one: LiteLLM's `or` passes over "". Read as get_model_from_request reads the
 * body's (servedNamesOf): stripped, so that the same name with a stray space is not taken for
 * another model, and split on commas (one name `"a,b"` would pass a wildcard such as `openai/*`
 * for both). Allocates nothing on the usual routes.
 */
function handlerModel(route: string, query: QueryParameters): string | readonly string[] | null {
  const inPath = pathModelOf(route);
  if (inPath !== null) return inPath === '' ? null : servedNamesOf(inPath);
  if (query.size === 0 || !readsQueryModel(route)) return null;
  const inQuery = query.getAll('model').at(-1);
  return inQuery === undefined || inQuery === '' ? null : servedNamesOf(inQuery);
}

/**
 * LiteLLM's MCP server (`/mcp`, `/mcp/…`, `/{server}/mcp`) is an ASGI app of its own, whose
 * `MCPRequestHandler.process_mcp_request` hands `user_api_key_auth` a stand-in body (`{}`): the
 * body is never read as JSON there, so it is never refused 400 (the MCP server answers it itself).
 * The REST routes (`/mcp-rest/…`, `/v1/mcp/…`) read theirs as any other route does.
 */
function isMcpServerRoute(route: string): boolean {
  return route === '/mcp' || route.startsWith('/mcp/') || MCP_SERVER_PATH.test(route);
}

const MCP_SERVER_PATH = /^\/[^/]+\/mcp\/?$/;

/**
 * LiteLLM copies the query's and the path's parameters into the request data before its checks,
 * never over a body field (`populate_request_with_path_params`: `request_data.setdefault`), so
 * `?model=`, `?user=` or `?api_base=` count as the body's would, and so does the model of
 * `/engines/{model:path}/chat/completions`. A repeated query parameter gives its last value
 * (Starlette's QueryParams); the query comes before the path. Without either the body is used as
 * it is; a body that could not be read stays unread (its model is the unread model on the routes
 * that need one). A vector store's id in the path joins `vector_store_ids`; a managed file, batch,
 * fine-tuning job, video or character id in the path is merged under LiteLLM's parameter name, for
 * the models it encodes (envoy/managed-resource-ids.ts). Not merged: the path ids of other routes
 * (`thread_id`, `response_id`, …), which no check reads.
 */
function withRequestParameters(body: JsonObject | null, route: string, query: QueryParameters): JsonObject | null {
  const pathModel = pathModelOf(route);
  const vectorStoreId = route.includes('/vector_stores/') ? (VECTOR_STORE_PATH.exec(route)?.[1] ?? null) : null;
  const managedId = managedIdInPath(route);
  if (query.size === 0 && pathModel === null && vectorStoreId === null && managedId === null) return body;
  // Copied by descriptor: a spread would decode the prompt the body parser left undecoded.
  const data: JsonObject = body === null ? {} : Object.defineProperties({}, Object.getOwnPropertyDescriptors(body));
  const add = (key: string, value: Json): void => {
    if (!Object.hasOwn(data, key)) Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  };
  // One pass: `getAll` per key made thousands of parameters quadratic, before any credential was read.
  const lastValues = new Map<string, string>();
  for (const [key, value] of query.entries()) lastValues.set(key, value);
  for (const [key, value] of lastValues) add(key, value);
  if (pathModel !== null) add('model', pathModel);
  if (managedId !== null) add(managedId[0], managedId[1]);
  if (vectorStoreId !== null) {
    add('vector_store_id', vectorStoreId);
    listPathVectorStore(data, vectorStoreId);
  }
  return data;
}

/** LiteLLM also lists the path's store among `vector_store_ids`, which its access check reads. */
function listPathVectorStore(data: JsonObject, vectorStoreId: string): void {
  const ids = data['vector_store_ids'];
  const listed = Array.isArray(ids) ? (ids.includes(vectorStoreId) ? ids : [...ids, vectorStoreId]) : [vectorStoreId];
  Object.defineProperty(data, 'vector_store_ids', { value: listed, enumerable: true, writable: true, configurable: true });
}

/**
 * A body Tollgate could not read whole is not merged, but the store a path names is known whole:
 * LiteLLM always checks it, so padding a body past Envoy's limit (or breaking its JSON) must not
 * take `/v1/vector_stores/{id}/…` out of the vector-store check. It only adds a store every check
 * must pass. Its `vector_store_id` field is not set: a cut body's own may lie past the cut.
 */
function withPathVectorStoreOnly(body: JsonObject | null, route: string): JsonObject | null {
  const vectorStoreId = route.includes('/vector_stores/') ? (VECTOR_STORE_PATH.exec(route)?.[1] ?? null) : null;
  if (vectorStoreId === null) return body;
  const data: JsonObject = body === null ? {} : Object.defineProperties({}, Object.getOwnPropertyDescriptors(body));
  listPathVectorStore(data, vectorStoreId);
  return data;
}

/**
 * What names the model of a body Tollgate could not read whole: a cut body's model is the one its
 * prefix names (nothing else of it: a `model` past the cut would win). Its managed ids are read all
 * the same, from the prefix, else the query, else the path, as the merge would give them: each id
 * only adds a model every check must pass, so one the rest of the body replaces can refuse more,
 * never let more through; and padding a body past Envoy's limit must not hide the managed file a
 * request names.
 */
function unreadBodyModelSource(body: ReturnType<typeof readBody>, route: string, query: QueryParameters): JsonObject | null {
  const base = body.truncated ? (body.prefixModel !== null ? { model: body.prefixModel } : null) : body.body;
  const prefix = body.truncated ? body.body : null;
  const pathId = managedIdInPath(route);
  let source = base;
  for (const field of MANAGED_ID_FIELDS) {
    const value = prefix !== null && Object.hasOwn(prefix, field) ? prefix[field] : query.has(field) ? query.getAll(field).at(-1) : pathId?.[0] === field ? pathId[1] : undefined;
    if (value === undefined || (source !== null && Object.hasOwn(source, field))) continue;
    // Copied by descriptor, never changed in place: the body stays as it was read.
    if (source === base) source = source === null ? {} : Object.defineProperties({}, Object.getOwnPropertyDescriptors(source));
    Object.defineProperty(source, field, { value, enumerable: true, writable: true, configurable: true });
  }
  return source;
}

/** `/v1/vector_stores/{vector_store_id}/…`: LiteLLM's path parameter. */
const VECTOR_STORE_PATH = /\/vector_stores\/([^/]+)/;

/** A handshake carries no body: LiteLLM reads the one it builds from the query (envoy/websocket.ts). */
function webSocketRequestBody(query: QueryParameters): ReturnType<typeof readBody> {
  return { body: webSocketBody(query), truncated: false, invalid: false, byteLength: 0, prefixModel: null };
}

/**
 * The inference routes whose JSON body names the model (OpenAI's, under any prefix, and
 * Anthropic's messages). Other LLM API routes (MCP, agents, batches, assistants, RAG, observability
 * pass-throughs) carry no model in their body, and form bodies (uploads, transcriptions) are read
 * field by field and keep what their prefix names. Whatever the content type says: an upstream
 * may read `{"model": …} x` sent as text/plain as JSON (or ignore the trailing bytes), so a body
 * that could not be read is never taken for one without a model. Ending as Python's `$` does,
 * as the route patterns do (routes/match.ts).
 */
const MODEL_IN_BODY = /(?:\/(?:chat\/)?completions|\/embeddings|\/moderations|\/rerank|\/images\/generations|\/audio\/speech|^(?:\/openai)?(?:\/v1)?\/responses|^(?:\/anthropic)?(?:\/v1)?\/messages)\n?$/;

function mayNameModel(route: string): boolean {
  return MODEL_IN_BODY.test(route) && isLlmApiRoute(route);
}

const NO_FILTER_METADATA: RequestFacts['filterMetadata'] = Object.freeze({});

/** Each forwarded namespace as JSON. Usually empty: Envoy sends only `metadata_context_namespaces`. */
function filterMetadataOf(request: CheckRequest): RequestFacts['filterMetadata'] {
  const namespaces = request.attributes?.metadata_context?.filter_metadata;
  if (namespaces === undefined) return NO_FILTER_METADATA;
  const out: Record<string, ReturnType<typeof fromStruct>> = {};
  for (const [namespace, struct] of Object.entries(namespaces)) {
    Object.defineProperty(out, namespace, { value: fromStruct(struct), enumerable: true });
  }
  return out;
}
