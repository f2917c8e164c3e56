/** Narrowing helpers for parsed YAML/JSON, so tests can read nested values without `any`. */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function asObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what}: expected an object, got ${describe(value)}`);
  return value;
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${describe(value)}`);
  return value;
}

/** Follows a dotted path (`spec.template.spec`); undefined when any step is missing. */
export function dig(value: unknown, dotted: string): unknown {
  let current: unknown = value;
  for (const step of dotted.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[step];
  }
  return current;
}

/** The objects of a list-valued path (missing → empty list). */
export function objectsAt(value: unknown, dotted: string): JsonObject[] {
  const found = dig(value, dotted);
  if (found === undefined) return [];
  return asArray(found, dotted).map((item, i) => asObject(item, `${dotted}[${i}]`));
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
