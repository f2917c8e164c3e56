/**
 * The vector stores a request asks for (`VectorStoreRegistry.get_vector_store_ids_to_run`, newer
 * version): the body's `vector_store_ids` list, then each tool's `vector_store_ids` (OpenAI
 * `file_search` tools), first-seen order, duplicates removed. Shared by the snapshot loader (load
 * permissions only when needed) and the vector-store access check (§4.11).
 *
 * Only lists count: LiteLLM would iterate a string character by character (or fail on other
 * types); Tollgate does not invent ids from such values.
 */
import type { Json } from '../domain/entities';
import { isJsonObject } from './context';

const NO_IDS: readonly Json[] = Object.freeze([]);

function listed(value: Json | undefined): readonly Json[] {
  return Array.isArray(value) ? value : [];
}

export function requestedVectorStoreIds(body: Readonly<Record<string, Json>> | null): readonly Json[] {
  // Most requests name no vector store and have no tools (this runs twice per Check): nothing to build.
  if (body === null || (body['vector_store_ids'] === undefined && body['tools'] === undefined)) return NO_IDS;
  const ids: Json[] = [...listed(body['vector_store_ids'])];
  for (const tool of listed(body['tools'])) {
    if (isJsonObject(tool)) ids.push(...listed(tool['vector_store_ids']));
  }
  if (ids.length === 0) return NO_IDS;
  const seen = new Set<string>();
  return ids.filter((id) => {
    const key = JSON.stringify(id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
