/**
 * The vector stores a request asks for, read as `VectorStoreRegistry.get_vector_store_ids_to_run`
 * (newest version) reads them: the body's `vector_store_ids` when it is a list, then for each entry
 * of a truthy `tools`, `tool["vector_store_ids"]` when `"vector_store_ids" in tool`, in first-seen
 * order with duplicates removed (`list(dict.fromkeys(ids))`). Shared by the snapshot loader (load
 * permissions only when needed) and the vector-store access check (§4.11).
 *
 * A tool's ids are not type-checked by LiteLLM, so they are walked as Python walks them: a string
 * gives its characters (`"vector_store_ids": "vs_1"` asks for `v`, `s`, `_`, `1`, which a
 * restricted key is refused), a dict its keys. A shape Python cannot walk (a number, a null tool,
 * a string tool naming "vector_store_ids", an unhashable id) raises TypeError before any
 * permission is read, so LiteLLM refuses the request for every caller: `readVectorStoreIds`
 * returns that error.
 */
import type { Json } from '../domain/entities';
import { isTruthy } from '../domain/truthiness';
import { isPythonTypeError, pyContains, pyIter, pyItem, type PythonTypeError } from './python-iteration';

const NO_IDS: readonly Json[] = Object.freeze([]);
const FIELD = 'vector_store_ids';

export interface RequestedVectorStores {
  readonly ids: readonly Json[];
  /** The TypeError LiteLLM raises while reading the ids, or null. */
  readonly error: string | null;
}

const NONE_REQUESTED: RequestedVectorStores = Object.freeze({ ids: NO_IDS, error: null });

function failed(error: PythonTypeError): RequestedVectorStores {
  return { ids: NO_IDS, error: error.typeError };
}

/** `dict.fromkeys` identity: Python's 1, 1.0 and True are one key; lists and dicts cannot be keys. */
function hashKey(id: Json): string | PythonTypeError {
  if (typeof id === 'string') return `s:${id}`;
  if (typeof id === 'number') return `n:${id}`;
  if (typeof id === 'boolean') return `n:${id ? 1 : 0}`;
  if (id === null) return 'None';
  return { typeError: `unhashable type: '${Array.isArray(id) ? 'list' : 'dict'}'` };
}

export function readVectorStoreIds(body: Readonly<Record<string, Json>> | null): RequestedVectorStores {
  // Most requests name no vector store and have no tools (this runs twice per Check): nothing to build.
  if (body === null) return NONE_REQUESTED;
  const param = body[FIELD];
  const tools = body['tools'];
  const paramIds = Array.isArray(param) ? param : NO_IDS;
  if (paramIds.length === 0 && (tools === undefined || !isTruthy(tools))) return NONE_REQUESTED;
  const ids: Json[] = [...paramIds];
  if (tools !== undefined && isTruthy(tools)) {
    const entries = pyIter(tools);
    if (isPythonTypeError(entries)) return failed(entries);
    for (const tool of entries) {
      const named = pyContains(tool, FIELD);
      if (isPythonTypeError(named)) return failed(named);
      if (!named) continue;
      const value = pyItem(tool, FIELD);
      if (isPythonTypeError(value)) return failed(value);
      const toolIds = pyIter(value);
      if (isPythonTypeError(toolIds)) return failed(toolIds);
      // One by one: a spread of a long string's characters overflows the call stack (RangeError).
      for (const id of toolIds) ids.push(id);
    }
  }
  if (ids.length === 0) return NONE_REQUESTED;
  const seen = new Set<string>();
  const distinct: Json[] = [];
  for (const id of ids) {
    const key = hashKey(id);
    if (isPythonTypeError(key)) return failed(key);
    if (seen.has(key)) continue;
    seen.add(key);
    distinct.push(id);
  }
  return { ids: distinct, error: null };
}

/** The ids alone: empty when the request names none, or when reading them fails (no permission is then needed). */
export function requestedVectorStoreIds(body: Readonly<Record<string, Json>> | null): readonly Json[] {
  return readVectorStoreIds(body).ids;
}

/**
 * Whether the vector-store check needs the caller's object permissions: when the request names a
 * store, and when Envoy cut its body short, since ids past the cut cannot be read and a caller
 * restricted to some stores is then refused (vector-store-access.ts).
 */
export function needsVectorStorePermissions(request: { readonly body: Readonly<Record<string, Json>> | null; readonly bodyTruncated: boolean }): boolean {
  return request.bodyTruncated || requestedVectorStoreIds(request.body).length > 0;
}
