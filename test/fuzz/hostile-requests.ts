/**
 * fast-check arbitraries for hostile CheckRequests, as a client behind Envoy (or a misconfigured
 * Envoy) could make them: odd credentials in every header LiteLLM reads, encoded and unusual
 * paths, huge / invalid / truncated / deeply nested / non-UTF-8 bodies, enormous and duplicated
 * headers, spoofed x-tollgate-* headers, SQL metacharacters in ids.
 *
 * Each case records the secret it carries (if any), so the test can check that the secret never
 * comes back in a response or a log line, and that the header carrying it is stripped upstream.
 */
import fc from 'fast-check';
import type { CheckRequest } from '../../src/envoy/messages';

/** What the database holds for the fuzz run (see check-request.test.ts). */
export interface FuzzWorld {
  /** Raw virtual keys with rows: allowed, blocked, expired, model- and route-restricted. */
  readonly keys: readonly string[];
  readonly masterKey: string;
  /** End-user ids with rows, containing SQL metacharacters. */
  readonly endUsers: readonly string[];
  /** Appears in every generated body; must never be echoed anywhere. */
  readonly bodyCanary: string;
}

export interface HostileCase {
  readonly request: CheckRequest;
  /** The credential value presented (null when none was). */
  readonly secret: string | null;
  /** Header names (lower-case) whose value is exactly the credential as sent (strip candidates). */
  readonly secretHeaders: readonly string[];
  /** Whether the secret travelled in the `key=` query parameter instead. */
  readonly secretInQuery: boolean;
  /** Client-sent x-tollgate-* header names (must be removed or overwritten upstream). */
  readonly spoofed: readonly string[];
}

const SQL_METACHARACTERS = ["'", '"', ';', '--', '/*', '*/', '%', '_', '\\', '`', '\u0000', "' OR '1'='1", '); DROP TABLE x; --'];

export const sqlish = fc
  .array(fc.oneof(fc.constantFrom(...SQL_METACHARACTERS), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join(''));

/** A token shaped like a JWT (three base64url parts), never valid. */
const jwtLooking = fc
  .tuple(fc.uint8Array({ minLength: 12, maxLength: 40 }), fc.uint8Array({ minLength: 12, maxLength: 60 }), fc.uint8Array({ minLength: 16, maxLength: 40 }))
  .map(([h, p, s]) => `eyJ${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${Buffer.from(s).toString('base64url')}`);

function secretValue(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...world.keys) },
    { weight: 1, arbitrary: fc.constant(world.masterKey) },
    { weight: 2, arbitrary: fc.string({ minLength: 10, maxLength: 40 }).map((s) => `sk-${s}`) },
    { weight: 1, arbitrary: jwtLooking },
    { weight: 1, arbitrary: sqlish.map((s) => `sk-fuzz-${s}-0123456789`) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
  );
}

/** How a credential is wrapped in its header: LiteLLM's prefixes and the odd shapes around them. */
const wrappers: ReadonlyArray<(secret: string) => string> = [
  (s) => `Bearer ${s}`,
  (s) => `bearer ${s}`,
  (s) => `Basic ${s}`,
  (s) => `Bearer  ${s}`,
  (s) => `Bearer Bearer ${s}`,
  (s) => `BEARER ${s}`,
  (s) => `Token ${s}`,
  (s) => `Bearer ${s} `,
  (s) => `Bearer ${s}\t`,
  (s) => `Bearer ${s},Bearer ${s}`,
  (s) => `AWS4-HMAC-SHA256 Credential=Bearer ${s}/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host`,
  (s) => s,
  () => 'Bearer ',
  () => 'Bearer',
  () => '',
];

const CREDENTIAL_HEADERS = [
  'authorization',
  'Authorization',
  'x-litellm-api-key',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
] as const;

const ROUTES = [
  '/v1/chat/completions',
  '/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/models',
  '/models',
  '/v1/responses',
  '/key/generate',
  '/key/info',
  '/user/new',
  '/spend/logs',
  '/health',
  '/health/liveliness',
  '/v1beta/models/gemini-pro:generateContent',
  '/mcp/tools/call',
  '/anthropic/v1/messages',
  '/',
];

/** Encodings and shapes that route classifiers get wrong: %2F, //, .., trailing slash, case, NUL, length. */
const pathMutations: ReadonlyArray<(route: string) => string> = [
  (r) => r,
  (r) => r.replace(/\//g, '%2F'),
  (r) => r.replace(/\//g, '%2f'),
  (r) => r.replace(/\//g, '//'),
  (r) => `${r}/`,
  (r) => `${r}//`,
  (r) => `/foo/..${r}`,
  (r) => `${r}/../key/generate`,
  (r) => `/%2e%2e${r}`,
  (r) => r.toUpperCase(),
  (r) => r.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  (r) => `${r}?key=x&key=`,
  (r) => `${r}#frag?x`,
  (r) => `${r}%00`,
  (r) => `${r}%zz%`,
  (r) => `${r}/${'a'.repeat(20_000)}`,
  (r) => `${r}\u00e9\u{1f600}`,
  () => '',
  () => '*',
  () => 'http://evil.example/v1/chat/completions',
];

const path = fc.tuple(fc.constantFrom(...ROUTES), fc.constantFrom(...pathMutations)).map(([route, mutate]) => mutate(route));

const models: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('gpt-4o', 'gpt-4o-mini', 'claude-3.5-sonnet', 'openai/gpt-4o', '*', ''),
  // Against the a*a*…b patterns in the database: long runs that almost match.
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'a'.repeat(n)}c`),
  fc.integer({ min: 1, max: 2_000 }).map((n) => `${'a'.repeat(n)}b`),
  sqlish,
  fc.constantFrom(null, 42, ['gpt-4o', 'gpt-4o-mini'], { model: 'gpt-4o' }, true),
  fc.string({ maxLength: 30 }),
);

function chatBody(world: FuzzWorld): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      model: models,
      messages: fc.constant([{ role: 'user', content: `hello ${world.bodyCanary}` }]),
      user: fc.oneof(fc.constantFrom(...world.endUsers), sqlish, fc.constant(undefined)),
      metadata: fc.oneof(fc.constant(undefined), fc.record({ user_id: sqlish, tags: fc.array(sqlish, { maxLength: 3 }) })),
      tools: fc.oneof(fc.constant(undefined), fc.constant([{ type: 'function', function: { name: "x'; --" } }])),
    },
    { requiredKeys: ['messages'] },
  );
}

type Body = { readonly text: string } | { readonly bytes: Buffer };

function body(world: FuzzWorld): fc.Arbitrary<{ body: Body | null; partial: boolean; declaredLength: string | null }> {
  const canary = world.bodyCanary;
  const json = chatBody(world).map((b) => JSON.stringify(b));
  const shape = fc.oneof(
    { weight: 5, arbitrary: json.map((text) => ({ text })) },
    // Truncated: a prefix, flagged partial or not, with content-length telling the truth or not.
    { weight: 2, arbitrary: fc.tuple(json, fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => ({ text: t.slice(0, Math.floor(t.length * f)) })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ text: `${s}${canary}` })) },
    { weight: 1, arbitrary: fc.constantFrom('{', '}', '[]', 'null', '"x"', '{"model":', '{"model":"gpt-4o"', '\u0000', '{"__proto__":{"x":1},"model":"gpt-4o"}').map((text) => ({ text })) },
    // Deeply nested arrays and objects, far beyond the parse depth cap.
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 200_000 }).map((n) => ({ text: `${'['.repeat(n)}"${canary}"${']'.repeat(n)}` })) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 50_000 }).map((n) => ({ text: `{"model":"gpt-4o","x":${'{"a":'.repeat(n)}"${canary}"${'}'.repeat(n)}}` })) },
    // Huge: a real model at the front of a multi-MiB prompt.
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((mib) => ({ text: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `${canary}${'x'.repeat(mib * 1024 * 1024)}` }] }) })) },
    // Not UTF-8: random bytes, overlong encodings, lone surrogates, a valid prefix then garbage.
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => ({ bytes: Buffer.concat([Buffer.from(canary), Buffer.from(a)]) })) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.concat([Buffer.from('{"model":"gpt-4o","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])).map((bytes) => ({ bytes: Buffer.concat([bytes, Buffer.from(canary)]) })) },
  );
  return fc.record({
    body: fc.option(shape, { freq: 8 }),
    partial: fc.boolean(),
    declaredLength: fc.option(fc.constantFrom('0', '5', '99999999', '-1', 'abc', '1e3'), { freq: 3 }),
  });
}

const extraHeaders = fc.oneof(
  fc.constant<Array<[string, string]>>([]),
  fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.toLowerCase()), fc.string({ maxLength: 40 })), { maxLength: 10 }),
  // Enormous values and very many headers.
  fc.integer({ min: 1, max: 512 }).map((kib): Array<[string, string]> => [['x-big', 'b'.repeat(kib * 1024)]]),
  fc.integer({ min: 100, max: 2000 }).map((n) => Array.from({ length: n }, (_, i): [string, string] => [`x-h-${i}`, `v${i}`])),
  fc.constant<Array<[string, string]>>([['content-type', 'multipart/form-data; boundary=""'], ['content-type', 'application/x-www-form-urlencoded']]),
  fc.constant<Array<[string, string]>>([['__proto__', 'x'], ['constructor', 'y'], ['hasOwnProperty', 'z']]),
);

function endUserHeaders(world: FuzzWorld): fc.Arbitrary<Array<[string, string]>> {
  return fc.oneof(
    fc.constant<Array<[string, string]>>([]),
    fc
      .tuple(fc.constantFrom('x-litellm-end-user-id', 'x-litellm-customer-id'), fc.oneof(fc.constantFrom(...world.endUsers), sqlish))
      .map((header): Array<[string, string]> => [header]),
  );
}

const spoofHeaders = fc.subarray(['x-tollgate-team-id', 'x-tollgate-key-hash', 'x-tollgate-user-role', 'x-tollgate-anything', 'X-Tollgate-User-Id']);

let requestCounter = 0;

/** Envoy's `headers` map: lower-case names, repeated headers joined with ",". */
function mergedAsEnvoyDoes(headers: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    out[key] = Object.hasOwn(out, key) ? `${out[key]},${value}` : value;
  }
  return out;
}

export function hostileCase(world: FuzzWorld): fc.Arbitrary<HostileCase> {
  const credential = fc.record({
    secret: secretValue(world),
    wrap: fc.integer({ min: 0, max: wrappers.length - 1 }),
    header: fc.constantFrom(...CREDENTIAL_HEADERS),
    duplicate: fc.constantFrom('none', 'same-header-twice', 'also-x-api-key'),
    inQuery: fc.boolean(),
  });
  return fc
    .record({
      credential: fc.option(credential, { freq: 6 }),
      method: fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'OPTIONS', 'post', '', 'X'.repeat(100)),
      path,
      body: body(world),
      extra: extraHeaders,
      endUser: endUserHeaders(world),
      spoof: spoofHeaders,
      rawHeaders: fc.boolean(),
      asRawBody: fc.boolean(),
    })
    .map((c) => {
      const headers: Array<[string, string]> = [];
      let secret: string | null = null;
      const secretHeaders: string[] = [];
      let requestPath = c.path;
      let secretInQuery = false;
      if (c.credential !== null) {
        secret = c.credential.secret;
        const wrapped = (wrappers[c.credential.wrap] ?? wrappers[0])(secret);
        if (c.credential.inQuery && c.credential.header === 'x-goog-api-key') {
          // Google clients may send ?key= on generateContent routes.
          requestPath = `/v1beta/models/gemini-pro:generateContent?key=${encodeURIComponent(secret)}`;
          secretInQuery = true;
        } else {
          headers.push([c.credential.header, wrapped]);
          if (c.credential.duplicate === 'same-header-twice') headers.push([c.credential.header, wrapped]);
          if (c.credential.duplicate === 'also-x-api-key') headers.push(['x-api-key', secret]);
          for (const [name] of headers) secretHeaders.push(name.toLowerCase());
        }
      }
      for (const name of c.spoof) headers.push([name, 'spoofed']);
      headers.push(...c.endUser, ...c.extra);
      const b = c.body.body;
      const text = b === null ? undefined : 'text' in b ? b.text : undefined;
      const bytes = b === null ? undefined : 'bytes' in b ? b.bytes : c.asRawBody && text !== undefined ? Buffer.from(text) : undefined;
      const size = bytes?.length ?? (text === undefined ? 0 : Buffer.byteLength(text));
      headers.push(['content-type', 'application/json']);
      if (c.body.partial) headers.push(['x-envoy-auth-partial-body', 'true']);
      headers.push(['content-length', c.body.declaredLength ?? String(size)]);
      const pseudo: Array<[string, string]> = [
        [':method', c.method],
        [':path', requestPath],
        [':authority', 'gateway.example.com'],
        ['x-request-id', `fuzz-${(requestCounter += 1)}`],
      ];
      const all = [...pseudo, ...headers];
      const http = {
        id: 'fuzz',
        method: c.method,
        path: requestPath,
        host: 'gateway.example.com',
        size: String(size),
        ...(c.rawHeaders
          ? { header_map: { headers: all.map(([key, value]) => ({ key, raw_value: Buffer.from(value) })) } }
          : { headers: mergedAsEnvoyDoes(all) }),
        ...(bytes !== undefined ? { raw_body: bytes } : text !== undefined ? { body: text } : {}),
      };
      const spoofed = c.spoof.map((name) => name.toLowerCase());
      return {
        request: { attributes: { source: { address: { socket_address: { address: '10.9.8.7', port_value: 4000 } } }, request: { http } } },
        secret,
        secretHeaders: [...new Set(secretHeaders)],
        secretInQuery,
        spoofed,
      };
    });
}
