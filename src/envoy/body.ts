/**
 * The request body as Envoy buffered it (`with_request_body`), read defensively: whatever a client
 * sends, this returns a value and never throws.
 */
import type { JsonObject } from '../domain/entities';
import { parseFormBody } from './form-body';
import { headerValue, type HeaderRecord } from './headers';
import { nestsDeeperThan, scanTopLevelString } from './json-prefix';
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
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const NO_BODY: BodyFacts = { body: null, truncated: false, invalid: false, prefixModel: null };

export function readBody(http: HttpRequest | undefined, headers: HeaderRecord): BodyFacts {
  const bytes = bodyBytes(http);
  if (bytes.length === 0) return NO_BODY;

  // Envoy marks partial bodies with this header; OPA-envoy also compares content-length (and so do we).
  const declared = declaredLength(headers, http);
  const partial = headerValue(headers, 'x-envoy-auth-partial-body')?.trim().toLowerCase() === 'true';
  const complete = !partial && (declared === null || declared <= bytes.length);
  const examined = bytes.length > MAX_BODY_PARSE_BYTES ? bytes.subarray(0, MAX_BODY_PARSE_BYTES) : bytes;
  const whole = complete && examined === bytes;

  const form = parseFormBody(examined, headerValue(headers, 'content-type') ?? '', whole);
  if (form !== null) {
    const model = typeof form.model === 'string' ? form.model : null;
    return whole ? { ...NO_BODY, body: form } : { ...NO_BODY, truncated: true, prefixModel: model };
  }

  if (!whole) {
    // A cut may split a UTF-8 sequence: decode leniently, the scanner only needs the start.
    return { ...NO_BODY, truncated: true, prefixModel: scanTopLevelString(examined.toString('utf8'), 'model') };
  }
  const parsed = parseJsonObject(examined);
  return parsed === null ? { ...NO_BODY, invalid: true } : { ...NO_BODY, body: parsed };
}

/** `raw_body` (pack_as_bytes) when present, else the UTF-8 `body` string. */
function bodyBytes(http: HttpRequest | undefined): Buffer {
  if (http?.raw_body !== undefined && http.raw_body.length > 0) return http.raw_body;
  return http?.body ? Buffer.from(http.body, 'utf8') : Buffer.alloc(0);
}

/** content-length, else Envoy's `size` (-1 when unknown); null when neither is a plain number. */
function declaredLength(headers: HeaderRecord, http: HttpRequest | undefined): number | null {
  for (const candidate of [headerValue(headers, 'content-length'), http?.size]) {
    if (candidate !== undefined && /^\s*\d{1,15}\s*$/.test(candidate)) return Number(candidate);
  }
  return null;
}

function parseJsonObject(bytes: Buffer): JsonObject | null {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return null; // not UTF-8, so not JSON
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : null;
  } catch {
    return null;
  }
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
