/**
 * Reading the request's metadata containers the way LiteLLM's helpers do
 * (`get_metadata_variable_name_from_kwargs`, `get_tags_from_request_body`).
 */
import type { Json, JsonObject } from '../domain/entities';
import { isJsonObject } from './context';
import { parsePythonJson } from '../util/python-json';

/** A metadata value as a dict: itself, or parsed from a JSON string (multipart / extra_body callers). */
export function metadataAsObject(value: Json | undefined): JsonObject | null {
  if (isJsonObject(value)) return value;
  if (typeof value !== 'string') return null;
  const parsed = parsePythonJson(value);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as JsonObject) : null;
}

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
