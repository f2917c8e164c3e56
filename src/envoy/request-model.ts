/**
 * The model(s) a request asks for: LiteLLM's auth_utils.get_model_from_request (litellm-auth.md §7.1).
 */
import type { Json } from '../domain/entities';
import { distinct } from '../util/distinct';
import { isTruthy } from '../domain/truthiness';

export type RequestedModel = string | readonly string[] | null;

type Body = Readonly<Record<string, Json>> | null;

/** Routes where `target_model_names` counts even next to a `model`. */
/** Case-insensitive, as the route lower-cased would be: without making the lower-cased copy per Check. */
const ALSO_TARGET_MODEL_NAMES = /\/(files|batches|vector_stores)/i;

/**
 * Body first, then the route. The body's `model` wins over a model in the path
 * (`/openai/deployments/gpt-4` with body `gpt-4o` → `gpt-4o`).
 * One candidate → a string; several → a list, each of which must pass the model checks.
 */
export function getModelFromRequest(body: Body, route: string): RequestedModel {
  const plain = plainBodyModel(body, route);
  if (plain !== null) return plain;
  const candidates = bodyModelCandidates(body, route);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) return candidates;
  return modelFromRoute(route);
}

/** Every model the body names, first-seen order: `model`, then `target_model_names` where LiteLLM reads it. */
function bodyModelCandidates(body: Body, route: string): readonly string[] {
  if (body === null) return [];
  const candidates: string[] = [];
  const bodyModel = Object.hasOwn(body, 'model') ? body.model : null;
  appendCandidates(candidates, bodyModel);
  // Newer LiteLLM: `target_model_names` when no model is named, or always on files/batches/vector stores.
  if (!isTruthy(bodyModel) || ALSO_TARGET_MODEL_NAMES.test(route)) {
    appendCandidates(candidates, Object.hasOwn(body, 'target_model_names') ? body.target_model_names : null);
  }
  return distinct(candidates);
}

/** The usual body: one model name, nothing to split or trim, on a route that reads only `model`. */
function plainBodyModel(body: Body, route: string): string | null {
  const model = body !== null && Object.hasOwn(body, 'model') ? body.model : null;
  if (typeof model !== 'string' || model === '' || model.includes(',') || model.trim() !== model) return null;
  return ALSO_TARGET_MODEL_NAMES.test(route) ? null : model;
}

/** Strings are split on commas and trimmed; lists are flattened one level; blanks dropped.
 *  Scalars are stringified like Python's str() (True/False); objects are not model names. */
function appendCandidates(candidates: string[], value: Json | undefined): void {
  if (value === null || value === undefined) return;
  for (const item of Array.isArray(value) ? value : [value]) {
    let names: string[];
    if (typeof item === 'string') names = item.split(',');
    else if (typeof item === 'number') names = [String(item)];
    else if (typeof item === 'boolean') names = [item ? 'True' : 'False'];
    else continue;
    for (const name of names) {
      const trimmed = name.trim();
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
