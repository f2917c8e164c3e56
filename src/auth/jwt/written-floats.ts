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

/** jose's payload decoding: UTF-8, invalid bytes refused, a leading byte order mark dropped. */
const PAYLOAD_DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Records which numbers of `claims` the token's payload segment wrote as floats. `claims` must be
 * that segment's JSON.parse (jose's payload), so the text is decoded as jose decodes it: a byte
 * order mark it drops (as Python's json does) would otherwise hide every float. Nothing is
 * recorded when the segment cannot be read.
 */
export function markWrittenFloats(claims: JsonObject, token: string): void {
  const segment = token.split('.')[1];
  if (segment === undefined) return;
  let shape: Shape;
  try {
    const text = PAYLOAD_DECODER.decode(Buffer.from(segment, 'base64url'));
    // Cheap test first: a float's text has a digit before its '.', 'e' or 'E'.
    if (!/\d[.eE]/.test(text)) return;
    shape = shapeOf(text);
  } catch {
    return;
  }
  // The shape keeps what JSON.parse keeps, so its containers pair with the claims' one for one.
  const pending: [Shape, object][] = [[shape, claims]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, container] = next;
    if (node.floats.size > 0) FLOAT_KEYS.set(container, node.floats);
    for (const [key, child] of node.children) {
      const value: unknown = Array.isArray(container) ? container[key as number] : Object.hasOwn(container, key) ? (container as JsonObject)[key as string] : null;
      if (value !== null && typeof value === 'object') pending.push([child, value]);
    }
  }
}

/**
 * A JSON object or list as the text wrote it: the keys of its numbers written as floats, and the
 * containers within it that hold some. A repeated key keeps its last value, as JSON.parse keeps it.
 */
interface Shape {
  readonly floats: Set<Key>;
  readonly children: Map<Key, Shape>;
}

/** An object or list being read: its shape, the key it has in its parent, the next list index. */
interface Open {
  readonly shape: Shape;
  readonly list: boolean;
  readonly key: Key;
  index: number;
  first: boolean;
}

/**
 * The shape of a JSON text, read without recursion (a payload nested thousands deep costs one pass,
 * as JSON.parse reads it). Malformed text throws: it is never what jose parsed.
 */
function shapeOf(text: string): Shape {
  let at = 0;
  const fail = (): never => {
    throw new SyntaxError(`Unexpected JSON at position ${at}`);
  };
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at += 1;
  };
  const readString = (): string => {
    const start = at;
    at += 1;
    for (;;) {
      if (at >= text.length) fail();
      if (text[at] === '"') break;
      at += text[at] === '\\' ? 2 : 1;
    }
    at += 1;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const root: Shape = { floats: new Set(), children: new Map() };
  const open: Open[] = [];
  /** Reads the value at `at` into `parent` under `key`; an object or list is opened, not read. */
  const readValue = (parent: Open | null, key: Key): void => {
    const char = text[at];
    parent?.shape.floats.delete(key);
    parent?.shape.children.delete(key);
    if (char === '{' || char === '[') {
      at += 1;
      const shape = parent === null ? root : { floats: new Set<Key>(), children: new Map<Key, Shape>() };
      parent?.shape.children.set(key, shape);
      open.push({ shape, list: char === '[', key, index: 0, first: true });
      return;
    }
    if (char === '"') {
      readString();
      return;
    }
    const start = at;
    while (at < text.length && !',}] \t\n\r'.includes(text[at] as string)) at += 1;
    const token = text.slice(start, at);
    if (token === '') fail();
    if (/^-?\d/.test(token) && /[.eE]/.test(token)) parent?.shape.floats.add(key);
  };
  skipSpace();
  readValue(null, '');
  for (let current = open.at(-1); current !== undefined; current = open.at(-1)) {
    skipSpace();
    const close = current.list ? ']' : '}';
    if (text[at] === close) {
      at += 1;
      open.pop();
      // A container holding no float is dropped: the walk over the claims never visits it.
      const parent = open.at(-1);
      if (parent !== undefined && current.shape.floats.size === 0 && current.shape.children.size === 0) parent.shape.children.delete(current.key);
      continue;
    }
    if (!current.first) {
      if (text[at] !== ',') fail();
      at += 1;
      skipSpace();
    }
    current.first = false;
    let key: Key;
    if (current.list) {
      key = current.index;
      current.index += 1;
    } else {
      if (text[at] !== '"') fail();
      key = readString();
      skipSpace();
      if (text[at] !== ':') fail();
      at += 1;
      skipSpace();
    }
    readValue(current, key);
  }
  skipSpace();
  if (at !== text.length) fail();
  return root;
}

/** Each number the JSON text wrote as a float, by its path, where JSON.parse keeps it. */
export function floatPathsOf(text: string): (readonly Key[])[] {
  interface Step {
    readonly key: Key;
    readonly up: Step | null;
  }
  const pathTo = (step: Step | null, key: Key): Key[] => {
    const path = [key];
    for (let at = step; at !== null; at = at.up) path.push(at.key);
    return path.reverse();
  };
  const paths: (readonly Key[])[] = [];
  const pending: [Shape, Step | null][] = [[shapeOf(text), null]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [shape, step] = next;
    for (const key of shape.floats) paths.push(pathTo(step, key));
    for (const [key, child] of shape.children) pending.push([child, { key, up: step }]);
  }
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
