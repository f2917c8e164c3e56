import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { modelLabel, UNREAD_MODEL } from '../../src/domain/request';
import { INVALID_JSON_MESSAGE, JUDGED_JSON_DEPTH, LEAVE_PROMPT_FROM_BYTES, MAX_BODY_PARSE_BYTES, MAX_JSON_DEPTH } from '../../src/envoy/body';
import { FILE_PART } from '../../src/envoy/form-body';
import { decodeCheckRequest } from '../../src/envoy/check-request-decoder';
import type { CheckRequest } from '../../src/envoy/messages';
import { authorizationService } from '../../src/envoy/protos';
import { aCheckRequest, aRawHeaderCheckRequest, edgeSettings } from './fixtures';

const settings = edgeSettings();
const json = (value: unknown): string => JSON.stringify(value);

describe('parseCheckRequest', () => {
  describe('request line', () => {
    it('takes method, request id, raw path and source address from the CheckRequest', () => {
      const facts = parseCheckRequest(aCheckRequest({ method: 'GET', path: '/v1/models?x=1', id: 'abc' }, '192.0.2.7'), settings);
      expect(facts).to.include({ method: 'GET', requestId: 'abc', path: '/v1/models?x=1', route: '/v1/models', sourceAddress: '192.0.2.7' });
    });

    it('falls back to :method and :path pseudo-headers when http.method/path are empty', () => {
      const facts = parseCheckRequest({ attributes: { request: { http: { headers: { ':method': 'PUT', ':path': '/key/update?a' } } } } }, settings);
      expect(facts).to.include({ method: 'PUT', route: '/key/update', path: '/key/update?a' });
    });

    it('copes with an empty CheckRequest', () => {
      const facts = parseCheckRequest({}, settings);
      expect(facts).to.include({ route: '/', method: '', requestId: '', sourceAddress: null, body: null, model: null });
      expect(facts.credential).to.deep.equal({ kind: 'none' });
    });
  });

  describe('route', () => {
    const routeOf = (path: string, basePath = ''): string => parseCheckRequest(aCheckRequest({ path }), edgeSettings({ basePath })).route;

    it('drops the query string', () => {
      expect(routeOf('/chat/completions?stream=true&key=1')).to.equal('/chat/completions');
    });

    it('drops a fragment', () => {
      expect(routeOf('/chat/completions#x')).to.equal('/chat/completions');
    });

    it('removes the configured base path (LiteLLM root_path)', () => {
      expect(routeOf('/genai/chat/completions', '/genai')).to.equal('/chat/completions');
      expect(routeOf('/genai', '/genai')).to.equal('/');
    });

    it('removes the base path only as a whole segment', () => {
      expect(routeOf('/genaix/chat/completions', '/genai')).to.equal('/genaix/chat/completions');
      expect(routeOf('/other/genai/chat', '/genai')).to.equal('/other/genai/chat');
    });

    it('accepts a base path without its leading slash or with a trailing one', () => {
      expect(routeOf('/genai/v1/models', 'genai/')).to.equal('/v1/models');
    });

    it('percent-decodes like Starlette, so an encoded admin route is still that route', () => {
      expect(routeOf('/key/%67enerate')).to.equal('/key/generate');
      expect(routeOf('/genai%2Fchat/completions', '/genai')).to.equal('/chat/completions');
    });

    it('leaves malformed escapes literal and never throws', () => {
      expect(routeOf('/a%zz/%')).to.equal('/a%zz/%');
      expect(routeOf('/caf%C3%A9/%ff')).to.equal('/café/\ufffd');
    });

    it('does not let an encoded "?" end the route', () => {
      expect(routeOf('/a%3Fb?c')).to.equal('/a?b');
    });
  });

  describe('headers', () => {
    it('lower-cases names and keeps pseudo-headers from the headers map', () => {
      const facts = parseCheckRequest(aCheckRequest({ headers: { 'X-Custom': 'v', ':authority': 'api.example' } }), settings);
      expect(facts.headers['x-custom']).to.equal('v');
      expect(facts.headers[':authority']).to.equal('api.example');
      expect(facts.headers[':path']).to.equal('/chat/completions');
    });

    it('lower-cases every name as toLowerCase does and merges names that meet, in map order', () => {
      // JSON.parse makes `__proto__` an own key, as a decoded map has it.
      const mapped = JSON.parse(
        '{"X-A": "1", "x-a": "2", "x-\\u00c4": "3", "X-\\u00e4": "4", "x-\\u212a": "5", "__proto__": "6", "constructor": "7"}',
      ) as Record<string, string>;
      const facts = parseCheckRequest(aCheckRequest({ headers: mapped }), settings);
      const expected: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [name, value] of Object.entries(mapped)) {
        const key = name.toLowerCase();
        expected[key] = key in expected ? `${expected[key]},${value}` : value;
      }
      for (const [name, value] of Object.entries(expected)) expect(facts.headers[name], name).to.equal(value);
      expect(facts.headers['x-a']).to.equal('1,2');
      expect(facts.headers['x-\u00e4']).to.equal('3,4');
      expect(Object.getOwnPropertyDescriptor(facts.headers, '__proto__')?.value).to.equal('6');
    });

    it('reads header_map raw_value bytes as UTF-8 (encode_raw_headers: true)', () => {
      const facts = parseCheckRequest(
        aRawHeaderCheckRequest([
          [':path', '/v1/chat/completions'],
          ['Authorization', 'Bearer sk-raw'],
          ['x-name', Buffer.from('Zoë', 'utf8')],
        ]),
        settings,
      );
      expect(facts.headers['authorization']).to.equal('Bearer sk-raw');
      expect(facts.headers['x-name']).to.equal('Zoë');
      expect(facts.credential).to.deep.equal({ kind: 'present', value: 'sk-raw', header: 'authorization' });
    });

    it('merges duplicate raw headers with commas, like Envoy merges its map', () => {
      const facts = parseCheckRequest(aRawHeaderCheckRequest([['x-a', '1'], ['X-A', '2'], ['x-b', '3']]), settings);
      expect(facts.headers['x-a']).to.equal('1,2');
      expect(facts.headers['x-b']).to.equal('3');
    });

    it('replaces invalid UTF-8 in raw header values instead of failing', () => {
      const facts = parseCheckRequest(aRawHeaderCheckRequest([['x-bin', Buffer.from([0x61, 0xff, 0x62])]]), settings);
      expect(facts.headers['x-bin']).to.equal('a\ufffdb');
    });

    it('uses a header_map value string when raw_value is empty', () => {
      const request = { attributes: { request: { http: { header_map: { headers: [{ key: 'x-v', value: 'text' }] } } } } };
      expect(parseCheckRequest(request, settings).headers['x-v']).to.equal('text');
    });

    it('treats __proto__ and constructor as ordinary header names', () => {
      const facts = parseCheckRequest(aRawHeaderCheckRequest([['__proto__', 'x'], ['constructor', 'y']]), settings);
      expect(facts.headers['__proto__']).to.equal('x');
      expect(facts.headers['constructor']).to.equal('y');
      expect(facts.headers['toString']).to.equal(undefined);
    });

    it("takes only the decoded map's own names, never enumerable ones it inherits", () => {
      const inherited = Object.create({ 'x-injected': 'evil' }) as Record<string, string>;
      inherited['x-a'] = '1';
      const headers = parseCheckRequest({ attributes: { request: { http: { method: 'POST', path: '/chat/completions', headers: inherited } } } }, settings).headers;
      expect(headers['x-a']).to.equal('1');
      expect(headers['x-injected']).to.equal(undefined);
    });

    it("serves the decoder's header map as the record when Envoy sent it lower-cased, and merges any other", () => {
      const wire = (headers: Record<string, string>): CheckRequest =>
        decodeCheckRequest(authorizationService().Check.requestSerialize(aCheckRequest({ headers })));
      const lower = wire({ 'x-a': '1', authorization: 'Bearer sk-1' });
      expect(parseCheckRequest(lower, settings).headers).to.equal(lower.attributes?.request?.http?.headers);
      const mixed = wire({ 'X-Dup': '1', 'x-dup': '2', 'x-b': '3' });
      const headers = parseCheckRequest(mixed, settings).headers;
      expect(headers).to.not.equal(mixed.attributes?.request?.http?.headers);
      expect({ ...headers }).to.deep.include({ 'x-dup': '1,2', 'x-b': '3' });
      expect(Object.keys(headers)).to.not.include('X-Dup');
      // A map that did not come from the decoder (proto-loader's, a test's) is always copied.
      const plain = aCheckRequest({ headers: { 'x-a': '1' } });
      expect(parseCheckRequest(plain, settings).headers).to.not.equal(plain.attributes?.request?.http?.headers);
    });

    it('inherits no names: a header not sent reads as absent, whatever its name', () => {
      for (const request of [aCheckRequest({ headers: { 'x-a': '1' } }), aRawHeaderCheckRequest([['x-a', '1']])]) {
        const headers = parseCheckRequest(request, settings).headers;
        for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
          expect(headers[name], name).to.equal(undefined);
          expect(name in headers, name).to.equal(false);
        }
        expect(Object.keys(headers)).to.include('x-a');
        expect(JSON.parse(JSON.stringify(headers))).to.have.property('x-a', '1');
      }
    });
  });

  describe('body', () => {
    const withBody = (http: Parameters<typeof aCheckRequest>[0]) => parseCheckRequest(aCheckRequest(http), settings);

    it('parses the UTF-8 body string as a JSON object', () => {
      const facts = withBody({ body: json({ model: 'gpt-4o', user: 'u1' }) });
      expect(facts.body).to.deep.equal({ model: 'gpt-4o', user: 'u1' });
      expect(facts).to.include({ bodyTruncated: false, bodyInvalid: false, model: 'gpt-4o', endUserId: 'u1' });
    });

    it('parses raw_body bytes (pack_as_bytes: true)', () => {
      const facts = withBody({ raw_body: Buffer.from(json({ model: 'claude-3' })) });
      expect(facts.body).to.deep.equal({ model: 'claude-3' });
      expect(facts.model).to.equal('claude-3');
    });

    it('counts the bytes of body Envoy forwarded, text or raw, whole or partial (request size, §2.2 step 1)', () => {
      expect(withBody({ body: json({ model: 'é' }) }).bodyBytes).to.equal(Buffer.byteLength(json({ model: 'é' })));
      expect(withBody({ raw_body: Buffer.from('{"a":1}') }).bodyBytes).to.equal(7);
      expect(withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"model": "gpt' }).bodyBytes).to.equal(14);
      expect(withBody({}).bodyBytes).to.equal(0);
    });

    it('has no body and no flags when Envoy sent none', () => {
      const facts = withBody({ headers: { 'content-length': '120' } });
      expect(facts).to.include({ body: null, bodyTruncated: false, bodyInvalid: false });
    });

    it('marks invalid JSON as invalid and never throws', () => {
      expect(withBody({ body: '{"model": "gpt-4o",' + '}' })).to.include({ body: null, bodyInvalid: true, bodyTruncated: false });
      expect(withBody({ body: 'hello' })).to.include({ body: null, bodyInvalid: true });
    });

    it('marks JSON that is not an object as invalid', () => {
      for (const body of ['[1,2]', '"gpt-4o"', '42', 'null', 'true']) {
        expect(withBody({ body }), body).to.include({ body: null, bodyInvalid: true });
      }
    });

    it('marks bytes that are not UTF-8 as invalid', () => {
      const bytes = Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      expect(withBody({ raw_body: bytes })).to.include({ body: null, bodyInvalid: true });
    });

    describe("a body LiteLLM's reader refuses as not JSON (400 Invalid JSON payload)", () => {
      it('is a whole body that neither orjson nor json.loads parses, as text or raw bytes', () => {
        for (const body of ['{"model": "gpt-4o",}', 'hello', '{"model":"gpt-4o"} x', '   ', '\ufeff{}', "{'model': 'gpt-4o'}"]) {
          expect(withBody({ body }), JSON.stringify(body)).to.deep.include({ body: null, bodyInvalid: true, invalidJson: INVALID_JSON_MESSAGE });
        }
        expect(withBody({ raw_body: Buffer.from('{"model":"gpt-4o",]') })).to.include({ invalidJson: INVALID_JSON_MESSAGE });
        const large = `{"model":"gpt-4o","messages":[{"role":"user","content":"${'x'.repeat(LEAVE_PROMPT_FROM_BYTES)}"}],}`;
        expect(withBody({ raw_body: Buffer.from(large) }), 'one large enough to be stepped over').to.include({ invalidJson: INVALID_JSON_MESSAGE });
      });

      it('is never one Envoy cut short, whose cut prefix cannot be judged', () => {
        const cut = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"model":"gpt-4o","messages":[{"role":"user","content":"hel' });
        expect(cut).to.include({ bodyTruncated: true, model: 'gpt-4o' });
        expect(cut).to.not.have.property('invalidJson');
        expect(withBody({ headers: { 'content-length': '999' }, body: '{"model":"gpt-4o",]' }), 'a content-length past the body').to.not.have.property('invalidJson');
        expect(withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"model":"gpt-4o",]' })).to.not.have.property('invalidJson');
      });

      it("is never one sent to LiteLLM's MCP server, whose auth reads a stand-in body instead", () => {
        for (const path of ['/mcp', '/mcp/', '/mcp/github', '/mcp/github/tools/call', '/github/mcp', '/github/mcp/']) {
          const facts = withBody({ path, headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0",' });
          expect(facts, path).to.include({ bodyInvalid: true, route: path }).and.not.have.property('invalidJson');
        }
        for (const path of ['/mcp-rest/tools/call', '/v1/mcp/server', '/v1/chat/completions', '/mcpx', '/a/b/mcp']) {
          expect(withBody({ path, body: '{"jsonrpc":"2.0",' }), `${path}: its route reads the body`).to.include({ invalidJson: INVALID_JSON_MESSAGE });
        }
      });

      it('is never a body sent as a form, which LiteLLM reads with Starlette instead', () => {
        for (const type of ['multipart/form-data; boundary=b', 'application/x-www-form-urlencoded', 'text/form-ish']) {
          expect(withBody({ headers: { 'content-type': type }, body: '{"model":"gpt-4o",]' }), type).to.not.have.property('invalidJson');
        }
      });

      it('is not JSON that parses: an object, NaN and ±Infinity, no object at all (null, an array, a scalar), or too deep', () => {
        expect(withBody({ body: '{"model":"gpt-4o","temperature":NaN}' })).to.not.have.property('invalidJson');
        for (const body of ['null', '[1,2]', '"gpt-4o"', '42', 'true', '[NaN]']) {
          expect(withBody({ body }), body).to.include({ bodyInvalid: true }).and.not.have.property('invalidJson');
        }
        const deep = `{"x":${'['.repeat(MAX_JSON_DEPTH + 100)}${']'.repeat(MAX_JSON_DEPTH + 100)}}`;
        expect(withBody({ body: deep }), "Python's json.loads fails with a RecursionError, read as no body").to.include({ bodyInvalid: true }).and.not.have.property('invalidJson');
        expect(withBody({ body: '{"model":"gpt-4o"}' })).to.not.have.property('invalidJson');
        expect(withBody({ body: '' }), 'nor an empty body, which LiteLLM reads as {}').to.not.have.property('invalidJson');
      });

      it('is not a body that is not UTF-8, which LiteLLM fails to decode and reads as empty', () => {
        const bytes = Buffer.concat([Buffer.from('{"model":"gpt-4o",'), Buffer.from([0xc3, 0x28]), Buffer.from(']')]);
        expect(withBody({ raw_body: bytes })).to.include({ bodyInvalid: true }).and.not.have.property('invalidJson');
        const surrogate = Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
        expect(withBody({ raw_body: surrogate }), 'an encoded surrogate').to.not.have.property('invalidJson');
        expect(withBody({ body: '{"model":"gpt-4o","user":"\\ud800"}' }), "a lone surrogate escape, which json.loads takes").to.include({ model: 'gpt-4o' }).and.not.have.property('invalidJson');
      });

      it("is not a body string holding U+FFFD, which may stand for bytes that are not UTF-8 (Envoy without pack_as_bytes)", () => {
        // What the decoder makes of a gzip'd body sent in the `body` field: its bytes as UTF-8, U+FFFD for the rest.
        const gzipped = gzipSync(Buffer.from('{"model":"gpt-4o","messages":[]}')).toString('utf8');
        expect(gzipped, 'the fixture is a body string with replacement characters').to.include('\uFFFD');
        for (const type of ['application/json', 'application/octet-stream']) {
          const facts = withBody({ headers: { 'content-type': type, 'content-encoding': 'gzip' }, body: gzipped });
          expect(facts, type).to.include({ bodyInvalid: true }).and.not.have.property('invalidJson');
        }
        expect(withBody({ body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('utf8') }), 'a stray byte').to.not.have.property('invalidJson');
        expect(withBody({ raw_body: Buffer.from('{"a":"\uFFFD",]') }), 'as raw bytes, U+FFFD is a character like any other').to.include({ invalidJson: INVALID_JSON_MESSAGE });
      });

      it("is not one json.loads may give up on before its decode error (nesting near its recursion limit, an int too long: read as an empty body)", () => {
        for (const body of ['['.repeat(5000), `{"x":${'['.repeat(JUDGED_JSON_DEPTH)}1,]`, `{"a":${'1'.repeat(4301)},}`]) {
          expect(withBody({ body }), body.slice(0, 20)).to.include({ bodyInvalid: true }).and.not.have.property('invalidJson');
        }
        const shallower = `{"x":${'['.repeat(JUDGED_JSON_DEPTH - 2)}1,}`;
        expect(withBody({ body: shallower }), 'shallower, it is the decode error').to.include({ invalidJson: INVALID_JSON_MESSAGE });
        expect(withBody({ body: `{"a":${'1'.repeat(4300)},}` }), 'an int Python converts').to.include({ invalidJson: INVALID_JSON_MESSAGE });
        expect(withBody({ body: `{"a":"${'['.repeat(JUDGED_JSON_DEPTH)}",}` }), 'brackets in a string do not nest').to.include({ invalidJson: INVALID_JSON_MESSAGE });
      });
    });

    it('treats x-envoy-auth-partial-body: true as truncated and exposes the members whole in the prefix', () => {
      const facts = withBody({
        headers: { 'x-envoy-auth-partial-body': 'true' },
        body: '{"model": "gpt-4o", "user": "u1", "messages": [{"role": "user", "content": "Once upon a ti',
      });
      expect(facts).to.deep.include({ body: { model: 'gpt-4o', user: 'u1' }, bodyTruncated: true, bodyInvalid: false, model: 'gpt-4o', endUserId: 'u1' });
    });

    it("takes a cut body's model from its `model` only: a target_model_names in the prefix may be overridden by a model past the cut", () => {
      const facts = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"target_model_names":"allowed","messages":[{"role":"user","content":"x' });
      expect(facts.body).to.deep.equal({ target_model_names: 'allowed' });
      expect(facts.model).to.equal(UNREAD_MODEL);
    });

    it('shows no member of a cut prefix with more than 256 distinct keys, and drops a key whose last value the cut may have shortened', () => {
      const many = `{${Array.from({ length: 300 }, (_, i) => `"k${i}":${i}`).join(',')},"messages":[`;
      expect(withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: many }).body).to.deep.equal({});
      const repeated = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"model":"m","n":1,"n":23' });
      expect(repeated.body, 'the last n may go on past the cut').to.deep.equal({ model: 'm' });
      const invalid = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: `{"model":"m",${'"a":x,'.repeat(2000)}"messages":[` });
      expect(invalid.body, 'a value that does not parse is left out, once per key').to.deep.equal({ model: 'm' });
    });

    it('shows the body checks what a cut prefix holds: a banned api_base, tools and tags before the prompt, never a value the cut may have shortened', () => {
      const facts = withBody({
        headers: { 'x-envoy-auth-partial-body': 'true' },
        body: '{"model":"gpt-4o","api_base":"https://evil.example","tools":[{"type":"function","function":{"name":"rm"}}],"messages":[{"role":"user","content":"x"}],"max_tokens":12',
      });
      expect(facts.body).to.deep.equal({ model: 'gpt-4o', api_base: 'https://evil.example', tools: [{ type: 'function', function: { name: 'rm' } }] });
      expect(withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"model":"m","n":"closed"' }).body, 'a string closed at the cut is whole').to.deep.equal({
        model: 'm',
        n: 'closed',
      });
    });

    it('treats content-length larger than the body as truncated', () => {
      const body = '{"messages":[], "model":"a,b"';
      const facts = withBody({ headers: { 'content-length': String(body.length + 500) }, body });
      expect(facts).to.deep.include({ body: { model: 'a,b' }, bodyTruncated: true });
      expect(facts.model).to.deep.equal(['a', 'b']);
    });

    it('treats a truncated body that happens to parse as truncated all the same', () => {
      const facts = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: json({ model: 'm' }) });
      expect(facts).to.deep.include({ body: { model: 'm' }, bodyTruncated: true, model: 'm' });
    });

    it('accepts x-envoy-auth-partial-body: false with a matching content-length as complete', () => {
      const body = json({ model: 'm' });
      const facts = withBody({ headers: { 'x-envoy-auth-partial-body': 'false', 'content-length': String(body.length) }, body });
      expect(facts).to.include({ bodyTruncated: false, model: 'm' });
    });

    it('falls back to the route model when a truncated prefix has no complete model', () => {
      const facts = withBody({
        path: '/openai/deployments/gpt-35/chat/completions',
        headers: { 'x-envoy-auth-partial-body': 'true' },
        body: '{"messages": [], "model": "gpt-4',
      });
      expect(facts.model).to.equal('gpt-35');
    });

    it('recovers the model from a truncated raw_body cut inside a multi-byte character', () => {
      const bytes = Buffer.from('{"model":"m1","messages":[{"content":"é');
      const facts = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, raw_body: bytes.subarray(0, bytes.length - 1) });
      expect(facts).to.include({ bodyTruncated: true, model: 'm1' });
    });

    it('does not parse a body over the size cap but still finds its model', () => {
      const big = `{"model":"gpt-4o","messages":[{"content":"${'x'.repeat(MAX_BODY_PARSE_BYTES)}"}]}`;
      const facts = withBody({ raw_body: Buffer.from(big) });
      expect(facts).to.deep.include({ body: { model: 'gpt-4o' }, bodyTruncated: true, bodyInvalid: false, model: 'gpt-4o' });
    });

    it('refuses deeply nested JSON as invalid instead of walking it', () => {
      const deep = `{"model":"m","x":${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}}`;
      expect(withBody({ body: deep })).to.include({ body: null, bodyInvalid: true });
      const ok = `{"model":"m","x":${'['.repeat(MAX_JSON_DEPTH - 2)}${']'.repeat(MAX_JSON_DEPTH - 2)}}`;
      expect(withBody({ body: ok })).to.include({ bodyInvalid: false, model: 'm' });
    });

    it('judges depth by nesting, not by how many brackets a body holds', () => {
      // Wide (300 small objects, 301 openers), and brackets inside strings: shallow, so valid.
      const wide = JSON.stringify({ model: 'm', messages: Array.from({ length: 300 }, () => ({ role: 'user', content: '[{' })) });
      expect(withBody({ body: wide })).to.include({ bodyInvalid: false, model: 'm' });
      // Exactly one level too deep, with exactly as many openers as levels: refused.
      const edge = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
      expect(withBody({ body: `{"x":${edge}}` })).to.include({ body: null, bodyInvalid: true });
      expect(withBody({ body: `{"x":${edge.slice(1, -1)}}` })).to.include({ bodyInvalid: false });
    });

    it('survives a hostile 1M-deep truncated prefix', () => {
      const facts = withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: `{"x":${'['.repeat(1_000_000)}` });
      expect(facts).to.deep.include({ body: {}, bodyTruncated: true, model: UNREAD_MODEL });
    });

    describe('a model Tollgate could not read', () => {
      const filler = `{"messages":[{"role":"user","content":"${'x'.repeat(2048)}`;

      it('is UNREAD_MODEL, not null, on an LLM API route: a prefix cut before "model", or JSON that is no object', () => {
        expect(withBody({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: filler }).model).to.equal(UNREAD_MODEL);
        expect(withBody({ headers: { 'content-type': 'application/json' }, body: '[{"model":"gpt-4o"}]' }).model).to.equal(UNREAD_MODEL);
        expect(withBody({ path: '/v1/embeddings', body: 'null' }).model).to.equal(UNREAD_MODEL);
        expect(withBody({ path: '/engines/gpt-4o/chat/completions%0A', headers: { 'x-envoy-auth-partial-body': 'true' }, body: filler }).model, 'a route ending in a newline').to.equal(UNREAD_MODEL);
        expect(modelLabel(UNREAD_MODEL), 'never sent upstream, priced or labelled').to.equal(null);
      });

      it('is no model for a whole body that is not JSON, which LiteLLM decides as an empty body before its 400', () => {
        const facts = withBody({ headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o","temperature":0.5,]' });
        expect(facts).to.deep.include({ model: null, body: null, bodyInvalid: true, invalidJson: INVALID_JSON_MESSAGE });
        expect(withBody({ path: '/v1/embeddings', body: '{"model":"gpt-4o",}' }).model).to.equal(null);
        expect(withBody({ path: '/openai/deployments/gpt-4o/chat/completions', body: '{"model":' }).model, "the route's model still counts").to.equal('gpt-4o');
      });

      it("is no model whatever the content type says but a form: LiteLLM parses any other body as JSON, and refuses JSON sent as text/plain with trailing bytes", () => {
        const trailing = '{"model":"gpt-4o"} x';
        expect(withBody({ headers: { 'content-type': 'text/plain' }, body: trailing })).to.deep.include({ model: null, invalidJson: INVALID_JSON_MESSAGE });
        expect(withBody({ headers: { 'content-type': 'application/octet-stream' }, body: trailing })).to.deep.include({ model: null, invalidJson: INVALID_JSON_MESSAGE });
        expect(withBody({ body: trailing }), 'or none').to.deep.include({ model: null, invalidJson: INVALID_JSON_MESSAGE });
        expect(withBody({ headers: { 'content-type': 'text/plain' }, body: '{"model":"gpt-4o"}' }).model, 'and a readable one is read').to.equal('gpt-4o');
      });

      it("reads what Python's json.loads reads: NaN and ±Infinity outside strings, as LiteLLM's body reader does", () => {
        const facts = withBody({ body: '{"model":"gpt-4o","api_base":"https://evil.example","temperature":NaN,"top_p":-Infinity,"note":"NaN stays text","x":[Infinity]}' });
        expect(facts.model).to.equal('gpt-4o');
        expect(facts.bodyInvalid).to.equal(false);
        expect(facts.body).to.deep.include({ api_base: 'https://evil.example', temperature: null, top_p: null, note: 'NaN stays text', x: [null] });
        const large = withBody({ body: json({ model: 'gpt-4o', messages: [{ role: 'user', content: 'y'.repeat(LEAVE_PROMPT_FROM_BYTES) }], api_base: 'B' }).replace('"api_base"', '"t":NaN,"api_base"') });
        expect(large.body?.['api_base'], 'a body whose prompt is left undecoded too').to.equal('B');
        expect(withBody({ body: '{"model":"gpt-4o","x":NaNa}' }).bodyInvalid, 'a word that merely starts like one is still invalid').to.equal(true);
      });

      it('stays null where a body names no model: other routes, form uploads, binary pass-through bodies, no body', () => {
        expect(withBody({ path: '/key/generate', headers: { 'x-envoy-auth-partial-body': 'true' }, body: filler }).model).to.equal(null);
        const form = { 'content-type': 'multipart/form-data; boundary=b', 'x-envoy-auth-partial-body': 'true' };
        expect(withBody({ path: '/v1/audio/transcriptions', headers: form, body: '--b\r\nContent-Disposition: form-data; name="file"' }).model).to.equal(null);
        expect(withBody({ path: '/bedrock/model/m/invoke', headers: { 'content-type': 'application/octet-stream' }, body: 'not json' }).model).to.equal(null);
        expect(withBody({ body: '' }).model).to.equal(null);
        expect(withBody({ body: json({ messages: [] }) }).model, 'a whole body without a model names none').to.equal(null);
        expect(withBody({ path: '/mcp', body: '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]' }).model, 'a JSON-RPC batch').to.equal(null);
        expect(withBody({ path: '/v1/batches', body: '{"input_file_id":' }).model).to.equal(null);
        expect(withBody({ path: '/v1/threads/t1/messages', headers: { 'x-envoy-auth-partial-body': 'true' }, body: filler }).model).to.equal(null);
        expect(withBody({ path: '/v1/messages', headers: { 'x-envoy-auth-partial-body': 'true' }, body: filler }).model, "Anthropic's messages").to.equal(UNREAD_MODEL);
      });
    });

    describe(`a body of ${LEAVE_PROMPT_FROM_BYTES} bytes or more (its prompt left undecoded until read)`, () => {
      const prompt = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `turn ${i} "quoted" \\ ${'x'.repeat(300)}` }));
      const large = { model: 'gpt-4o', messages: prompt, user: 'u1', metadata: { tags: ['t'] }, max_tokens: 9 };

      it('gives the facts a whole parse gives, from raw_body and from the body string', () => {
        expect(Buffer.byteLength(json(large))).to.be.at.least(LEAVE_PROMPT_FROM_BYTES);
        for (const facts of [withBody({ body: json(large) }), withBody({ raw_body: Buffer.from(json(large)) })]) {
          expect(facts).to.include({ bodyInvalid: false, bodyTruncated: false, model: 'gpt-4o', endUserId: 'u1' });
          expect(facts.body).to.deep.equal(large);
        }
      });

      it('refuses it as invalid when it is not well-formed outside the prompt, or nests too deep inside it', () => {
        const broken = `${json(large).slice(0, -1)},"user":}`;
        expect(withBody({ body: broken })).to.include({ body: null, bodyInvalid: true });
        const deep = json({ ...large, messages: 'DEEP' }).replace('"DEEP"', `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`);
        expect(withBody({ raw_body: Buffer.from(deep) })).to.include({ body: null, bodyInvalid: true });
      });

      it('reads a prompt that is malformed inside as null and the rest as sent', () => {
        const garbled = json({ ...large, messages: 'GARBLED' }).replace('"GARBLED"', `[1,,2,"${'y'.repeat(LEAVE_PROMPT_FROM_BYTES)}"]`);
        const facts = withBody({ raw_body: Buffer.from(garbled) });
        expect(facts).to.include({ bodyInvalid: false, model: 'gpt-4o', endUserId: 'u1' });
        expect(facts.body?.messages).to.equal(null);
      });

      it('keeps a "__proto__" key as data', () => {
        const facts = withBody({ body: `{"__proto__": {"model": "evil"}, "messages": "${'x'.repeat(LEAVE_PROMPT_FROM_BYTES)}", "user": "u"}` });
        expect(facts.model).to.equal(null);
        expect(facts.endUserId).to.equal('u');
      });
    });

    it("keeps the credential LiteLLM's JWT test reads when a mapped pass-through's litellm_user_api_key replaces it", () => {
      const facts = withBody({ path: '/vertex_ai/v1/projects/p/models/m:generateContent', headers: { authorization: 'Bearer a.b.c', litellm_user_api_key: 'sk-b' } });
      expect(facts.credential).to.deep.equal({ kind: 'present', value: 'sk-b', header: 'litellm_user_api_key' });
      expect(facts.jwtCredential).to.deep.equal({ kind: 'present', value: 'a.b.c', header: 'authorization' });
      expect(withBody({ headers: { authorization: 'Bearer sk-a' } }).jwtCredential, 'nothing replaced').to.equal(undefined);
    });

    it("reads a Realtime WebSocket handshake's model from the query, as LiteLLM builds its body", () => {
      const handshake = (path: string, headers: Record<string, string> = { upgrade: 'websocket', connection: 'Upgrade' }) =>
        withBody({ method: 'GET', path, headers: { ':method': 'GET', ...headers, authorization: 'Bearer sk-a' } });
      const facts = handshake('/v1/realtime?model=gpt-4o-realtime-preview');
      expect(facts).to.include({ webSocket: true, model: 'gpt-4o-realtime-preview' });
      expect(facts.body).to.deep.equal({ model: 'gpt-4o-realtime-preview' });
      expect(handshake('/realtime?model=a&model=b').model, 'the last of repeated parameters').to.equal('b');
      expect(handshake('/openai/v1/realtime').model, 'none named').to.equal(null);
      expect(handshake('/v1/realtime?model=x', { ':protocol': 'websocket' }).webSocket, 'HTTP/2 extended CONNECT').to.equal(true);
      const plain = handshake('/v1/realtime?model=x', {});
      expect(plain.webSocket, 'not an upgrade').to.equal(undefined);
      expect(plain.model, 'the query, as for any request').to.equal('x');
      expect(handshake('/v1/chat/completions?model=x').webSocket, 'not a WebSocket route').to.equal(undefined);
    });

    it('keeps the literal of a numeric user, which a JavaScript number would round', () => {
      expect(withBody({ body: '{"model":"m","user":1234567890123456789}' }).endUserId).to.equal('1234567890123456789');
      expect(withBody({ body: '{"model":"m","user":2.50}' }).endUserId).to.equal('2.5');
      expect(withBody({ body: '{"model":"m","metadata":{"user_id":"x"},"user":"s"}' }).endUserId).to.equal('s');
      expect(withBody({ body: '{"model":"m","metadata":{"user_id":"x"},"user":1e400}' }).endUserId, "Python's float('inf')").to.equal('inf');
      expect(withBody({ body: '{"model":"m","metadata":{"user_id":1234567890123456789}}' }).endUserId, 'nested').to.equal('1234567890123456789');
      expect(withBody({ body: '{"model":"m","safety_identifier":10000000000000000}' }).endUserId, 'safety_identifier').to.equal('10000000000000000');
      expect(withBody({ body: '{"model":"m","litellm_metadata":{"user":3.0,"user":7.50}}' }).endUserId, 'the last of a repeated key').to.equal('7.5');
      expect(withBody({ body: '{"model":"m","metadata":"{\\"user_id\\": 1234567890123456789}"}' }).endUserId, 'metadata sent as a JSON string').to.equal('1234567890123456789');
      expect(withBody({ body: '{"model":"m","metadata":{"user_id":"x"},"user":{"id":"u"}}' }).endUserId, 'an object names nobody (_coerce_user_id_to_str)').to.equal('x');
    });

    it('keeps a "__proto__" body key as data', () => {
      const facts = withBody({ body: '{"__proto__": {"model": "evil"}, "user": "u"}' });
      expect(facts.model).to.equal(null);
      expect(facts.endUserId).to.equal('u');
    });

    it('reads a body as JSON unless its media type is one of the two form types (an upstream reads `x=form` or `+json` as JSON)', () => {
      const body = json({ model: 'gpt-4o', api_base: 'http://evil.example', messages: [] });
      for (const contentType of ['application/json; x=form', 'application/vnd.form+json', 'application/json,multipart/form-data', 'multipart/form-data, application/json']) {
        const facts = withBody({ headers: { 'content-type': contentType }, body });
        expect(facts.model, contentType).to.equal('gpt-4o');
        expect(facts.body, contentType).to.deep.include({ api_base: 'http://evil.example' });
      }
      expect(withBody({ headers: { 'content-type': 'multipart/form-data, application/json' }, body: 'not json' }).model, 'unreadable either way').to.equal(UNREAD_MODEL);
      const upperJson = withBody({ headers: { 'content-type': 'Multipart/Form-Data; boundary=b' }, body });
      expect(upperJson, 'a form type LiteLLM reads as JSON (case-sensitive)').to.deep.include({ model: 'gpt-4o', body: { model: 'gpt-4o', api_base: 'http://evil.example', messages: [] } });
      // Not JSON, a form type LiteLLM's case-sensitive test misses is its 400 (test/envoy/body.test.ts).
      const upper = withBody({ path: '/v1/audio/transcriptions', headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded' }, body: 'model=whisper-1' });
      expect(upper, 'read as LiteLLM reads it, as none').to.deep.include({ model: null, body: null, invalidJson: INVALID_JSON_MESSAGE });
    });

    it("adds the query's parameters to the body without overwriting it, as LiteLLM's populate_request_with_path_params does", () => {
      const chat = withBody({ path: '/v1/chat/completions?model=gpt-4o&user=q-user&api_base=http://evil.example&x=1&x=2', body: json({ messages: [], user: 'body-user' }) });
      expect(chat.model).to.equal('gpt-4o');
      expect(chat.endUserId, 'the body wins').to.equal('body-user');
      expect(chat.body).to.deep.include({ api_base: 'http://evil.example', x: '2' });
      const repeated = withBody({ path: '/v1/chat/completions?a=1&b=1&a=2&c=1&b=2&a=3', body: json({ model: 'm' }) });
      expect(Object.entries(repeated.body ?? {}), 'the first-seen order, the last values').to.deep.equal([['model', 'm'], ['a', '3'], ['b', '2'], ['c', '1']]);
      const get = withBody({ method: 'GET', path: '/v1/models?user=q-user', body: '' });
      expect(get.endUserId).to.equal('q-user');
      expect(withBody({ path: '/v1/chat/completions?__proto__=x', body: json({ model: 'm' }) }).body?.['__proto__'], 'kept as data').to.equal('x');
      expect(withBody({ path: '/v1/chat/completions?model=m', body: '[' }).model, 'a body that is not JSON is decided as none, unmerged, as LiteLLM does').to.equal(null);
      expect(withBody({ path: '/v1/chat/completions?model=m', body: '["m"]' }).model, 'JSON that is no object stays unread').to.equal(UNREAD_MODEL);
    });

    it("adds the path's model of LiteLLM's {model:path} routes, after the query, never over the body", () => {
      expect(withBody({ path: '/engines/gpt-4o/chat/completions', body: json({ messages: [] }) }).model).to.equal('gpt-4o');
      expect(withBody({ path: '/openai/deployments/azure/gpt-4o/chat/completions', body: json({ messages: [] }) }).model, 'the longest capture').to.equal('azure/gpt-4o');
      // LiteLLM's auth checks the query's (merged first), its handler serves the path's: both are checked.
      expect(withBody({ path: '/engines/gpt-4o/embeddings?model=q', body: json({ input: 'x' }) }).model, 'the query first').to.deep.equal(['q', 'gpt-4o']);
      expect(withBody({ path: '/engines/gpt-4o/completions', body: json({ model: 'b' }) }).model, 'the body first, then the one served').to.deep.equal(['b', 'gpt-4o']);
      // Python's `.` stops only at \n, and get_model_from_request strips the name: LiteLLM checks gpt-x.
      expect(withBody({ path: '/engines/gpt-x%0D/chat/completions', body: json({ messages: [] }) }).model, 'a carriage return').to.equal('gpt-x');
      expect(withBody({ path: '/engines/gpt-x%E2%80%A8/chat/completions', body: json({ messages: [] }) }).model, 'U+2028').to.equal('gpt-x');
    });

    it("adds the model LiteLLM's handler serves (the path's, else ?model= on chat, completions and embeddings) to the body's, for the checks", () => {
      expect(withBody({ path: '/openai/deployments/gpt-4o/chat/completions', body: json({ model: 'mini' }) }).model, 'Azure-style').to.deep.equal(['mini', 'gpt-4o']);
      expect(withBody({ path: '/v1/chat/completions?model=gpt-4o', body: json({ model: 'mini' }) }).model, 'the query').to.deep.equal(['mini', 'gpt-4o']);
      expect(withBody({ path: '/v1/embeddings?model=a&model=gpt-4o', body: json({ model: 'mini' }) }).model, "the query's last").to.deep.equal(['mini', 'gpt-4o']);
      expect(withBody({ path: '/v1/chat/completions?model=%20mini%20', body: json({ model: 'mini' }) }).model, 'stripped as the body\'s is').to.equal('mini');
      expect(withBody({ path: '/v1/chat/completions?model=', body: json({ model: 'mini' }) }).model, 'an empty one passed over').to.equal('mini');
      expect(withBody({ path: '/v1/images/generations?model=gpt-4o', body: json({ model: 'mini' }) }).model, 'a handler without the parameter').to.equal('mini');
      // LiteLLM's route_request serves "a,b" as a batch to a and b: each is checked, as a body's list is.
      expect(withBody({ path: '/v1/chat/completions?model=gpt-4o,%20o3', body: json({ model: 'mini' }) }).model, 'a served list').to.deep.equal(['mini', 'gpt-4o', 'o3']);
      expect(withBody({ path: '/engines/openai/x,anthropic/y/chat/completions', body: json({ model: 'openai/x' }) }).model, "the path's list").to.deep.equal(['openai/x', 'anthropic/y']);
      expect(withBody({ path: '/v1/chat/completions?model=mini,', body: json({ model: 'mini' }) }).model, 'blanks dropped').to.equal('mini');
      expect(withBody({ path: '/v1/chat/completions?model=b,a', body: json({ model: 'a,b' }) }).model, 'the same names').to.deep.equal(['a', 'b']);
      const cut = withBody({ path: '/v1/chat/completions?model=gpt-4o', body: '{"messages": [{"role": "user", "content": "hi', headers: { 'x-envoy-auth-partial-body': 'true' } });
      expect(cut.model, 'a body cut before its model stays unread').to.equal(UNREAD_MODEL);
    });

    it("lists the path's vector store among vector_store_ids, as LiteLLM does for its access check", () => {
      expect(withBody({ method: 'GET', path: '/v1/vector_stores/vs_secret', body: '' }).body).to.deep.equal({ vector_store_id: 'vs_secret', vector_store_ids: ['vs_secret'] });
      expect(withBody({ path: '/v1/vector_stores/vs_2/search', body: json({ query: 'q', vector_store_ids: ['vs_1'] }) }).body).to.deep.include({ vector_store_ids: ['vs_1', 'vs_2'] });
      expect(withBody({ path: '/v1/vector_stores/vs_1/search', body: json({ vector_store_ids: ['vs_1'] }) }).body?.['vector_store_ids']).to.deep.equal(['vs_1']);
    });

    it("lists the path's vector store for a cut or unreadable body too: padding past Envoy's limit must not skip the store check", () => {
      const partial = { 'x-envoy-auth-partial-body': 'true' };
      const cut = withBody({ path: '/v1/vector_stores/vs_secret/search', headers: partial, body: '{"query":"q","vector_store_ids":["vs_1"],"filler":"xxxx' });
      expect(cut.bodyTruncated).to.equal(true);
      expect(cut.body?.['vector_store_ids']).to.deep.equal(['vs_1', 'vs_secret']);
      // A cut body's own vector_store_id may lie past the cut: only the list the access check reads grows.
      expect(cut.body).to.not.have.property('vector_store_id');
      const broken = withBody({ path: '/v1/vector_stores/vs_secret/search', body: '{"query": q}' });
      expect(broken.bodyInvalid).to.equal(true);
      expect(broken.body).to.deep.equal({ vector_store_ids: ['vs_secret'] });
      expect(withBody({ path: '/v1/chat/completions', headers: partial, body: '{"model":"m","x":"' }).body).to.deep.equal({ model: 'm' });
    });

    it("adds a managed id in the path under LiteLLM's parameter name, never over the body, and checks the models it encodes", () => {
      const managedFile = Buffer.from('litellm_proxy:application/jsonl;unified_id,u;target_model_names,model-b').toString('base64url');
      const retrieve = withBody({ method: 'GET', path: `/v1/files/${managedFile}/content`, body: '' });
      expect(retrieve.body).to.deep.equal({ file_id: managedFile });
      expect(retrieve.model).to.equal('model-b');
      expect(withBody({ method: 'POST', path: `/v1/batches/${managedFile}/cancel`, body: '' }).model).to.equal('model-b');
      expect(withBody({ path: `/v1/files/${managedFile}`, body: json({ file_id: 'file-plain' }) }).model, 'the body wins').to.equal(null);
      expect(withBody({ method: 'GET', path: '/v1/files/file-plain', body: '' }).model, 'a provider id names no model').to.equal(null);
    });

    it('reads the managed ids of a body cut short or unreadable, from its prefix, the query or the path: padding a body must not hide them', () => {
      const managedFile = Buffer.from('litellm_proxy:application/jsonl;unified_id,u;target_model_names,model-b').toString('base64url');
      const partial = { 'x-envoy-auth-partial-body': 'true' };
      const cutBatch = withBody({ path: '/v1/batches', headers: partial, body: `{"input_file_id":"${managedFile}","metadata":{"pad":"${'x'.repeat(64)}` });
      expect(cutBatch.model, 'an id whole in the prefix').to.equal('model-b');
      expect(cutBatch.body, 'the body as read').to.not.have.property('model');
      expect(withBody({ path: `/v1/batches/${managedFile}/cancel`, headers: partial, body: `{"pad":"${'x'.repeat(64)}` }).model, 'the path').to.equal('model-b');
      expect(withBody({ method: 'GET', path: `/v1/files/${managedFile}/content`, body: '{' }).model, 'an invalid body').to.equal('model-b');
      expect(withBody({ path: `/v1/files?file_id=${managedFile}`, headers: partial, body: '{"purpose":"batch' }).model, 'the query').to.equal('model-b');
      expect(withBody({ path: '/v1/chat/completions', headers: partial, body: '{"model":"gpt-4o","messages":[' }).model, 'a cut chat body as before').to.equal('gpt-4o');
    });

    it("resolves a managed video's deployment id with the resolver it is given (the router's model list)", () => {
      const videoId = `video_${Buffer.from('litellm:custom_llm_provider:openai;model_id:dep-1;video_id:v').toString('base64')}`;
      const request = aCheckRequest({ method: 'GET', path: `/v1/videos/${encodeURIComponent(videoId)}`, body: '' });
      expect(parseCheckRequest(request, settings).model).to.equal('dep-1');
      expect(parseCheckRequest(request, settings, (id) => (id === 'dep-1' ? 'sora-2' : null)).model).to.equal('sora-2');
    });

    it('merges nothing into a cut body (a field past the cut would win), and keeps the body as sent beside the merged one', () => {
      const cut = withBody({ path: '/v1/chat/completions?model=open-model&user=q', headers: { 'x-envoy-auth-partial-body': 'true' }, body: '{"api_base":"http://evil.example","messages":[{"role":"user","content":"' });
      expect(cut.body).to.not.have.property('model');
      expect(cut.endUserId).to.equal(null);
      const merged = withBody({ path: '/v1/chat/completions?metadata=x', body: json({ model: 'm' }) });
      expect(merged.sentBody).to.deep.equal({ model: 'm' });
      expect(withBody({ path: '/v1/chat/completions', body: json({ model: 'm' }) }).sentBody, 'nothing merged').to.equal(undefined);
    });

    it("copies a long body without decoding the prompt its parser left undecoded", () => {
      const prompt = 'p'.repeat(LEAVE_PROMPT_FROM_BYTES);
      const facts = withBody({ path: '/v1/chat/completions?api-version=2024-10-21', body: json({ model: 'm', messages: [{ role: 'user', content: prompt }] }) });
      const descriptor = Object.getOwnPropertyDescriptor(facts.body, 'messages');
      expect(descriptor?.get, 'still a lazy getter').to.be.a('function');
      expect(facts.body).to.include({ 'api-version': '2024-10-21' });
    });

    it('reads form-urlencoded bodies as fields, like LiteLLM reads forms', () => {
      const facts = withBody({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'model=whisper-1&user=u%201',
      });
      expect(facts.body).to.deep.equal({ model: 'whisper-1', user: 'u 1' });
      expect(facts).to.include({ model: 'whisper-1', endUserId: 'u 1', bodyInvalid: false });
    });

    it("reads an urlencoded form whole, as Starlette's FormParser does: no field limit", () => {
      const fields: [string, string][] = [...Array.from({ length: 5000 }, (_, i): [string, string] => [`f${i}`, 'x']), ['model', 'gpt-4-forbidden']];
      const facts = withBody({ path: '/v1/embeddings', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      expect(facts).to.include({ model: 'gpt-4-forbidden', bodyInvalid: false, unreadableForm: undefined });
    });

    it("leaves a multipart form unread where Starlette refuses it: over 1000 fields or 1000 files (counted apart), a part without a name", () => {
      const junk = (count: number, prefix = 'f'): [string, string][] => Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 'x']);
      const files = (count: number): [string, string, string][] => Array.from({ length: count }, (_, i) => [`file${i}`, 'RIFF', `a${i}.wav`]);
      const read = (parts: Array<[string, string] | [string, string, string]>) =>
        withBody({ path: '/v1/audio/transcriptions', headers: { 'content-type': 'multipart/form-data; boundary=B' }, raw_body: multipart('B', parts) });

      const most = read([...junk(999), ...files(1000), ['model', 'gpt-4-forbidden']]);
      expect(most, '1000 fields and 1000 files').to.include({ model: 'gpt-4-forbidden', bodyInvalid: false, unreadableForm: undefined });

      const fields = read([...junk(1000), ['model', 'gpt-4-forbidden']]);
      expect(fields, '1001 fields').to.include({ bodyInvalid: true, unreadableForm: 'Too many fields. Maximum number of fields is 1000.' });
      expect(fields.model).to.not.equal('gpt-4-forbidden');
      const tooManyFiles = read([...files(1001), ['model', 'gpt-4-forbidden']]);
      expect(tooManyFiles, '1001 files').to.include({ bodyInvalid: true, unreadableForm: 'Too many files. Maximum number of files is 1000.' });

      const nameless = Buffer.from('--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-4o\r\n--B--\r\n');
      const facts = withBody({ path: '/v1/audio/transcriptions', headers: { 'content-type': 'multipart/form-data; boundary=B' }, raw_body: nameless });
      expect(facts.unreadableForm).to.equal('The Content-Disposition header field "name" must be provided.');
    });

    it('reads multipart text fields, and file parts by name only (/audio/transcriptions)', () => {
      const body = multipart('XyZ', [
        ['model', 'whisper-1'],
        ['file', 'RIFF....', 'a.wav'],
        ['metadata', '{"user_id":"eu-7"}'],
      ]);
      const facts = withBody({ headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, raw_body: body });
      expect(facts.body).to.deep.equal({ model: 'whisper-1', file: FILE_PART, metadata: '{"user_id":"eu-7"}' });
      expect(facts).to.include({ model: 'whisper-1', endUserId: 'eu-7' });
    });

    it("reads part names as python-multipart does: unquoted, any case, ';' inside quotes, escapes", () => {
      const part = (disposition: string, value: string) => `--b\r\nContent-Disposition: ${disposition}\r\n\r\n${value}\r\n`;
      const body = Buffer.from(
        part('form-data; name=model', 'gpt-4o') +
          part('form-data; NAME="a;b"', '1') +
          part('form-data; name="q\\"x"', '2') +
          part('form-data; name=api_base; filename=x.txt', 'https://evil.example') +
          '--b--\r\n',
      );
      const facts = withBody({ path: '/v1/audio/transcriptions', headers: { 'content-type': 'multipart/form-data; boundary=b' }, raw_body: body });
      expect(facts.body).to.deep.equal({ model: 'gpt-4o', 'a;b': '1', 'q"x': '2', api_base: FILE_PART });
      expect(facts.model, 'the model checks see it').to.equal('gpt-4o');
    });

    it('recovers the model from the complete parts of a truncated multipart body', () => {
      const body = multipart('b', [['model', 'whisper-1'], ['file', 'x'.repeat(1000), 'a.wav']]);
      const facts = withBody({
        headers: { 'content-type': 'multipart/form-data; boundary="b"', 'x-envoy-auth-partial-body': 'true' },
        raw_body: body.subarray(0, 200),
      });
      expect(facts).to.include({ body: null, bodyTruncated: true, model: 'whisper-1' });
    });
  });

  describe('derived facts', () => {
    it('extracts the credential with the route and query', () => {
      const facts = parseCheckRequest(aCheckRequest({ path: '/v1beta/models/gemini:generateContent?key=sk-q' }), settings);
      expect(facts.credential).to.deep.equal({ kind: 'present', value: 'sk-q', header: '?key' });
      expect(facts.model).to.equal('gemini');
    });

    it('lets end-user headers beat the body', () => {
      const facts = parseCheckRequest(
        aCheckRequest({ headers: { 'x-litellm-end-user-id': 'hdr' }, body: json({ user: 'body' }) }),
        settings,
      );
      expect(facts.endUserId).to.equal('hdr');
    });
  });
});

function multipart(boundary: string, parts: Array<[string, string, string?]>): Buffer {
  const chunks = parts.map(([name, value, filename]) => {
    const disposition = `form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}`;
    return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n${value}\r\n`;
  });
  return Buffer.from(`${chunks.join('')}--${boundary}--\r\n`);
}
