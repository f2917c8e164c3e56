/**
 * Which numbers of a verified token's payload were written as floats (`1.0`, `1e3`, `2.5`).
 *
 * Python's json reads `1.0` as the float 1.0, whose `str()` is "1.0"; JSON.parse reads it as the
 * number 1, whose String is "1", the text of the integer `1`. LiteLLM formats claims with Python
 * (`Team={team_id}`, `str(claim)` for a key mapping), so a claim written `1.0` must not be read as
 * the claim written `1`: that is another team's id, another client's mapping. Only the payload's
 * text tells them apart, so it is scanned once per verified token and the answer kept beside the
 * parsed claims, keyed by the object or list that holds each such number.
 *
 * Claims Envoy's jwt_authn verified arrive as a protobuf Struct, whose numbers are all doubles:
 * their text is gone, and every integral number there reads as an integer.
 */
import { pyFloat, pyRepr } from '../../checks/python-format';
import type { Json, JsonObject } from '../../domain/entities';

type Key = string | number;

/** Per object or list of a verified payload: the keys whose numbers were written as floats. */
const FLOAT_KEYS = new WeakMap<object, Set<Key>>();

/** Whether `container[key]` is a number the payload wrote as a float. */
export function isWrittenFloat(container: object, key: Key): boolean {
  return FLOAT_KEYS.get(container)?.has(key) === true;
}

/**
 * Records which numbers of `claims` the token's payload segment wrote as floats. `claims` must be
 * that segment's JSON.parse (jose's payload); nothing is recorded when the segment cannot be read.
 */
export function markWrittenFloats(claims: JsonObject, token: string): void {
  const segment = token.split('.')[1];
  if (segment === undefined) return;
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  // Cheap test first: a float's text has a digit before its '.', 'e' or 'E'.
  if (!/\d[.eE]/.test(text)) return;
  let paths: Map<string, readonly Key[] | null>;
  try {
    paths = floatPathsOf(text);
  } catch {
    return;
  }
  for (const path of paths.values()) {
    if (path === null) continue;
    const container = containerAt(claims, path);
    const key = path[path.length - 1] as Key;
    if (container === null) continue;
    const keys = FLOAT_KEYS.get(container) ?? new Set<Key>();
    keys.add(key);
    FLOAT_KEYS.set(container, keys);
  }
}

/** The object or list holding the value at `path` in the parsed claims, or null. */
function containerAt(claims: JsonObject, path: readonly Key[]): object | null {
  let current: Json = claims;
  for (const key of path.slice(0, -1)) {
    if (current === null || typeof current !== 'object') return null;
    const next: Json | undefined = Array.isArray(current) ? current[key as number] : Object.hasOwn(current, key) ? current[key as string] : undefined;
    if (next === undefined) return null;
    current = next;
  }
  return current !== null && typeof current === 'object' ? current : null;
}

/**
 * Every value's path in the JSON text (keyed by the path's JSON), each mapped to the path when the
 * value is a number written as a float, else null. A key repeated in an object is kept as JSON.parse
 * keeps it, the last one: each path's last value in the text is the one the parsed claims hold.
 */
export function floatPathsOf(text: string): Map<string, readonly Key[] | null> {
  const paths = new Map<string, readonly Key[] | null>();
  let at = 0;
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at += 1;
  };
  const readString = (): string => {
    const start = at;
    at += 1;
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at += 1;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const record = (path: readonly Key[], float: boolean): void => {
    const id = JSON.stringify(path);
    // Deleting first keeps a repeated key's last value last in the map, as in the text.
    paths.delete(id);
    paths.set(id, float ? path : null);
  };
  const readValue = (path: Key[]): void => {
    skipSpace();
    const char = text[at];
    if (char === '{') {
      record(path, false);
      at += 1;
      skipSpace();
      if (text[at] === '}') {
        at += 1;
        return;
      }
      for (;;) {
        skipSpace();
        const key = readString();
        skipSpace();
        at += 1; // ':'
        readValue([...path, key]);
        skipSpace();
        if (text[at++] === '}') return;
      }
    }
    if (char === '[') {
      record(path, false);
      at += 1;
      skipSpace();
      if (text[at] === ']') {
        at += 1;
        return;
      }
      for (let index = 0; ; index += 1) {
        readValue([...path, index]);
        skipSpace();
        if (text[at++] === ']') return;
      }
    }
    if (char === '"') {
      readString();
      record(path, false);
      return;
    }
    const start = at;
    while (at < text.length && !',}] \t\n\r'.includes(text[at] as string)) at += 1;
    const token = text.slice(start, at);
    if (token === '') throw new SyntaxError('JSON value expected');
    record(path, /^-?\d/.test(token) && /[.eE]/.test(token));
  };
  readValue([]);
  return paths;
}

/**
 * Python's `str()` of a claim value (`pyStr`), reading every number as the payload wrote it: a
 * float (`floatHere` for the value itself, the recorded marks for what a list or object holds)
 * prints as Python prints a float, `1.0`, `1e+16`.
 */
export function pyStrOfClaim(value: Json, floatHere: boolean): string {
  return typeof value === 'string' ? value : pyReprOfClaim(value, floatHere);
}

function pyReprOfClaim(value: Json, float: boolean): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return pyRepr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return float || !Number.isInteger(value) || Math.abs(value) >= 1e16 ? pyFloat(value) : String(value);
  if (Array.isArray(value)) return `[${value.map((item, index) => pyReprOfClaim(item, isWrittenFloat(value, index))).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${pyRepr(key)}: ${pyReprOfClaim(item as Json, isWrittenFloat(value, key))}`)
    .join(', ')}}`;
}
