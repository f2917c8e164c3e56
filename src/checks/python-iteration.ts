/**
 * How Python walks a JSON value that LiteLLM's request readers iterate without checking its type
 * (`for tool in data.get("tools") or []`, `ids.extend(tool["vector_store_ids"])`,
 * `"vector_store_ids" in tool`). A list gives its items, a string its characters, a dict its
 * keys; a number, a boolean or None raises TypeError, which LiteLLM's auth turns into a 401
 * (`Authentication Error, 'int' object is not iterable`). The readers below return that
 * TypeError's text as a value so the checks can refuse with it.
 */
import type { Json } from '../domain/entities';
import { isTruthy } from '../domain/truthiness';

/** A TypeError Python would raise, as its `str()`. */
export interface PythonTypeError {
  readonly typeError: string;
}

export function isPythonTypeError(value: unknown): value is PythonTypeError {
  return typeof value === 'object' && value !== null && 'typeError' in value;
}

/** Python's type name of a JSON value (a JSON number with no fraction is read as an int). */
export function pyTypeName(value: Json): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  return Array.isArray(value) ? 'list' : 'dict';
}

const NOTHING: readonly Json[] = Object.freeze([]);

/** `iter(value)`: items, characters (code points, as Python counts them) or keys. */
export function pyIter(value: Json): readonly Json[] | PythonTypeError {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return Array.from(value);
  if (value !== null && typeof value === 'object') return Object.keys(value);
  return { typeError: `'${pyTypeName(value)}' object is not iterable` };
}

/** `value or []` then `iter()`: a falsy value gives nothing. */
export function pyIterOrEmpty(value: Json | undefined): readonly Json[] | PythonTypeError {
  return value === undefined || !isTruthy(value) ? NOTHING : pyIter(value);
}

/** `needle in container` for a string needle: dict key, list element, substring; else TypeError. */
export function pyContains(container: Json, needle: string): boolean | PythonTypeError {
  if (typeof container === 'string') return container.includes(needle);
  if (Array.isArray(container)) return container.includes(needle);
  if (container !== null && typeof container === 'object') return Object.hasOwn(container, needle);
  return { typeError: `argument of type '${pyTypeName(container)}' is not iterable` };
}

/** `container[key]` for a string key: a dict's value, else the TypeError a str or list raises. */
export function pyItem(container: Json, key: string): Json | PythonTypeError {
  if (typeof container === 'string') return { typeError: "string indices must be integers, not 'str'" };
  if (Array.isArray(container)) return { typeError: 'list indices must be integers or slices, not str' };
  if (container !== null && typeof container === 'object') {
    // Only reached after `key in container` held, so the key is there.
    return container[key] ?? null;
  }
  return { typeError: `'${pyTypeName(container)}' object is not subscriptable` };
}
