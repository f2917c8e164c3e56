/**
 * Small, iterative JSON helpers for bodies we must not (or cannot) hand to JSON.parse as a whole.
 */

/**
 * The value of a top-level string field in a JSON object that may be cut off anywhere
 * (Envoy's `allow_partial_message`). Clients put `"model"` first, so a few KiB of prefix is
 * usually enough (field-notes.md §6). Returns the last complete occurrence seen, mirroring
 * JSON.parse's last-wins rule for what is visible; null when the prefix is not an object, the
 * field is absent, cut off, or not a string. Linear time, constant stack.
 */
export function scanTopLevelString(text: string, field: string): string | null {
  let found: string | null = null;
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return null;
  i += 1;
  for (;;) {
    i = skipWhitespace(text, i);
    if (i >= text.length || text[i] === '}') return found;
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text[i] !== '"') return found;
    const keyEnd = stringEnd(text, i);
    if (keyEnd === -1) return found;
    const key = decodeString(text.slice(i, keyEnd + 1));
    i = skipWhitespace(text, keyEnd + 1);
    if (text[i] !== ':') return found;
    i = skipWhitespace(text, i + 1);
    if (i >= text.length) return found;
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end === -1) return found;
      if (key === field) found = decodeString(text.slice(i, end + 1)) ?? found;
      i = end + 1;
    } else if (c === '{' || c === '[') {
      i = compositeEnd(text, i);
      if (i === -1) return found;
    } else {
      // number, true, false, null: runs until the next delimiter
      while (i < text.length && !/[,}\s]/.test(text[i])) i += 1;
    }
  }
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i += 1;
  return i;
}

/** Index of the closing quote of the string starting at `start`, or -1 if it is cut off. */
function stringEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j += 1) {
    if (text[j] === '\\') j += 1;
    else if (text[j] === '"') return j;
  }
  return -1;
}

/** Index just past the object/array starting at `start`, or -1 if it is cut off. */
function compositeEnd(text: string, start: number): number {
  let depth = 0;
  for (let j = start; j < text.length; j += 1) {
    const c = text[j];
    if (c === '"') {
      j = stringEnd(text, j);
      if (j === -1) return -1;
    } else if (c === '{' || c === '[') {
      depth += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

function decodeString(literal: string): string | null {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}
