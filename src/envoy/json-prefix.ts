/**
 * The value of a top-level string field in a JSON object that may be cut off anywhere
 * (Envoy's `allow_partial_message`).
 */
import type { JsonObject } from '../domain/entities';
import { parsePythonJson } from '../util/python-json';
import { decodeString, forEachMember, isContainerStart, isStringStart, TextJson } from './json-text';

/**
 * Clients put `"model"` first, so a few KiB of prefix is usually enough (field-notes.md §6).
 * Returns the last complete occurrence seen, mirroring JSON.parse's last-wins rule for what is
 * visible; null when the prefix is not an object, the field is absent, cut off, or not a string.
 * Linear time, constant stack; nesting past `maxDepth` ends the scan as a whole body would be
 * refused for it.
 */
export function scanTopLevelString(prefix: string, field: string, maxDepth: number): string | null {
  const text = new TextJson(prefix);
  let found: string | null = null;
  forEachMember(
    text,
    (key, from, to) => {
      if (key === field && isStringStart(text.codeAt(from))) found = decodeString(text.slice(from, to)) ?? found;
    },
    maxDepth,
  );
  return found;
}

/**
 * The members of a cut-off JSON object that are whole in the prefix, as an object, so that the
 * body checks see what the prefix shows (a banned `api_base` before the prompt, `user`, tools,
 * tags). Left out: the `skip` fields (the prompt, which no check reads), a member whose value
 * could continue past the cut (the last one, when it reaches the end), and a value that does not
 * parse. Null when the prefix does not start an object. Repeated keys: the last one seen wins.
 */
export function readCompleteMembers(prefix: string, skip: ReadonlySet<string>, maxDepth: number): JsonObject | null {
  const text = new TextJson(prefix);
  const members: Array<{ key: string; from: number; to: number }> = [];
  const end = forEachMember(text, (key, from, to) => members.push({ key, from, to }), maxDepth);
  if (end === -1 && members.length === 0 && !startsObject(prefix)) return null;
  // A string or container that reached the cut was closed before it; a number or literal may go on.
  const last = members.at(-1);
  if (end === -1 && last !== undefined && last.to >= prefix.length && !isWholeAtCut(text.codeAt(last.from))) members.pop();
  const object: JsonObject = {};
  for (const { key, from, to } of members) {
    if (skip.has(key)) continue;
    const value = parsePythonJson(prefix.slice(from, to));
    if (value === undefined) continue;
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

function isWholeAtCut(first: number): boolean {
  return isStringStart(first) || isContainerStart(first);
}

function startsObject(prefix: string): boolean {
  return prefix.trimStart().startsWith('{');
}
