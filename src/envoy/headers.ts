/**
 * Request headers as one lower-cased name → value record, whichever way Envoy encoded them.
 */
import type { HttpRequest } from './messages';

export type HeaderRecord = Readonly<Record<string, string>>;

/** Bytes → text for raw header values. Invalid sequences become U+FFFD rather than failing the Check. */
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The prototype of every header record: an object with no properties and no prototype, so names such
 * as `__proto__` or `constructor` are plain headers. A record made by `Object.create(null)` would be
 * as safe, but V8 keeps those as hash tables from the start: five times the memory per Check (~1.7 KB
 * against ~0.3 KB for 18 headers), and under load a Check's garbage costs more than its code.
 */
const NO_INHERITED_NAMES: object = Object.freeze(Object.create(null) as object);

/**
 * `headers` (merged by Envoy) or, with `encode_raw_headers: true`, `header_map` (one entry per line,
 * values as bytes), merged here the way Envoy merges its own map: duplicates joined with ",".
 * The record inherits nothing, so names such as `__proto__` or `constructor` are plain headers.
 */
export function collectHeaders(http: HttpRequest | undefined): HeaderRecord {
  // The hottest loop of a Check's parsing: no closure, no pair arrays, and (the record
  // inheriting nothing) an `undefined` read is the whole "seen before?" test.
  const out = Object.create(NO_INHERITED_NAMES) as Record<string, string | undefined>;
  const raw = http?.header_map?.headers ?? [];
  if (raw.length > 0) {
    for (const entry of raw) {
      if (!entry.key) continue;
      const value = entry.raw_value !== undefined && entry.raw_value.length > 0 ? utf8.decode(entry.raw_value) : (entry.value ?? '');
      addHeader(out, entry.key, value);
    }
  } else {
    const merged = http?.headers;
    // The decoder's record, already lower-cased as Envoy sends it, serves as it is: a copy would
    // be the same names and values, made again on every Check.
    if (merged !== undefined && isDecodedRecord(merged)) return merged;
    // `for…in` reads the names from the record's shape; Object.keys would list them anew. The
    // `Object.hasOwn` test keeps it to the map's own names, as Object.keys did.
    for (const name in merged) if (Object.hasOwn(merged, name)) addHeader(out, name, merged[name] as string);
  }
  return out as HeaderRecord;
}

/**
 * An empty record inheriting nothing, for the request decoder to put `headers` in. The decoder
 * keeps names as sent; `collectHeaders` uses the record itself only if they are all lower-case.
 */
export function newHeaderRecord(): Record<string, string> {
  return Object.create(NO_INHERITED_NAMES) as Record<string, string>;
}

/** A record from `newHeaderRecord` whose names need no lower-casing, so no merging either. */
function isDecodedRecord(headers: Readonly<Record<string, string>>): boolean {
  if (Object.getPrototypeOf(headers) !== NO_INHERITED_NAMES) return false;
  for (const name in headers) if (MAY_LOWER.test(name)) return false;
  return true;
}

/**
 * Whatever toLowerCase could change: ASCII capitals and anything beyond ASCII. V8's toLowerCase
 * makes a new string even for a name that is already lower-case, as Envoy's always are.
 */
const MAY_LOWER = /[A-Z\u0080-\uffff]/;

/** The name lower-cased as toLowerCase does, without a new string when it already is. */
export function lowerCased(name: string): string {
  return MAY_LOWER.test(name) ? name.toLowerCase() : name;
}

/** Envoy's merge: names compared lower-cased, repeats joined with ",". */
function addHeader(out: Record<string, string | undefined>, name: string, value: string): void {
  const key = lowerCased(name);
  const seen = out[key];
  out[key] = seen === undefined ? value : `${seen},${value}`;
}

/** Case-insensitive lookup that never reaches Object.prototype. */
export function headerValue(headers: HeaderRecord, name: string): string | undefined {
  const key = lowerCased(name);
  return Object.hasOwn(headers, key) ? headers[key] : undefined;
}

/** FastAPI's APIKeyHeader treats an empty header as absent; so do we. */
export function nonEmptyHeader(headers: HeaderRecord, name: string): string | undefined {
  const value = headerValue(headers, name);
  return value === undefined || value === '' ? undefined : value;
}
