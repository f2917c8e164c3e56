/**
 * Form bodies. LiteLLM parses any content type containing "form" with Starlette's `request.form()`
 * and uses `dict(form)` as the request body (http_parsing_utils._read_request_body): that is how
 * `/audio/transcriptions` carries `model`. Text fields only; file parts are skipped. Duplicate
 * names: last wins, as in `dict(form)`.
 */

const MAX_PARTS = 1000;

export type FormFields = Record<string, string>;

/** Parsed fields, or null when the content type is not a form Starlette would parse.
 *  With `complete: false` (a truncated prefix) a field cut off at the end is dropped. */
export function parseFormBody(bytes: Buffer, contentType: string, complete: boolean): FormFields | null {
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return parseUrlEncoded(bytes.toString('utf8'), complete);
  if (type === 'multipart/form-data') {
    const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    return boundary ? parseMultipart(bytes, boundary[1] ?? boundary[2]) : {};
  }
  return contentType.includes('form') ? {} : null;
}

function parseUrlEncoded(text: string, complete: boolean): FormFields {
  const pairs = text.split('&');
  if (!complete) pairs.pop(); // the last pair may be cut mid-value
  const out = emptyFields();
  let count = 0;
  for (const [name, value] of new URLSearchParams(pairs.join('&'))) {
    if ((count += 1) > MAX_PARTS) break;
    setField(out, name, value);
  }
  return out;
}

/** Only parts followed by a delimiter are complete, so a truncated prefix yields its whole fields. */
function parseMultipart(bytes: Buffer, boundary: string): FormFields {
  const out = emptyFields();
  const delimiter = Buffer.from(`--${boundary}`);
  const nextPart = Buffer.from(`\r\n--${boundary}`);
  let at = bytes.indexOf(delimiter);
  for (let parts = 0; at !== -1 && parts < MAX_PARTS; parts += 1) {
    const headersStart = at + delimiter.length + 2; // past "--boundary\r\n"
    if (bytes.subarray(at + delimiter.length, headersStart).toString('latin1') !== '\r\n') break; // "--" closes
    const headersEnd = bytes.indexOf('\r\n\r\n', headersStart);
    if (headersEnd === -1) break;
    const contentEnd = bytes.indexOf(nextPart, headersEnd + 4);
    if (contentEnd === -1) break;
    const partHeaders = bytes.subarray(headersStart, headersEnd).toString('utf8');
    const disposition = /^content-disposition:(.*)$/im.exec(partHeaders)?.[1] ?? '';
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined && !/(?:^|;)\s*filename\*?=/i.test(disposition)) {
      setField(out, name, bytes.subarray(headersEnd + 4, contentEnd).toString('utf8'));
    }
    at = contentEnd + 2;
  }
  return out;
}

/** A plain object (callers may use its prototype methods); names are set with defineProperty so
 *  `__proto__` stays an ordinary field. */
function emptyFields(): FormFields {
  return {};
}

function setField(fields: FormFields, name: string, value: string): void {
  Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
}
