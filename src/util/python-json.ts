/**
 * What Python's `json.loads` accepts beyond JSON, and LiteLLM's body reader therefore reads: the
 * bare constants `NaN`, `Infinity` and `-Infinity` (LiteLLM falls back from orjson to `json.loads`
 * "which is more forgiving"). A body JSON.parse refuses for them alone would otherwise be read as
 * no body at all, and every body check (banned `api_base`, tools, tags) would see nothing.
 */

const CONSTANTS = ['-Infinity', 'Infinity', 'NaN'] as const;

function isWordChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

/**
 * The text with each of those constants outside strings written as `null` (no check reads a
 * non-finite number); null when it holds none, so the caller knows a retry cannot help.
 */
export function withNonFiniteAsNull(text: string): string | null {
  let out = '';
  let from = 0;
  let found = false;
  let inString = false;
  for (let at = 0; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === 0x5c) at += 1; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) {
      inString = true;
      continue;
    }
    if (code !== 0x2d && code !== 0x49 && code !== 0x4e) continue; // '-', 'I', 'N'
    const constant = CONSTANTS.find((name) => text.startsWith(name, at));
    if (constant === undefined) continue;
    const before = at === 0 ? -1 : text.charCodeAt(at - 1);
    const after = at + constant.length < text.length ? text.charCodeAt(at + constant.length) : -1;
    if (isWordChar(before) || isWordChar(after)) continue;
    out += `${text.slice(from, at)}null`;
    from = at + constant.length;
    at = from - 1;
    found = true;
  }
  return found ? out + text.slice(from) : null;
}

/** `json.loads` of a short JSON text (a metadata string): JSON.parse, else with those constants as null; undefined when neither reads it. */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const pythonic = withNonFiniteAsNull(text);
    if (pythonic === null) return undefined;
    try {
      return JSON.parse(pythonic);
    } catch {
      return undefined;
    }
  }
}
