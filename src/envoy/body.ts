/**
 * The request body as Envoy buffered it (`with_request_body`), read defensively: whatever a client
 * sends, this returns a value and never throws.
 */
import { isUtf8 } from 'node:buffer';
import type { JsonObject } from '../domain/entities';
import { parseFormBody, UnreadableForm } from './form-body';
import { headerValue, type HeaderRecord } from './headers';
import { parseJsonObject, parseJsonObjectLeaving } from './json-object';
import { withNonFiniteAsNull } from '../util/python-json';
import { readPrefix } from './json-prefix';
import { BytesJson, TextJson } from './json-text';
import { endUserLiteralsOf, mayHoldNumericEndUser, type EndUserLiterals } from './end-user-literals';
import type { HttpRequest } from './messages';

/** Bodies above this are not parsed, only scanned for `model` (a prompt can be many MiB). */
export const MAX_BODY_PARSE_BYTES = 8 * 1024 * 1024;
/**
 * Deeper JSON is refused as invalid, as LiteLLM's reader gives up near there (orjson stops at
 * 1024 levels, Python's `json.loads` at its recursion limit of 1000). A lower bound would read a
 * deep body as no body, and let its banned parameters through the body checks.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * From this size on, the prompt's fields are stepped over rather than parsed (json-object.ts):
 * below it JSON.parse of the whole body costs a few microseconds, and the stepping saves nothing.
 */
export const LEAVE_PROMPT_FROM_BYTES = 8 * 1024;

/**
 * The top-level fields that carry a request's prompt: chat and Anthropic `messages`, Anthropic
 * `system`, completions and images `prompt`, embeddings, moderations and Responses `input`,
 * Responses `instructions`, Gemini `contents` and `systemInstruction`, rerank `documents`. No check
 * reads them, and in a large body they are nearly all of it.
 */
export const PROMPT_FIELDS: ReadonlySet<string> = new Set([
  'messages',
  'system',
  'prompt',
  'input',
  'instructions',
  'contents',
  'systemInstruction',
  'documents',
]);

export interface BodyFacts {
  /**
   * The whole body as an object (JSON object, or form fields); for a body Envoy cut short, the
   * members whole in its prefix (prompt fields left out: json-prefix.ts); null otherwise.
   */
  readonly body: JsonObject | null;
  /** Only a prefix was available or examined: body-driven checks cannot see everything. */
  readonly truncated: boolean;
  /** A complete body that is not a JSON object (or not UTF-8). */
  readonly invalid: boolean;
  /** The top-level `model` string recovered from a prefix when `body` is null because of truncation. */
  readonly prefixModel: string | null;
  /** Bytes of body Envoy sent (only a prefix when `truncated`); 0 without a body. */
  readonly byteLength: number;
  /**
   * End-user ids sent as numbers, as written (`1234567890123456789`, `1.0`): Python's `str()` of
   * them, which names the end user, needs the literal a JavaScript number loses.
   */
  readonly endUserLiterals?: EndUserLiterals;
  /** Why a multipart body is one Starlette refuses to read (form-body.ts); absent otherwise. */
  readonly unreadableForm?: string;
  /**
   * A whole body LiteLLM's reader refuses as not JSON (`_read_request_body`: 400 "Invalid JSON
   * payload"): the message. Absent for every other body, and for one Tollgate cannot judge (cut
   * short, over MAX_BODY_PARSE_BYTES, sent as a form LiteLLM reads as one).
   */
  readonly invalidJson?: string;
}

/**
 * LiteLLM's text keeps orjson's own error after the colon (`unexpected character: line 1 column 2
 * (char 1)`), which a JavaScript parser cannot reproduce; this one does not change with the body.
 */
export const INVALID_JSON_MESSAGE = 'Invalid JSON payload: the request body is not valid JSON';

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

/**
 * Tollgate's own test for a form, for the body checks and the multipart limits (form-body.ts):
 * any case, as the upstream reads the media type (Starlette's `request.form()` lower-cases it).
 * A whole body LiteLLM reads as JSON (READ_AS_FORM) is read as a form only when it is not
 * JSON nor its 400 either.
 */
const MAY_BE_FORM = /form/i;

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
  const mayBeForm = MAY_BE_FORM.test(contentType);
  const litellmForm = contentType.includes(READ_AS_FORM);
  // A whole body under a form type LiteLLM's case-sensitive test misses (`Multipart/Form-Data`) is
  // read as JSON first, as LiteLLM's auth reads it: a form reading of JSON sees no field, and its
  // model and a banned `api_base` would pass unchecked.
  if (mayBeForm && (litellmForm || !whole)) {
    const form = formFacts(source, length, contentType, whole);
    if (form !== null) return form;
  }

  if (!whole) {
    // A cut may split a UTF-8 sequence: decode leniently, only whole members are read.
    const { body, model } = readPrefix(prefixBytes(source).toString('utf8'), PROMPT_FIELDS, MAX_JSON_DEPTH);
    return bodyFacts(length, body, true, false, model);
  }
  const parsed = parseWholeBody(source, length);
  if (parsed === null) {
    if (!litellmForm && isNotJson(source)) return notJsonFacts(length);
    // Neither an object nor its 400 (an upload's bytes that are not UTF-8, which LiteLLM reads as
    // an empty body): the form the upstream's own form parser reads, whatever the type's case. JSON
    // that is no object keeps the unread model, as under any other type.
    const form = mayBeForm && !litellmForm && !isJsonNoObject(source) ? formFacts(source, length, contentType, whole) : null;
    return form ?? bodyFacts(length, null, false, true, null);
  }
  const facts = bodyFacts(length, parsed, false, false, null);
  // Rare (the APIs type these ids as strings): only then is the text walked again.
  if (!mayHoldNumericEndUser(parsed)) return facts;
  const endUserLiterals = endUserLiteralsOf(textOf(source), parsed, MAX_JSON_DEPTH);
  return endUserLiterals === undefined ? facts : { ...facts, endUserLiterals };
}

/**
 * A whole body as a JSON object; null when it is not UTF-8, not JSON (Python's `json.loads`
 * constants NaN and ±Infinity allowed), not an object, or too deep.
 */
function parseWholeBody(source: Source, length: number): JsonObject | null {
  if ('bytes' in source && !isUtf8(source.bytes)) return null;
  const parsed =
    length < LEAVE_PROMPT_FROM_BYTES
      ? parseJsonObject(textOf(source), MAX_JSON_DEPTH)
      : parseJsonObjectLeaving('bytes' in source ? new BytesJson(source.bytes) : new TextJson(source.text), PROMPT_FIELDS, MAX_JSON_DEPTH);
  if (parsed !== null) return parsed;
  // Only a body JSON refuses pays for this second reading.
  const pythonic = withNonFiniteAsNull(textOf(source));
  return pythonic === null ? null : parseJsonObject(pythonic, MAX_JSON_DEPTH);
}

/**
 * The body read as a form (form-body.ts), or null when its type is neither form type. A cut body's
 * fields are not kept, only the model its whole fields name.
 */
function formFacts(source: Source, length: number, contentType: string, whole: boolean): BodyFacts | null {
  const form = parseFormBody(prefixBytes(source), contentType, whole);
  if (form === null) return null;
  if (form instanceof UnreadableForm) return { ...bodyFacts(length, null, false, true, null), unreadableForm: form.message };
  const model = typeof form.model === 'string' ? form.model : null;
  return whole ? bodyFacts(length, form, false, false, null) : bodyFacts(length, null, true, false, model);
}

/** A whole body LiteLLM's reader refuses as not JSON: read as none, as LiteLLM decides it as `{}`. */
function notJsonFacts(length: number): BodyFacts {
  return { ...bodyFacts(length, null, false, true, null), invalidJson: INVALID_JSON_MESSAGE };
}

/**
 * LiteLLM's test (`"form" in content_type`, case-sensitive): any other body, whatever its type says,
 * is parsed as JSON. Starlette gives it the first of repeated Content-Type headers, but behind Envoy
 * there are none: Content-Type is one of its inline headers, whose repeats it joins into one value
 * with "," as it parses the request, so the upstream gets the value the Check carries, in `headers`
 * and in `header_map` alike.
 */
const READ_AS_FORM = 'form';

/**
 * Whether LiteLLM's `_read_request_body` refuses the body as JSON: orjson and then Python's
 * `json.loads` both fail on it. Only a body the object parser gave up on is asked, so a valid one
 * costs nothing here. JSON that is no object (`null`, an array, a scalar) and JSON nested deeper than
 * MAX_JSON_DEPTH parse there (the deep one then fails with a RecursionError, which LiteLLM reads as
 * an empty body), and a body that is not UTF-8 fails to decode before `json.loads`, which LiteLLM
 * also reads as an empty body: none of them is its 400. Where that cannot be told apart, the body
 * is not refused: a missed 400 costs the upstream a bad request, a false one refuses a good one.
 */
function isNotJson(source: Source): boolean {
  if ('bytes' in source && !isUtf8(source.bytes)) return false;
  const text = textOf(source);
  // Envoy's `body` string carries the bytes as they came, and the decoder turns a sequence that is
  // not UTF-8 into U+FFFD: such a text may stand for a gzip'd or binary body, which LiteLLM fails to
  // decode and reads as empty. Not knowing which, it is not refused.
  if ('text' in source && text.includes('\uFFFD')) return false;
  if (parsesAsJson(text)) return false;
  const pythonic = withNonFiniteAsNull(text);
  if (pythonic !== null && parsesAsJson(pythonic)) return false;
  return !mayExhaustPython(text);
}

/** Whether a body no object parser read is JSON all the same (no object, or one nested too deep), which LiteLLM's reader returns. */
function isJsonNoObject(source: Source): boolean {
  if ('bytes' in source ? !isUtf8(source.bytes) : source.text.includes('\uFFFD')) return false;
  const text = textOf(source);
  if (parsesAsJson(text)) return true;
  const pythonic = withNonFiniteAsNull(text);
  return pythonic !== null && parsesAsJson(pythonic);
}

/**
 * Nesting from which Python's `json.loads` may stop with a RecursionError rather than its decode
 * error: its recursion limit is 1000 frames, less those of the request's own stack (ASGI app,
 * middleware, FastAPI's dependencies), and LiteLLM reads that error as an empty body, not its 400.
 */
export const JUDGED_JSON_DEPTH = 512;

/**
 * The longest run of digits Python turns into an int (`sys.get_int_max_str_digits()`): a longer one
 * is a ValueError in `json.loads`, which LiteLLM also reads as an empty body.
 */
const PYTHON_INT_MAX_DIGITS = 4300;

/**
 * Whether `json.loads` may give up on the text with an error other than its decode error, before
 * reaching the one that makes it not JSON: nesting as deep as JUDGED_JSON_DEPTH, or a number with
 * more digits than Python converts. Asked only of a body that is not JSON.
 */
function mayExhaustPython(text: string): boolean {
  let depth = 0;
  let digits = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > PYTHON_INT_MAX_DIGITS) return true;
      continue;
    }
    digits = 0;
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth >= JUDGED_JSON_DEPTH) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function textOf(source: Source): string {
  return 'bytes' in source ? source.bytes.toString('utf8') : source.text;
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
