/**
 * Request headers as one lower-cased name → value record, whichever way Envoy encoded them.
 */
import type { HttpRequest } from './messages';

export type HeaderRecord = Readonly<Record<string, string>>;

/** Bytes → text for raw header values. Invalid sequences become U+FFFD rather than failing the Check. */
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * `headers` (merged by Envoy) or, with `encode_raw_headers: true`, `header_map` (one entry per line,
 * values as bytes), merged here the way Envoy merges its own map: duplicates joined with ",".
 * The record has no prototype, so names such as `__proto__` or `constructor` are plain headers.
 */
export function collectHeaders(http: HttpRequest | undefined): HeaderRecord {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const add = (name: string, value: string): void => {
    // Measured cheaper than scanning for upper case first: V8 has a fast path for lower-case names.
    const key = name.toLowerCase();
    out[key] = Object.hasOwn(out, key) ? `${out[key]},${value}` : value;
  };
  const raw = http?.header_map?.headers ?? [];
  if (raw.length > 0) {
    for (const entry of raw) {
      if (!entry.key) continue;
      const value = entry.raw_value !== undefined && entry.raw_value.length > 0 ? utf8.decode(entry.raw_value) : (entry.value ?? '');
      add(entry.key, value);
    }
  } else {
    // for…in rather than Object.entries: no pair array per header on every Check.
    const merged = http?.headers ?? {};
    for (const name in merged) if (Object.hasOwn(merged, name)) add(name, merged[name] as string);
  }
  return out;
}

/** Case-insensitive lookup that never reaches Object.prototype. */
export function headerValue(headers: HeaderRecord, name: string): string | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(headers, key) ? headers[key] : undefined;
}

/** FastAPI's APIKeyHeader treats an empty header as absent; so do we. */
export function nonEmptyHeader(headers: HeaderRecord, name: string): string | undefined {
  const value = headerValue(headers, name);
  return value === undefined || value === '' ? undefined : value;
}
