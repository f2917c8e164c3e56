/**
 * The request body as Envoy buffered it (`with_request_body`), read defensively: whatever a client
 * sends, this returns a value and never throws.
 */
import { isUtf8 } from 'node:buffer';
import type { JsonObject } from '../domain/entities';
import { parseFormBody } from './form-body';
import { headerValue, type HeaderRecord } from './headers';
import { scanTopLevelString } from './json-prefix';
import type { HttpRequest } from './messages';

/** Bodies above this are not parsed, only scanned for `model` (a prompt can be many MiB). */
export const MAX_BODY_PARSE_BYTES = 8 * 1024 * 1024;
/** Deeper JSON is refused as invalid; real chat bodies (tool schemas included) stay far below. */
export const MAX_JSON_DEPTH = 128;

export interface BodyFacts {
  /** The whole body as an object (JSON object, or form fields); null otherwise. */
  readonly body: JsonObject | null;
  /** Only a prefix was available or examined: body-driven checks cannot see everything. */
  readonly truncated: boolean;
  /** A complete body that is not a JSON object (or not UTF-8). */
  readonly invalid: boolean;
  /** The top-level `model` string recovered from a prefix when `body` is null because of truncation. */
  readonly prefixModel: string | null;
  /** Bytes of body Envoy sent (only a prefix when `truncated`); 0 without a body. */
  readonly byteLength: number;
}

const NO_BODY: BodyFacts = { body: null, truncated: false, invalid: false, prefixModel: null, byteLength: 0 };

/** Envoy sends either `raw_body` bytes (pack_as_bytes) or the `body` string; each is read in its
 *  own form, since converting a multi-MiB body costs milliseconds of a 200 ms deadline. */
type Source = { readonly bytes: Buffer } | { readonly text: string };

export function readBody(http: HttpRequest | undefined, headers: HeaderRecord): BodyFacts {
  const source = bodySource(http);
  const length = 'bytes' in source ? source.bytes.length : Buffer.byteLength(source.text, 'utf8');
  if (length === 0) return NO_BODY;
  return examineBody(source, length, http, headers);
}

/** Built whole rather than by spreading a default: this runs on every Check with a body. */
function bodyFacts(byteLength: number, body: JsonObject | null, truncated: boolean, invalid: boolean, prefixModel: string | null): BodyFacts {
  return { body, truncated, invalid, prefixModel, byteLength };
}

function examineBody(source: Source, length: number, http: HttpRequest | undefined, headers: HeaderRecord): BodyFacts {

  // Envoy marks partial bodies with this header; OPA-envoy also compares content-length (and so do we).
  const declared = declaredLength(headers, http);
  const partial = headerValue(headers, 'x-envoy-auth-partial-body')?.trim().toLowerCase() === 'true';
  const complete = !partial && (declared === null || declared <= length);
  const whole = complete && length <= MAX_BODY_PARSE_BYTES;

  const contentType = headerValue(headers, 'content-type') ?? '';
  if (contentType.includes('form')) {
    const form = parseFormBody(prefixBytes(source), contentType, whole);
    if (form !== null) {
      const model = typeof form.model === 'string' ? form.model : null;
      return whole ? bodyFacts(length, form, false, false, null) : bodyFacts(length, null, true, false, model);
    }
  }

  if (!whole) {
    // A cut may split a UTF-8 sequence: decode leniently, the scanner only needs the start.
    return bodyFacts(length, null, true, false, scanTopLevelString(prefixBytes(source).toString('utf8'), 'model'));
  }
  const parsed = parseJsonObject('bytes' in source ? (isUtf8(source.bytes) ? source.bytes.toString('utf8') : null) : source.text);
  return parsed === null ? bodyFacts(length, null, false, true, null) : bodyFacts(length, parsed, false, false, null);
}

function bodySource(http: HttpRequest | undefined): Source {
  if (http?.raw_body !== undefined && http.raw_body.length > 0) return { bytes: http.raw_body };
  return { text: http?.body ?? '' };
}

/** At most MAX_BODY_PARSE_BYTES of the body, as bytes. */
function prefixBytes(source: Source): Buffer {
  const bytes = 'bytes' in source ? source.bytes : Buffer.from(source.text.slice(0, MAX_BODY_PARSE_BYTES), 'utf8');
  return bytes.length > MAX_BODY_PARSE_BYTES ? bytes.subarray(0, MAX_BODY_PARSE_BYTES) : bytes;
}

/** content-length, else Envoy's `size` (-1 when unknown); null when neither is a plain number. */
function declaredLength(headers: HeaderRecord, http: HttpRequest | undefined): number | null {
  for (const candidate of [headerValue(headers, 'content-length'), http?.size]) {
    if (candidate !== undefined && /^\s*\d{1,15}\s*$/.test(candidate)) return Number(candidate);
  }
  return null;
}

/** null for text that is not UTF-8, not JSON, not an object, or nested deeper than MAX_JSON_DEPTH. */
function parseJsonObject(text: string | null): JsonObject | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text); // V8's parser is iterative: deep input cannot overflow the stack here
  } catch {
    return null;
  }
  if (!isJsonObject(value)) return null;
  return fewerOpenersThan(text, MAX_JSON_DEPTH) || !nestsDeeperThan(value, MAX_JSON_DEPTH) ? value : null;
}

/**
 * Nesting deeper than `limit` needs more than `limit` of `{` and `[`, counted anywhere (inside
 * strings too, which only errs towards the walk). indexOf is native: a chat body costs tens of
 * nanoseconds here against a few hundred for the walk, which then only runs for bodies with many.
 */
function fewerOpenersThan(text: string, limit: number): boolean {
  let count = 0;
  for (const opener of ['{', '[']) {
    for (let at = text.indexOf(opener); at !== -1; at = text.indexOf(opener, at + 1)) {
      count += 1;
      if (count > limit) return false;
    }
  }
  return true;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Iterative, so that checking is safe where a recursive walk (ours or a check's) would not be. */
function nestsDeeperThan(root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
