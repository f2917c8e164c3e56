/**
 * Wildcard model patterns (`openai/*`, `bedrock/us.*`, `*`).
 *
 * Deliberate difference (spec README §4.3): LiteLLM turns the pattern into an unescaped regex,
 * so `claude-3.5*` also matches `claude-345`. Tollgate treats only `*` as special; every other
 * character matches itself.
 */

export function isWildcardModelPattern(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * LiteLLM matches `re.match(f"^{pattern with * as .*}$", model)`: `.` never matches a newline and
 * `$` matches just before a final one. A model naming a newline elsewhere therefore matches no
 * pattern (unless the pattern spells the newline out itself; then `*` may span it, as here).
 */
export function modelMatchesWildcard(model: string, pattern: string): boolean {
  if (!isWildcardModelPattern(pattern)) return false;
  if (model.includes('\n') && !pattern.includes('\n')) {
    return model.indexOf('\n') === model.length - 1 && globMatches(model.slice(0, -1), pattern);
  }
  return globMatches(model, pattern);
}

/**
 * Whole-string match where `*` is any run of characters (newlines included) and every other
 * character matches itself. Patterns come from database rows, so this must not be a
 * backtracking regex: `^a.*a.*a.*…b$` takes exponential time on `aaaa…c`. Backtracking only to
 * the last `*` seen keeps the worst case at O(model length × pattern length).
 */
export function globMatches(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let star = -1; // index of the last `*` in the pattern
  let resume = 0; // where in the text that `*` stopped consuming
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = t;
      p += 1;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p += 1;
      t += 1;
    } else if (star !== -1) {
      // Let the last `*` swallow one more character and retry the rest of the pattern.
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}
