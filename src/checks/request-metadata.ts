/**
 * Reading the request's metadata containers the way LiteLLM's helpers do
 * (`get_metadata_variable_name_from_kwargs`, `get_tags_from_request_body`).
 */
import type { Json, JsonObject } from '../domain/entities';
import { isJsonObject } from './context';
import { parsePythonJson } from '../util/python-json';
import { deepFreeze } from '../store/freeze';

/** A metadata value as a dict: itself, or parsed from a JSON string (multipart / extra_body callers). */
export function metadataAsObject(value: Json | undefined): JsonObject | null {
  if (isJsonObject(value)) return value;
  if (typeof value !== 'string') return null;
  // Several readers ask for the same request's metadata (end user, tags, guardrails): the last
  // text is parsed once. The result is frozen, as everything a check reads.
  if (value === lastMetadataText) return lastMetadataObject;
  const parsed = parsePythonJson(value);
  const object = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? deepFreeze(parsed as JsonObject) : null;
  lastMetadataText = value;
  lastMetadataObject = object;
  return object;
}

let lastMetadataText: string | null = null;
let lastMetadataObject: JsonObject | null = null;

const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * `get_tags_from_request_body`: tags from `litellm_metadata` when that key is present in the body,
 * else from `metadata`, followed by top-level `tags`; strings only.
 */
export function requestTags(body: Readonly<Record<string, Json>>): readonly string[] {
  const containerName = Object.hasOwn(body, 'litellm_metadata') ? 'litellm_metadata' : 'metadata';
  const fromMetadata = metadataAsObject(body[containerName])?.['tags'];
  const fromBody = body['tags'];
  // Most requests name no tags: nothing is built for them.
  if (!Array.isArray(fromMetadata) && !Array.isArray(fromBody)) return NO_TAGS;
  const tags = [...(Array.isArray(fromMetadata) ? fromMetadata : []), ...(Array.isArray(fromBody) ? fromBody : [])];
  return tags.filter((tag): tag is string => typeof tag === 'string');
}
