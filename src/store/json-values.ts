/**
 * Narrowing of JSON column values read from the database into the shapes the domain promises.
 * A row written by another tool may hold anything in a JSON column; the store never lets that
 * reach the checks as an unexpected type.
 */
import type { JsonObject } from '../domain/entities';

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** `Json @default("{}")` columns: anything but an object reads as `{}`. */
export function asJsonObject(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}

/** Nullable JSON object columns (`Json?`): anything but an object reads as null. */
export function asJsonObjectOrNull(value: unknown): JsonObject | null {
  return isJsonObject(value) ? value : null;
}

/** LiteLLM_ModelTable.aliases: alias → model name; entries whose value is not a string are dropped. */
export function asStringMap(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (!isJsonObject(value)) return result;
  for (const [alias, model] of Object.entries(value)) {
    if (typeof model === 'string') result[alias] = model;
  }
  return result;
}
