/**
 * The end user (LiteLLM "customer") a request is made for:
 * auth_utils.get_end_user_id_from_request_body (litellm-auth.md §7.2). First hit wins; headers beat body.
 * Every source passes through the newest LiteLLM's `_coerce_user_id_to_str`: a string is stripped,
 * and a blank string, a boolean, an object or a list names nobody, so the next source is read.
 */
import type { Settings } from '../config/settings';
import type { Json } from '../domain/entities';
import { headerValue, type HeaderRecord } from './headers';
import { metadataAsObject } from '../checks/request-metadata';
import { pyFloat, pyStr } from '../checks/python-format';
import { pyStrip } from '../util/python-strip';
import type { EndUserLiterals } from './end-user-literals';

export type EndUserSettings = { readonly credentials: Pick<Settings['credentials'], 'customerHeaderMappings' | 'userHeaderName' | 'dropJsonEndUserIds'> };

type Body = Readonly<Record<string, Json>> | null;

/** constants.STANDARD_CUSTOMER_ID_HEADERS: always on, no configuration needed (e.g. Claude Code). */
const STANDARD_CUSTOMER_HEADERS = ['x-litellm-customer-id', 'x-litellm-end-user-id'] as const;

/** `literals`: the end-user ids the body wrote as numbers, as written (envoy/end-user-literals.ts). */
export function getEndUserId(headers: HeaderRecord, body: Body, settings: EndUserSettings, literals?: EndUserLiterals): string | null {
  const dropJson = settings.credentials.dropJsonEndUserIds;
  return fromHeaders(headers, settings, dropJson) ?? fromBody(body, literals, dropJson);
}

function fromHeaders(headers: HeaderRecord, settings: EndUserSettings, dropJson: boolean): string | null {
  for (const name of STANDARD_CUSTOMER_HEADERS) {
    const value = strippedId(asStarletteReadsIt(headerValue(headers, name)), dropJson);
    if (value !== null) return value;
  }
  // user_header_mappings entries with role "customer" win; the deprecated user_header_name is the fallback.
  const { customerHeaderMappings, userHeaderName } = settings.credentials;
  const configured = customerHeaderMappings.length > 0 ? customerHeaderMappings : userHeaderName ? [userHeaderName] : [];
  for (const name of configured) {
    const value = strippedId(asStarletteReadsIt(headerValue(headers, name)), dropJson);
    if (value !== null) return value;
  }
  return null;
}

/**
 * A header value as LiteLLM's Starlette decodes it: its bytes as Latin-1. `josé` sent in UTF-8 names
 * the end user `josÃ©` there, so another row (usually none) than the `josé` a body names. Bytes
 * that were not UTF-8 reach Tollgate already replaced by U+FFFD and cannot be read back.
 */
function asStarletteReadsIt(value: string | undefined): string | undefined {
  return value === undefined || !/[\u0080-\uffff]/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * body.user → body.litellm_metadata.user → body.metadata.user_id → body.safety_identifier.
 * Metadata sent as a JSON string (multipart forms, extra_body) is parsed, as newer LiteLLM does,
 * so it cannot dodge attribution.
 */
function fromBody(body: Body, literals: EndUserLiterals | undefined, dropJson: boolean): string | null {
  if (body === null) return null;
  return (
    idOf(field(body, 'user'), dropJson, literals?.user) ??
    idOf(field(metadataAsObject(field(body, 'litellm_metadata')), 'user'), dropJson, literals?.litellmMetadataUser) ??
    idOf(field(metadataAsObject(field(body, 'metadata')), 'user_id'), dropJson, literals?.metadataUserId) ??
    idOf(field(body, 'safety_identifier'), dropJson, literals?.safetyIdentifier)
  );
}

function field(object: Readonly<Record<string, Json>> | null, name: string): Json | undefined {
  return object !== null && Object.hasOwn(object, name) ? object[name] : undefined;
}

/**
 * `_coerce_user_id_to_str`: a string stripped as Python's `str.strip()` does (`" bob "` names `bob`),
 * a number by Python's `str()`. A blank string, `true`/`false`, an object or a list gives null, and
 * the next source is read: older LiteLLM named the end user `True` or `{'id': 'x'}` (`str()` of
 * anything not None) and stopped at `""`; the newest drops them (Claude Code's metadata blob).
 */
function idOf(value: Json | undefined, dropJson: boolean, literal?: string): string | null {
  if (typeof value === 'string') return strippedId(value, dropJson);
  if (typeof value === 'number') return literal !== undefined ? pythonNumberText(literal) : pyStr(value);
  return null;
}

/**
 * Python's `str()` of a JSON number as written: an integer literal exactly (Python ints have no
 * size limit: `1234567890123456789`, where a JavaScript number gives `1234567890123456800`), a
 * float as `repr(float)` (`1.0`, `1e+16`). JSON allows no leading zeros, so an integer literal is
 * already Python's text, `-0` aside; it is not converted (a million digits would take seconds).
 */
function pythonNumberText(literal: string): string {
  if (/^-?\d+$/.test(literal)) return literal === '-0' ? '0' : literal;
  // Past float's range Python reads `inf`, and str() prints it so.
  return pyFloat(Number(literal));
}

/**
 * A header's value or a body string, stripped; null when nothing is left. With
 * `validate_end_user_id_in_db` on, also null when it decodes to a JSON object or array (Claude
 * Code's `metadata.user_id` blob): the next source is then read, as LiteLLM's `_coerce_user_id_to_str`
 * does before any database lookup. Off, such a string names the end user as written.
 */
function strippedId(value: string | undefined, dropJson: boolean): string | null {
  if (value === undefined) return null;
  const stripped = pyStrip(value);
  if (stripped === '') return null;
  return dropJson && decodesToJsonContainer(stripped) ? null : stripped;
}

/**
 * Whether Python's `json.loads` reads `text` as a dict or a list. Python also accepts the bare
 * `NaN`, `Infinity` and `-Infinity` JSON.parse refuses, so those are read as numbers outside strings
 * before the second try. `{not json` is no container: it stays an id.
 */
export function decodesToJsonContainer(text: string): boolean {
  if (text[0] !== '{' && text[0] !== '[') return false;
  return parsesAsContainer(text) || parsesAsContainer(text.replace(PYTHON_JSON_CONSTANTS, (token) => (token.startsWith('"') ? token : '0')));
}

/**
 * A JSON string literal (kept whole, so a constant inside it is left alone), or one of Python's
 * extra constants where a whole value stands (after `[`, `,` or `:`, before `,`, `]` or `}`):
 * Python refuses `[1NaN]`, `[-NaN]` and `[0.NaN]`, which a bare replacement would make numbers.
 */
const PYTHON_JSON_CONSTANTS = /"(?:[^"\\]|\\.)*"|(?<=[[,:][ \t\n\r]*)(?:-?Infinity|NaN)(?=[ \t\n\r]*[,\]}])/g;

function parsesAsContainer(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null;
  } catch {
    return false;
  }
}
