/**
 * The route-matching primitives of LiteLLM's `route_checks.py::RouteChecks`, one function each.
 * Classifiers (`classify.ts`) combine them exactly as LiteLLM does.
 */

/**
 * Python's `$`: the end, or just before a final newline. A route whose path ended in `%0A`
 * (`/engines/m/chat/completions\n`) matches LiteLLM's patterns, and Starlette serves it.
 */
const PYTHON_END = '\\n?$';

const templateRegexCache = new Map<string, RegExp | null>();

/**
 * LiteLLM `_route_matches_pattern`: `{name}` matches one path segment (`[^/]+`), `{name:path}`
 * matches anything up to a `:` (`[^:]+`), and the whole route must match.
 *
 * LiteLLM: the rest of the template is used as a regex *without escaping*, so the `?` in
 * `/realtime?{model}` makes the `e` optional and `.` matches any character but a newline (withPythonDots). We copy that on
 * purpose: this decides which routes count as LLM routes, and the templates are LiteLLM's own
 * static lists, so the quirk is part of the behaviour being reproduced.
 */
export function routeMatchesPlaceholderTemplate(route: string, template: string): boolean {
  let regex = templateRegexCache.get(template);
  if (regex === undefined) {
    const source = withPythonDots(template).replace(/\{[^}]+\}/g, (placeholder) =>
      placeholder.slice(1, -1).endsWith(':path') ? '[^:]+' : '[^/]+',
    );
    try {
      regex = new RegExp(`^${source}${PYTHON_END}`);
    } catch {
      // Python would raise and LiteLLM would treat the route as not matching.
      regex = null;
    }
    templateRegexCache.set(template, regex);
  }
  return regex !== null && regex.test(route);
}

/**
 * A pattern's `.` as Python reads it, `[^\n]`: JavaScript's also stops at `\r` and U+2028/2029, so
 * `/realtime.x` would miss a route LiteLLM matches. Escaped dots and dots in a class are left.
 */
function withPythonDots(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let at = 0; at < pattern.length; at += 1) {
    const char = pattern[at];
    if (char === '\\') {
      out += pattern.slice(at, at + 2);
      at += 1;
    } else if (inClass) {
      if (char === ']') inClass = false;
      out += char;
    } else if (char === '[') {
      inClass = true;
      // A `]` first in a class is a literal in Python (and in JavaScript, as `\]`).
      if (pattern[at + 1] === ']') {
        out += '[\\]';
        at += 1;
        continue;
      }
      out += char;
    } else {
      out += char === '.' ? '[^\n]' : char;
    }
  }
  return out;
}

/** LiteLLM `_is_wildcard_pattern`: a pattern ending in `*`. */
export function isWildcardRoutePattern(pattern: string): boolean {
  return pattern.endsWith('*');
}

/** LiteLLM `_route_matches_wildcard_pattern`: trailing `*` is a prefix match; otherwise equality. */
export function routeMatchesWildcardPattern(route: string, pattern: string): boolean {
  if (isWildcardRoutePattern(pattern)) return route.startsWith(pattern.slice(0, -1));
  return route === pattern;
}

/**
 * LiteLLM `_route_matches_allowed_route`: exact, or a sub-path of the entry. The `/` keeps
 * `/fake-proxy-6` from admitting `/fake-proxy-600`.
 */
export function routeMatchesAllowedRoute(route: string, allowedRoute: string): boolean {
  return route === allowedRoute || route.startsWith(`${allowedRoute}/`);
}

/**
 * LiteLLM `check_route_access`: exact membership, a trailing-`*` entry as a prefix, or any entry
 * as a placeholder template.
 */
export function checkRouteAccess(route: string, allowedRoutes: readonly string[]): boolean {
  if (allowedRoutes.includes(route)) return true;
  if (allowedRoutes.some((entry) => isWildcardRoutePattern(entry) && routeMatchesWildcardPattern(route, entry))) {
    return true;
  }
  return allowedRoutes.some((entry) => routeMatchesPlaceholderTemplate(route, entry));
}

const starletteRegexCache = new Map<string, RegExp>();

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Starlette `compile_path(template)` followed by `regex.match(route)`, as LiteLLM's JWT
 * `_allowed_routes_check` does: literal text is escaped, `{x}` is one segment, `{x:path}` is
 * anything (slashes included), and the match is anchored at both ends.
 */
export function routeMatchesStarletteTemplate(route: string, template: string): boolean {
  let regex = starletteRegexCache.get(template);
  if (regex === undefined) {
    let source = '';
    let last = 0;
    for (const match of template.matchAll(/\{([^}:]+)(?::([^}]+))?\}/g)) {
      source += escapeRegex(template.slice(last, match.index));
      // Python's `.` is `[^\n]`; JavaScript's also stops at `\r` and U+2028/2029.
      source += match[2] === 'path' ? '[^\n]*' : '[^/]+';
      last = match.index + match[0].length;
    }
    source += escapeRegex(template.slice(last));
    regex = new RegExp(`^${source}${PYTHON_END}`);
    starletteRegexCache.set(template, regex);
  }
  return regex.test(route);
}
