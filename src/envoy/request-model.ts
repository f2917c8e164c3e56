/**
 * The model(s) a request asks for: LiteLLM's auth_utils.get_model_from_request (litellm-auth.md §7.1).
 */
import type { Json } from '../domain/entities';
import { distinct } from '../util/distinct';
import { isTruthy } from '../domain/truthiness';
import { pyStr } from '../checks/python-format';
import { isJsonObject } from '../checks/context';
import { headerValue, type HeaderRecord } from './headers';
import type { QueryParameters } from './route';
import { MANAGED_ID_FIELDS, modelsFromManagedResourceId, type ModelIdResolver } from './managed-resource-ids';
import { pyStrip } from '../util/python-strip';

export type RequestedModel = string | readonly string[] | null;

type Body = Readonly<Record<string, Json>> | null;

/** Where LiteLLM's route markers look: a substring of the lower-cased route (`marker in route.lower()`). */
const MODEL_ROUTING_ROUTES = /\/(?:files|batches|vector_stores|skills|evals|fine_tuning|videos)/i;
/** Routes where `target_model_names` in the body counts even next to a `model`. */
const BODY_TARGET_MODEL_ROUTES = /\/(?:files|batches|vector_stores)/i;
/** Routes where the query's `model` and the `x-litellm-model` header name models. */
const HEADER_OR_QUERY_MODEL_ROUTES = /\/(?:files|batches|skills|evals)/i;
/** Routes where the query's `target_model_names` names models. */
const QUERY_TARGET_MODEL_ROUTES = /\/(?:files|batches|fine_tuning)/i;
const COMPLETION_MODEL_ROUTES = /\/evals/i;

/**
 * Body first, then the route. The body's `model` wins over a model in the path
 * (`/openai/deployments/gpt-4` with body `gpt-4o` → `gpt-4o`).
 * One candidate → a string; several → a list, each of which must pass the model checks.
 * On the managed-resource routes the models LiteLLM encodes in its own file, batch, vector store,
 * video and character ids count too (envoy/managed-resource-ids.ts); `resolveModelId` is the
 * router's deployment-id lookup for video and character ids (none: the id itself is the model).
 */
export function getModelFromRequest(
  body: Body,
  route: string,
  query?: QueryParameters,
  headers?: HeaderRecord,
  resolveModelId?: ModelIdResolver | null,
): RequestedModel {
  const plain = plainBodyModel(body, route);
  if (plain !== null) return plain;
  const candidates = modelCandidates(body, route, query, headers, resolveModelId ?? null);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) return candidates;
  return modelFromRoute(route);
}

/** LiteLLM's `_extract_model_candidates_from_request`: every model named, first-seen order. */
function modelCandidates(
  body: Body,
  route: string,
  query: QueryParameters | undefined,
  headers: HeaderRecord | undefined,
  resolveModelId: ModelIdResolver | null,
): readonly string[] {
  const candidates: string[] = [];
  const bodyModel = body !== null && Object.hasOwn(body, 'model') ? body.model : null;
  appendCandidates(candidates, bodyModel);
  if (body !== null && (!isTruthy(bodyModel) || BODY_TARGET_MODEL_ROUTES.test(route))) {
    appendCandidates(candidates, Object.hasOwn(body, 'target_model_names') ? body.target_model_names : null);
  }
  const completion = body !== null && Object.hasOwn(body, 'completion') ? body.completion : null;
  if (COMPLETION_MODEL_ROUTES.test(route) && isJsonObject(completion)) {
    appendCandidates(candidates, Object.hasOwn(completion, 'model') ? completion.model : null);
  }
  if (MODEL_ROUTING_ROUTES.test(route)) {
    if (HEADER_OR_QUERY_MODEL_ROUTES.test(route)) {
      if (query !== undefined) appendCandidates(candidates, queryValue(query, 'model'));
      if (headers !== undefined) appendCandidates(candidates, headerValue(headers, MODEL_ROUTING_HEADER) ?? null);
    }
    if (query !== undefined && QUERY_TARGET_MODEL_ROUTES.test(route)) appendCandidates(candidates, queryValue(query, 'target_model_names'));
    // Last, as LiteLLM reads them: only its id fields (the query's and the path's merged in
    // before, never over the body's), and only strings; any other id decodes to no model.
    if (body !== null) {
      for (const field of MANAGED_ID_FIELDS) {
        const id = Object.hasOwn(body, field) ? body[field] : null;
        if (typeof id !== 'string' || id === '') continue;
        // One by one: an id can list more models than a spread's arguments fit on the stack.
        for (const model of modelsFromManagedResourceId(id, field, resolveModelId)) candidates.push(model);
      }
    }
  }
  return distinct(candidates);
}

const MODEL_ROUTING_HEADER = 'x-litellm-model';

/**
 * `_get_case_insensitive_mapping_value` over Starlette's query parameters: the exact name first,
 * else the first name equal to it in any case; a repeated parameter gives its last value.
 */
function queryValue(query: QueryParameters, name: string): string | null {
  if (query.has(name)) return query.getAll(name).at(-1) ?? null;
  for (const key of query.keys()) {
    if (key.toLowerCase() === name) return query.getAll(key).at(-1) ?? null;
  }
  return null;
}

/** The usual body: one model name, nothing to split or trim, on a route that reads only `model`. */
function plainBodyModel(body: Body, route: string): string | null {
  const model = body !== null && Object.hasOwn(body, 'model') ? body.model : null;
  if (typeof model !== 'string' || model === '' || model.includes(',') || pyStrip(model) !== model) return null;
  return MODEL_ROUTING_ROUTES.test(route) ? null : model;
}

/** `_append_model_candidates`: strings are split on commas and stripped (Python's whitespace, not
 *  JavaScript's); a list's items are each a name; anything else is named by Python's str()
 *  (`True`, `{'a': 1}`, `['x']`); blanks dropped. */
function appendCandidates(candidates: string[], value: Json | undefined): void {
  if (value === null || value === undefined) return;
  for (const item of Array.isArray(value) ? value : [value]) {
    if (item === null) continue;
    const names = typeof item === 'string' ? item.split(',') : [pyStr(item)];
    for (const name of names) {
      const trimmed = pyStrip(name);
      if (trimmed !== '') candidates.push(trimmed);
    }
  }
}

function modelFromRoute(route: string): string | null {
  // Azure-style: /openai/deployments/{model}/… (anchored, like re.match)
  const azure = /^\/openai\/deployments\/([^/]+)/.exec(route);
  if (azure) return azure[1];
  if (!route.toLowerCase().startsWith('/vertex')) {
    // Google generateContent: the model id may contain "/" (bedrock/claude-sonnet-3.7)
    const google = /\/(?:v1beta|beta)\/models\/([^:]+):/.exec(route) ?? /^\/models\/([^:]+):/.exec(route);
    return google ? google[1] : null;
  }
  // Vertex pass-through: …/publishers/google/models/gemini-1.5-pro:generateContent
  const vertex = /\/models\/([^:]+)/.exec(route);
  return vertex ? vertex[1] : null;
}
