/**
 * LiteLLM's "route" (auth_utils.get_request_route) from Envoy's raw request target.
 */

/** The query string's parameters, read-only. */
export type QueryParameters = Pick<URLSearchParams, 'get' | 'getAll' | 'has' | 'keys' | 'entries' | 'size'>;

export interface RequestTarget {
  /** Path without query, percent-decoded, base path removed; always starts with "/". */
  readonly route: string;
  readonly query: QueryParameters;
}

/** LLM calls rarely carry a query string: they share this one rather than parse "" each time. */
const NO_QUERY: QueryParameters = Object.freeze(new URLSearchParams(''));

/**
 * Envoy sends `path` undecoded with its query string. LiteLLM routes on Starlette's
 * `request.url.path`, which is percent-decoded, so we decode too: otherwise `/key/%67enerate`
 * would look like an unknown route here and still reach `/key/generate` upstream.
 * Dot segments are not resolved: Starlette does not either, and Envoy normalises them before
 * ext_authz when `normalize_path` is on.
 */
export function parseRequestTarget(rawPath: string, basePath: string): RequestTarget {
  const queryAt = rawPath.search(/[?#]/);
  const pathPart = queryAt === -1 ? rawPath : rawPath.slice(0, queryAt);
  const queryPart = queryAt === -1 || rawPath[queryAt] === '#' ? '' : rawPath.slice(queryAt + 1).split('#', 1)[0];
  return { route: stripBasePath(percentDecode(pathPart), basePath), query: queryPart === '' ? NO_QUERY : new URLSearchParams(queryPart) };
}

/** `/genai/chat/completions` with base path `/genai` → `/chat/completions` (LiteLLM's root_path). */
function stripBasePath(path: string, basePath: string): string {
  const base = normaliseBasePath(basePath);
  let route = path;
  if (base !== '' && (path === base || path.startsWith(`${base}/`))) route = path.slice(base.length);
  if (route === '') return '/';
  return route.startsWith('/') ? route : `/${route}`;
}

function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/**
 * Like Python's urllib.parse.unquote (what uvicorn applies): valid %XX escapes become bytes,
 * the result is read as UTF-8 with U+FFFD for invalid sequences, malformed escapes stay literal.
 * Unlike decodeURIComponent it never throws on hostile input.
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const literal = Buffer.alloc(4);
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (ch === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch < 0x80) {
      bytes.push(ch);
    } else {
      const codePoint = text.codePointAt(i) ?? ch;
      const written = literal.write(String.fromCodePoint(codePoint), 'utf8');
      for (let b = 0; b < written; b += 1) bytes.push(literal[b]);
      if (codePoint > 0xffff) i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
