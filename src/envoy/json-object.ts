/**
 * A request body's JSON object, parsed defensively: null for anything that is not a JSON object
 * nested at most `maxDepth` deep, never a throw.
 *
 * A large body is mostly its prompt (`messages`, `input`, …), which no check reads, and decoding
 * it is what makes a long-context request cost milliseconds: JSON.parse builds every message
 * object and copies every string, after the body was copied once already into a JS string.
 * `parseJsonObjectLeaving` steps over the values of the named top-level fields (json-text.ts)
 * and parses only the rest; a left value is decoded the first time something reads it.
 */
import type { Json, JsonObject } from '../domain/entities';
import { forEachMember, isContainerStart, isStringStart, skipWhitespace, type JsonText } from './json-text';

/** null for text that is not JSON, not an object, or nested deeper than `maxDepth`. */
export function parseJsonObject(text: string, maxDepth: number): JsonObject | null {
  let value: unknown;
  try {
    value = JSON.parse(text); // V8's parser is iterative: deep input cannot overflow the stack here
  } catch {
    return null;
  }
  if (!isJsonObject(value)) return null;
  return fewerOpenersThan(text, maxDepth) || !nestsDeeperThan(value, maxDepth) ? value : null;
}

/**
 * The same object as `parseJsonObject` gives for a well-formed body, with the string, object and
 * array values of the `leave` fields decoded only when read (a getter; enumerable, in the
 * member's place). The one difference: what is stepped over is checked only for its strings and
 * brackets closing and its depth, so a malformed value inside a left field (`[1,,2]`) no longer
 * makes the whole body invalid; its getter then gives null. Such a body reaches no model: the
 * upstream's own parser refuses it.
 */
export function parseJsonObjectLeaving(text: JsonText, leave: ReadonlySet<string>, maxDepth: number): JsonObject | null {
  const left: LeftValue[] = [];
  // A repeated key ends with its last value (JSON.parse's rule): a getter only where that one was left.
  const lastOfKey = new Map<string, LeftValue | null>();
  const end = forEachMember(
    text,
    (key, from, to) => {
      if (!leave.has(key)) return;
      const first = text.codeAt(from);
      const value = isContainerStart(first) || isStringStart(first) ? { key, from, to } : null;
      if (value !== null) left.push(value);
      lastOfKey.set(key, value);
    },
    maxDepth,
  );
  if (end === -1 || skipWhitespace(text, end) !== text.length) return null;
  if (left.length === 0) return parseJsonObject(text.slice(0, text.length), maxDepth);

  // The body with each left value replaced by `null`: JSON.parse checks the rest and keeps the order of keys.
  let rest = '';
  let at = 0;
  for (const value of left) {
    rest += `${text.slice(at, value.from)}null`;
    at = value.to;
  }
  rest += text.slice(at, text.length);
  const object = parseJsonObject(rest, maxDepth);
  if (object === null) return null;
  for (const value of lastOfKey.values()) if (value !== null) defineLazily(object, value, text);
  return object;
}

interface LeftValue {
  readonly key: string;
  readonly from: number;
  readonly to: number;
}

function defineLazily(object: JsonObject, value: LeftValue, text: JsonText): void {
  let decoded: Json | undefined;
  Object.defineProperty(object, value.key, {
    enumerable: true,
    configurable: true,
    get: (): Json => {
      if (decoded === undefined) decoded = decodeValue(text.slice(value.from, value.to));
      return decoded;
    },
  });
}

/** Its depth was bounded while stepping over it, and JSON.parse is iterative in any case. */
function decodeValue(literal: string): Json {
  try {
    return JSON.parse(literal) as Json;
  } catch {
    return null;
  }
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
