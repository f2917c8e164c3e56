/**
 * LiteLLM's `get_tags_from_request_body` (litellm-auth.md §4.12): `metadata.tags` (or
 * `litellm_metadata.tags` when that key is present) plus top-level `tags`; strings only.
 */
import type { Json } from '../domain/entities';
import { distinct } from '../util/distinct';

const NO_TAGS: readonly string[] = Object.freeze([]);

function asObject(value: Json | undefined): Record<string, Json> | null {
  if (typeof value === 'string') {
    // Newer LiteLLM accepts metadata sent as a JSON string (multipart forms).
    try {
      return asObject(JSON.parse(value) as Json);
    } catch {
      return null;
    }
  }
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function stringsOf(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function tagsFromBody(body: Readonly<Record<string, Json>> | null): readonly string[] {
  if (body === null) return NO_TAGS;
  const fromMetadata = asObject('litellm_metadata' in body ? body.litellm_metadata : body.metadata)?.tags;
  // Most requests name no tags: nothing is built for them.
  if (!Array.isArray(fromMetadata) && !Array.isArray(body.tags)) return NO_TAGS;
  return distinct([...stringsOf(fromMetadata), ...stringsOf(body.tags)]);
}
