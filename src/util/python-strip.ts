/**
 * Python's `str.strip()`, for ids LiteLLM strips before it compares them (model names, end-user ids).
 */

/** The characters Python's `str.strip()` removes (`str.isspace`): not JavaScript's trim set (U+FEFF is not one, U+001C–U+001F and U+0085 are). */
const PY_WHITESPACE = '\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** Python's `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_WHITESPACE.includes(text[start])) start += 1;
  while (end > start && PY_WHITESPACE.includes(text[end - 1])) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
