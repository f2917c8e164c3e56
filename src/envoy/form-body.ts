/**
 * Form bodies. LiteLLM parses any content type containing "form" with Starlette's `request.form()`
 * and uses `dict(form)` as the request body (http_parsing_utils._read_request_body): that is how
 * `/audio/transcriptions` carries `model`. Deliberately narrower here: only the two form media
 * types are read as forms. Behind Envoy the upstream reads the body itself, and one that takes
 * `application/json; x=form` or `application/vnd.form+json` as JSON (FastAPI does) would call the
 * model that JSON names while a form reading saw no model at all. Such a body is read as JSON. A file part is there too (an `UploadFile`): its name is
 * kept with FILE_PART as its value, so that a check sees the field was sent (a banned `api_base`
 * sent as a file is still banned). Duplicate names: last wins, as in `dict(form)`.
 */

/**
 * Starlette's `MultiPartParser` limits (`max_fields`, `max_files`: 1000 each, counted apart). A
 * multipart body past one, or with a part that names no field, is refused there (400) while another
 * server may read it whole: the fields past the cap (a `model`, a banned `api_base`) would go unseen
 * here, so such a body is refused, with Starlette's message. Urlencoded forms have no such limit in
 * Starlette (`FormParser`) and are read whole: the body is bounded anyway.
 */
const MAX_MULTIPART_FIELDS = 1000;
const MAX_MULTIPART_FILES = 1000;

/** A multipart body Starlette refuses to read; `message` is its MultiPartException's. */
export class UnreadableForm {
  constructor(readonly message: string) {}
}

/** The value a file part's name is given: what it holds is no field any check reads. */
export const FILE_PART = '(uploaded file)';

export type FormFields = Record<string, string>;

/** Parsed fields, or null when the media type is not one of the two form types.
 *  With `complete: false` (a truncated prefix) a field cut off at the end is dropped. */
export function parseFormBody(bytes: Buffer, contentType: string, complete: boolean): FormFields | UnreadableForm | null {
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return parseUrlEncoded(bytes.toString('utf8'), complete);
  if (type === 'multipart/form-data') {
    const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    return boundary ? parseMultipart(bytes, boundary[1] ?? boundary[2]) : {};
  }
  return null;
}

function parseUrlEncoded(text: string, complete: boolean): FormFields {
  const pairs = text.split('&');
  if (!complete) pairs.pop(); // the last pair may be cut mid-value
  const out = emptyFields();
  for (const [name, value] of new URLSearchParams(pairs.join('&'))) setField(out, name, value);
  return out;
}

/** Only parts followed by a delimiter are complete, so a truncated prefix yields its whole fields. */
function parseMultipart(bytes: Buffer, boundary: string): FormFields | UnreadableForm {
  const out = emptyFields();
  const delimiter = Buffer.from(`--${boundary}`);
  const nextPart = Buffer.from(`\r\n--${boundary}`);
  let fields = 0;
  let files = 0;
  let at = bytes.indexOf(delimiter);
  while (at !== -1) {
    const headersStart = at + delimiter.length + 2; // past "--boundary\r\n"
    if (bytes.subarray(at + delimiter.length, headersStart).toString('latin1') !== '\r\n') break; // "--" closes
    const headersEnd = bytes.indexOf('\r\n\r\n', headersStart);
    if (headersEnd === -1) break;
    const contentEnd = bytes.indexOf(nextPart, headersEnd + 4);
    if (contentEnd === -1) break;
    const partHeaders = bytes.subarray(headersStart, headersEnd).toString('utf8');
    const disposition = optionsOf(/^content-disposition:(.*)$/im.exec(partHeaders)?.[1] ?? '');
    const name = disposition.get('name');
    if (name === undefined) return new UnreadableForm('The Content-Disposition header field "name" must be provided.');
    if (disposition.has('filename')) {
      if ((files += 1) > MAX_MULTIPART_FILES) return new UnreadableForm(`Too many files. Maximum number of files is ${MAX_MULTIPART_FILES}.`);
      setField(out, name, FILE_PART);
    } else {
      if ((fields += 1) > MAX_MULTIPART_FIELDS) return new UnreadableForm(`Too many fields. Maximum number of fields is ${MAX_MULTIPART_FIELDS}.`);
      setField(out, name, bytes.subarray(headersEnd + 4, contentEnd).toString('utf8'));
    }
    at = contentEnd + 2;
  }
  return out;
}

/**
 * The parameters of a Content-Disposition value as python-multipart's `parse_options_header`
 * reads them: split on `;` outside quotes, names lower-cased, values quoted (`\"` and `\\`
 * unescaped) or bare. Names with `*` (RFC 2231 forms) are left out, as there.
 */
function optionsOf(header: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const part of splitOutsideQuotes(header)) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    const key = part.slice(0, equals).trim().toLowerCase();
    if (key === '' || key.includes('*')) continue;
    let value = part.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(["\\])/g, '$1');
    options.set(key, value);
  }
  return options;
}

/** Linear: the parts are sliced out, never built a character at a time (a header may be MiBs). */
function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let at = 0; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (quoted && code === 0x5c) at += 1; // a backslash escapes the next character
    else if (code === 0x22) quoted = !quoted;
    else if (code === 0x3b && !quoted) {
      parts.push(text.slice(start, at));
      start = at + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A plain object (callers may use its prototype methods); names are set with defineProperty so
 *  `__proto__` stays an ordinary field. */
function emptyFields(): FormFields {
  return {};
}

function setField(fields: FormFields, name: string, value: string): void {
  Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
}
