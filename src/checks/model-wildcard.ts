/**
 * Wildcard model patterns (`openai/*`, `bedrock/us.*`, `*`).
 *
 * Deliberate difference (spec README §4.3): LiteLLM turns the pattern into an unescaped regex,
 * so `claude-3.5*` also matches `claude-345`. Tollgate treats only `*` as special; every other
 * character matches itself.
 */
/** Compiled patterns. Patterns come from DB rows, so the cache is bounded. */
const patternCache = new Map<string, RegExp>();
const PATTERN_CACHE_LIMIT = 2048;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function isWildcardModelPattern(pattern: string): boolean {
  return pattern.includes('*');
}

export function modelMatchesWildcard(model: string, pattern: string): boolean {
  if (!isWildcardModelPattern(pattern)) return false;
  let regex = patternCache.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`, 's');
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
    patternCache.set(pattern, regex);
  }
  return regex.test(model);
}
