/**
 * Stepping over JSON without parsing it: where each top-level member of an object starts and
 * ends. A string's end is found with a native search for its next quote, so a prompt of many KiB
 * is crossed in a few hops instead of being decoded character by character.
 *
 * It reads the body as Envoy sent it, bytes (`raw_body`) or text (`body`): in UTF-8 the bytes of
 * `"`, `\` and the brackets never occur inside a multi-byte character, so the positions found in
 * the bytes are exact. It tells where values end in a well-formed document and notices a document
 * that stops being an object (an unclosed string, a mismatched or unclosed bracket, nesting past
 * a limit); it does not check what it steps over (a number's digits, a string's escapes): that is
 * left to JSON.parse for whatever is decoded.
 */

/** The body's characters (text) or bytes (raw_body), as this scanner needs them. */
export interface JsonText {
  readonly length: number;
  /** The UTF-16 unit or byte at `at` (`at` < length). */
  codeAt(at: number): number;
  /** Index of the first `"` at or after `from`, or -1. */
  quoteFrom(from: number): number;
  /** The text in [from, to), decoded. */
  slice(from: number, to: number): string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export class TextJson implements JsonText {
  constructor(private readonly text: string) {}

  get length(): number {
    return this.text.length;
  }

  codeAt(at: number): number {
    return this.text.charCodeAt(at);
  }

  quoteFrom(from: number): number {
    return this.text.indexOf('"', from);
  }

  slice(from: number, to: number): string {
    return this.text.slice(from, to);
  }
}

export class BytesJson implements JsonText {
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  codeAt(at: number): number {
    return this.bytes[at] as number;
  }

  quoteFrom(from: number): number {
    return this.bytes.indexOf(QUOTE, from);
  }

  slice(from: number, to: number): string {
    return this.bytes.toString('utf8', from, to);
  }
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

export function skipWhitespace(text: JsonText, from: number): number {
  let at = from;
  while (at < text.length && isWhitespace(text.codeAt(at))) at += 1;
  return at;
}

/**
 * Index of the quote closing the string whose opening quote is at `start`, or -1 if it is never
 * closed. A quote closes it when an even number of backslashes precede it; each run of
 * backslashes is counted once, so hostile input stays linear.
 */
export function stringEnd(text: JsonText, start: number): number {
  for (let from = start + 1; ; ) {
    const quote = text.quoteFrom(from);
    if (quote === -1) return -1;
    let before = quote - 1;
    while (before > start && text.codeAt(before) === BACKSLASH) before -= 1;
    if ((quote - 1 - before) % 2 === 0) return quote;
    from = quote + 1;
  }
}

/**
 * Index just past the object or array opening at `start`, or -1 when it is never closed, closes
 * with the wrong bracket, or nests deeper than `maxDepth` (`depth` is the depth of the container
 * itself, the document's root being 1).
 */
function containerEnd(text: JsonText, start: number, depth: number, maxDepth: number): number {
  if (depth > maxDepth) return -1;
  const closers: number[] = [closerOf(text.codeAt(start))];
  for (let at = start + 1; ; ) {
    const quote = text.quoteFrom(at);
    const stop = quote === -1 ? text.length : quote;
    // Between strings there is only punctuation, whitespace and literals: few characters.
    for (; at < stop; at += 1) {
      const code = text.codeAt(at);
      if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        closers.push(closerOf(code));
        if (depth + closers.length - 1 > maxDepth) return -1;
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        if (closers.pop() !== code) return -1;
        if (closers.length === 0) return at + 1;
      }
    }
    if (quote === -1) return -1;
    const end = stringEnd(text, quote);
    if (end === -1) return -1;
    at = end + 1;
  }
}

function closerOf(opener: number): number {
  return opener === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
}

export function isContainerStart(code: number): boolean {
  return code === OPEN_BRACE || code === OPEN_BRACKET;
}

export function isStringStart(code: number): boolean {
  return code === QUOTE;
}

/** Index just past the value starting at `start` (no whitespace before it), or -1. */
function valueEnd(text: JsonText, start: number, depth: number, maxDepth: number): number {
  if (start >= text.length) return -1;
  const code = text.codeAt(start);
  if (code === QUOTE) {
    const end = stringEnd(text, start);
    return end === -1 ? -1 : end + 1;
  }
  if (isContainerStart(code)) return containerEnd(text, start, depth, maxDepth);
  // A number, true, false or null: up to the next delimiter.
  let at = start;
  while (at < text.length) {
    const next = text.codeAt(at);
    if (next === COMMA || next === CLOSE_BRACE || next === CLOSE_BRACKET || isWhitespace(next)) break;
    at += 1;
  }
  return at === start ? -1 : at;
}

/** The key of a member (a string literal at [start, end]), decoded; null when it is not a valid string. */
function memberKey(text: JsonText, start: number, end: number): string | null {
  for (let at = start + 1; at < end; at += 1) {
    if (text.codeAt(at) === BACKSLASH) return decodeString(text.slice(start, end + 1));
  }
  return text.slice(start + 1, end);
}

export function decodeString(literal: string): string | null {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** Called for each top-level member: its decoded key and where its value lies, [from, to). */
export type MemberVisitor = (key: string, from: number, to: number) => void;

/**
 * Walks the members of the object that `text` holds, in order, reporting each one whose value is
 * complete. Returns the index just past the object's closing brace, or -1 as soon as the text
 * stops being an object or ends (a cut-off prefix); what was reported before that stands.
 */
export function forEachMember(text: JsonText, visit: MemberVisitor, maxDepth: number): number {
  let at = skipWhitespace(text, 0);
  if (at >= text.length || text.codeAt(at) !== OPEN_BRACE) return -1;
  at = skipWhitespace(text, at + 1);
  if (at < text.length && text.codeAt(at) === CLOSE_BRACE) return at + 1;
  for (;;) {
    if (at >= text.length || text.codeAt(at) !== QUOTE) return -1;
    const keyEnd = stringEnd(text, at);
    if (keyEnd === -1) return -1;
    const key = memberKey(text, at, keyEnd);
    if (key === null) return -1;
    at = skipWhitespace(text, keyEnd + 1);
    if (at >= text.length || text.codeAt(at) !== COLON) return -1;
    const from = skipWhitespace(text, at + 1);
    const to = valueEnd(text, from, 2, maxDepth);
    if (to === -1) return -1;
    visit(key, from, to);
    at = skipWhitespace(text, to);
    if (at >= text.length) return -1;
    const next = text.codeAt(at);
    if (next === CLOSE_BRACE) return at + 1;
    if (next !== COMMA) return -1;
    at = skipWhitespace(text, at + 1);
  }
}
