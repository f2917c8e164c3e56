/**
 * The value of a top-level string field in a JSON object that may be cut off anywhere
 * (Envoy's `allow_partial_message`).
 */
import { decodeString, forEachMember, isStringStart, TextJson } from './json-text';

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
