/**
 * What a JSON object cut off anywhere shows (Envoy's `allow_partial_message`). Clients put
 * `"model"` first, so a few KiB of prefix is usually enough to find it (field-notes.md §6); the
 * walk is linear in time with a constant stack, and nesting past `maxDepth` ends it as a whole
 * body would be refused for it.
 */
import type { JsonObject } from '../domain/entities';
import { parsePythonJson } from '../util/python-json';
import { decodeString, forEachMember, isContainerStart, isStringStart, TextJson } from './json-text';

/** What a cut-off JSON object shows: its whole members, and its top-level `model` string. */
export interface PrefixReading {
  /** Null when the prefix does not start an object. */
  readonly body: JsonObject | null;
  /** The last whole top-level `model` that is a string; null when none (or it does not decode). */
  readonly model: string | null;
}

/**
 * The members of a cut-off JSON object that are whole in the prefix, as an object, so that the
 * body checks see what the prefix shows (a banned `api_base` before the prompt, `user`, tools,
 * tags), and its `model` from the same walk. Left out: the `skip` fields (the prompt, which no
 * check reads), a member whose value could continue past the cut (the last one, when it reaches
 * the end), and a value that does not parse. Repeated keys: the last one seen wins. Each key's
 * value is parsed once, and a prefix of more than MAX_PREFIX_KEYS distinct keys shows none (no
 * chat body has that many; a hostile one would cost a parse each).
 */
export function readPrefix(prefix: string, skip: ReadonlySet<string>, maxDepth: number): PrefixReading {
  const text = new TextJson(prefix);
  const lastOfKey = new Map<string, Span>();
  // Written in place for every member: a hostile prefix may hold hundreds of thousands of them.
  const cut = { key: '', from: -1, to: -1, overflow: false, modelFrom: -1, modelTo: -1 };
  const end = forEachMember(
    text,
    (key, from, to) => {
      cut.key = key;
      cut.from = from;
      cut.to = to;
      if (key === 'model' && isStringStart(text.codeAt(from))) {
        cut.modelFrom = from;
        cut.modelTo = to;
      }
      if (cut.overflow || skip.has(key)) return;
      lastOfKey.set(key, { from, to });
      if (lastOfKey.size > MAX_PREFIX_KEYS) cut.overflow = true;
    },
    maxDepth,
  );
  const model = cut.modelFrom === -1 ? null : decodeString(text.slice(cut.modelFrom, cut.modelTo));
  if (end === -1 && cut.from === -1 && !startsObject(prefix)) return { body: null, model };
  const object: JsonObject = {};
  if (cut.overflow) return { body: object, model };
  // A string or container that reached the cut was closed before it; a number or literal may go on.
  if (end === -1 && cut.from !== -1 && cut.to >= prefix.length && !isWholeAtCut(text.codeAt(cut.from)) && lastOfKey.get(cut.key)?.from === cut.from) {
    lastOfKey.delete(cut.key);
  }
  for (const [key, { from, to }] of lastOfKey) {
    const value = parsePythonJson(prefix.slice(from, to));
    if (value === undefined) continue;
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { body: object, model };
}

const MAX_PREFIX_KEYS = 256;

interface Span {
  readonly from: number;
  readonly to: number;
}

function isWholeAtCut(first: number): boolean {
  return isStringStart(first) || isContainerStart(first);
}

function startsObject(prefix: string): boolean {
  return prefix.trimStart().startsWith('{');
}
