/**
 * Deep freeze for domain values handed out by the store.
 *
 * A cached row is shared by concurrent checks; freezing the nested arrays and JSON objects too
 * means no check can mutate what another request (or the cache) sees (field-notes §3).
 * Dates are frozen as objects but their internal time slot stays settable: callers treat them as
 * read-only values, and copying each Date would cost more than the guard is worth.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const nested of Object.values(value as object) as unknown[]) deepFreeze(nested);
  }
  return value;
}
