/**
 * Serialisation of cached entities for the shared (Redis) tier.
 * Dates survive the round trip; decoded values are deep-frozen like the ones the store returns,
 * so a value read from Redis is as immutable as one read from the database.
 */

const DATE_TAG = '$date';

export function encodeCached(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, v: unknown) {
    // JSON.stringify has already called Date#toJSON on `v`; the holder still has the Date.
    const original = key === '' ? value : this[key];
    return original instanceof Date ? { [DATE_TAG]: original.toISOString() } : v;
  });
}

export function decodeCached<T>(text: string): T {
  const parsed: unknown = JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const tagged = (v as Record<string, unknown>)[DATE_TAG];
      if (typeof tagged === 'string' && Object.keys(v).length === 1) return new Date(tagged);
    }
    return v;
  });
  return deepFreeze(parsed) as T;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
