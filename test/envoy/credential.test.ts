import { expect } from 'chai';
import { credentialBeforePassThrough, QUERY_KEY_CREDENTIAL, withPassThroughKey } from '../../src/envoy/credential';
import type { Credential } from '../../src/domain/request';
import type { HeaderRecord } from '../../src/envoy/headers';
import type { EdgeSettings } from './fixtures';

/** The credential as envoy/attributes.ts reads it: the JWT-test form, then a pass-through's key. */
function extractCredential(headers: HeaderRecord, route: string, query: URLSearchParams, settings: EdgeSettings, webSocket = false): Credential {
  return withPassThroughKey(credentialBeforePassThrough(headers, route, query, settings, webSocket), headers, route, settings);
}
import { edgeSettings } from './fixtures';
import { passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';

const CHAT = '/chat/completions';
const noQuery = new URLSearchParams();

function extract(headers: Record<string, string>, opts: { route?: string; query?: string; customKeyHeader?: string } = {}) {
  return extractCredential(
    headers,
    opts.route ?? CHAT,
    new URLSearchParams(opts.query ?? ''),
    edgeSettings({ customKeyHeader: opts.customKeyHeader ?? null }),
  );
}

describe('extractCredential (litellm-auth.md §2.3)', () => {
  it('finds no credential when no key header is sent ("No api key passed in.")', () => {
    expect(extract({ 'content-type': 'application/json' })).to.deep.equal({ kind: 'none' });
  });

  describe('priority', () => {
    it('prefers x-litellm-api-key over Authorization (LiteLLM test_x_litellm_api_key)', () => {
      const c = extract({ 'x-litellm-api-key': 'Bearer sk-litellm', authorization: 'Bearer sk-provider' });
      expect(c).to.deep.equal({ kind: 'present', value: 'sk-litellm', header: 'x-litellm-api-key' });
    });

    it('prefers Authorization over API-Key, x-api-key, x-goog-api-key and Ocp-Apim-Subscription-Key', () => {
      const c = extract({
        authorization: 'Bearer sk-auth',
        'api-key': 'sk-azure',
        'x-api-key': 'sk-anthropic',
        'x-goog-api-key': 'sk-google',
        'ocp-apim-subscription-key': 'sk-apim',
      });
      expect(c).to.deep.equal({ kind: 'present', value: 'sk-auth', header: 'authorization' });
    });

    it('uses API-Key (Azure SDKs) before x-api-key', () => {
      expect(extract({ 'api-key': 'sk-azure', 'x-api-key': 'sk-anthropic' })).to.include({ value: 'sk-azure', header: 'api-key' });
    });

    it('uses x-api-key (Anthropic SDK) before x-goog-api-key', () => {
      expect(extract({ 'x-api-key': 'sk-anthropic', 'x-goog-api-key': 'sk-google' })).to.include({
        value: 'sk-anthropic',
        header: 'x-api-key',
      });
    });

    it('uses x-goog-api-key (Google AI Studio) before Ocp-Apim-Subscription-Key', () => {
      expect(extract({ 'x-goog-api-key': 'sk-google', 'ocp-apim-subscription-key': 'sk-apim' })).to.include({
        value: 'sk-google',
        header: 'x-goog-api-key',
      });
    });

    it('uses Ocp-Apim-Subscription-Key (Azure APIM) as the last header', () => {
      expect(extract({ 'ocp-apim-subscription-key': 'sk-apim' })).to.include({ value: 'sk-apim', header: 'ocp-apim-subscription-key' });
    });

    it('treats an empty header as absent, like FastAPI APIKeyHeader', () => {
      expect(extract({ 'x-litellm-api-key': '', authorization: '', 'x-api-key': 'sk-anthropic' })).to.include({
        header: 'x-api-key',
      });
    });

    it('takes the raw-key headers verbatim (no prefix stripping)', () => {
      expect(extract({ 'x-api-key': 'Bearer sk-1' })).to.include({ value: 'Bearer sk-1' });
    });
  });

  describe('Authorization prefixes', () => {
    it('strips "Bearer "', () => {
      expect(extract({ authorization: 'Bearer sk-1234' })).to.include({ value: 'sk-1234' });
    });

    it('strips "Basic " (Langfuse clients)', () => {
      expect(extract({ authorization: 'Basic sk-1234' })).to.include({ value: 'sk-1234' });
    });

    it('strips lower-case "bearer "', () => {
      expect(extract({ authorization: 'bearer sk-1234' })).to.include({ value: 'sk-1234' });
    });

    it('reads the key from LangChain AWS SigV4 "Credential=Bearer <key>/…"', () => {
      const value = 'AWS4-HMAC-SHA256 Credential=Bearer sk-abc/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=ff';
      expect(extract({ authorization: value })).to.include({ kind: 'present', value: 'sk-abc' });
    });

    it('reads a bare SigV4 Credential=<key>/… when no Bearer is inside', () => {
      expect(extract({ authorization: 'AWS4-HMAC-SHA256 Credential=sk-raw/2025/x, Signature=1' })).to.include({ value: 'sk-raw' });
    });

    it('is malformed for Authorization without a recognised prefix ("Ensure Key has `Bearer ` prefix")', () => {
      expect(extract({ authorization: 'sk-1234' })).to.deep.equal({ kind: 'malformed', header: 'authorization' });
    });

    it('is malformed for "Token sk-…" and for SigV4 without a Credential', () => {
      expect(extract({ authorization: 'Token sk-1234' })).to.deep.equal({ kind: 'malformed', header: 'authorization' });
      expect(extract({ authorization: 'AWS4-HMAC-SHA256 Signature=1' })).to.deep.equal({ kind: 'malformed', header: 'authorization' });
    });

    it('removes every "Bearer " like LiteLLM\'s str.replace, so the hashed key matches LiteLLM\'s', () => {
      expect(extract({ authorization: 'Bearer sk-aBearer b' })).to.include({ value: 'sk-ab' });
    });
  });

  describe('x-litellm-api-key', () => {
    it('uses a value without a prefix as the key itself', () => {
      expect(extract({ 'x-litellm-api-key': 'sk-plain' })).to.deep.equal({ kind: 'present', value: 'sk-plain', header: 'x-litellm-api-key' });
    });

    it('strips Bearer / Basic / bearer and reads SigV4', () => {
      expect(extract({ 'x-litellm-api-key': 'Basic sk-1' })).to.include({ value: 'sk-1' });
      expect(extract({ 'x-litellm-api-key': 'bearer sk-2' })).to.include({ value: 'sk-2' });
      expect(extract({ 'x-litellm-api-key': 'AWS4-HMAC-SHA256 Credential=Bearer sk-3/x' })).to.include({ value: 'sk-3' });
    });

    it('keeps a SigV4 value without Credential as is (it is not malformed on this header)', () => {
      expect(extract({ 'x-litellm-api-key': 'AWS4-HMAC-SHA256 x' })).to.include({ kind: 'present', value: 'AWS4-HMAC-SHA256 x' });
    });
  });

  describe('generateContent ?key=', () => {
    it('reads key= on generateContent routes when no header carries a key', () => {
      const c = extract({}, { route: '/v1beta/models/gemini-2.0-flash:generateContent', query: 'key=sk-goog&alt=sse' });
      expect(c).to.deep.equal({ kind: 'present', value: 'sk-goog', header: QUERY_KEY_CREDENTIAL });
    });

    it('reads key= on streamGenerateContent routes', () => {
      expect(extract({}, { route: '/v1beta/models/g:streamGenerateContent', query: 'key=sk-s' })).to.include({ value: 'sk-s' });
    });

    it('ignores key= on other routes', () => {
      expect(extract({}, { route: CHAT, query: 'key=sk-goog' })).to.deep.equal({ kind: 'none' });
    });

    it('lets any key header win over key=', () => {
      const c = extract({ 'x-goog-api-key': 'sk-h' }, { route: '/v1beta/models/g:generateContent', query: 'key=sk-q' });
      expect(c).to.include({ value: 'sk-h', header: 'x-goog-api-key' });
    });

    it('takes the last of repeated key= parameters, like Starlette', () => {
      expect(extract({}, { route: '/v1beta/models/g:generateContent', query: 'key=sk-a&key=sk-b' })).to.include({ value: 'sk-b' });
    });

    it('ignores an empty key=', () => {
      expect(extract({}, { route: '/v1beta/models/g:generateContent', query: 'key=' })).to.deep.equal({ kind: 'none' });
    });
  });

  describe('general_settings.litellm_key_header_name', () => {
    it('replaces the key found elsewhere with the custom header, Bearer-stripped', () => {
      const c = extract({ authorization: 'Bearer sk-provider', 'x-my-key': 'Bearer sk-mine' }, { customKeyHeader: 'x-my-key' });
      expect(c).to.deep.equal({ kind: 'present', value: 'sk-mine', header: 'x-my-key' });
    });

    it('is malformed when the custom header is missing, even if Authorization carries a key', () => {
      expect(extract({ authorization: 'Bearer sk-provider' }, { customKeyHeader: 'x-my-key' })).to.deep.equal({
        kind: 'malformed',
        header: 'x-my-key',
      });
    });

    it('is malformed when the custom header has no Bearer prefix (LiteLLM uses _get_bearer_token there)', () => {
      expect(extract({ 'x-my-key': 'sk-mine' }, { customKeyHeader: 'x-my-key' })).to.deep.equal({ kind: 'malformed', header: 'x-my-key' });
    });

    it('matches the custom header name case-insensitively', () => {
      expect(extract({ 'x-my-key': 'Bearer sk-mine' }, { customKeyHeader: 'X-My-Key' })).to.include({ value: 'sk-mine' });
    });
  });

  describe('litellm_user_api_key on mapped pass-through routes (check_api_key_for_custom_headers_or_pass_through_endpoints)', () => {
    const VERTEX = '/vertex_ai/v1/projects/p/locations/l/publishers/google/models/gemini:generateContent';

    it("takes the key from it, leaving Authorization to the provider's own credential", () => {
      expect(extract({ authorization: 'Bearer ya29.google-token', litellm_user_api_key: 'sk-litellm' }, { route: VERTEX })).to.deep.equal({
        kind: 'present',
        value: 'sk-litellm',
        header: 'litellm_user_api_key',
      });
      expect(extract({ authorization: 'Bearer sk-a', litellm_user_api_key: 'sk-b' }, { route: '/anthropic/v1/messages' })).to.include({ value: 'sk-b' });
    });

    it('uses it as sent (no Bearer stripping), and an empty one is malformed', () => {
      expect(extract({ litellm_user_api_key: 'Bearer sk-b' }, { route: '/anthropic/v1/messages' })).to.include({ value: 'Bearer sk-b' });
      expect(extract({ authorization: 'Bearer sk-a', litellm_user_api_key: '' }, { route: '/anthropic/v1/messages' })).to.deep.equal({
        kind: 'malformed',
        header: 'litellm_user_api_key',
      });
    });

    it('is ignored on any other route, and beats litellm_key_header_name on a mapped one', () => {
      expect(extract({ authorization: 'Bearer sk-a', litellm_user_api_key: 'sk-b' })).to.include({ value: 'sk-a', header: 'authorization' });
      expect(extract({ 'x-my-key': 'Bearer sk-a', litellm_user_api_key: 'sk-b' }, { route: '/bedrock/model/x/invoke', customKeyHeader: 'x-my-key' })).to.include({
        value: 'sk-b',
      });
    });
  });

  it('does not mistake Object.prototype names for headers', () => {
    const headers: Record<string, string> = {};
    expect(extractCredential(headers, CHAT, noQuery, edgeSettings({ customKeyHeader: 'constructor' }))).to.deep.equal({
      kind: 'malformed',
      header: 'constructor',
    });
  });
});

describe("extractCredential on a WebSocket handshake (LiteLLM's user_api_key_auth_websocket)", () => {
  const ws = (headers: Record<string, string>, settings = edgeSettings()) => extractCredential(headers, '/v1/realtime', new URLSearchParams(), settings, true);

  it('takes Authorization: Bearer, else api-key', () => {
    expect(ws({ authorization: 'Bearer sk-a', 'api-key': 'sk-b' })).to.deep.equal({ kind: 'present', value: 'sk-a', header: 'authorization' });
    expect(ws({ authorization: 'Bearer  sk-a  ' }), 'the rest is stripped').to.deep.equal({ kind: 'present', value: 'sk-a', header: 'authorization' });
    expect(ws({ 'api-key': 'sk-b' })).to.deep.equal({ kind: 'present', value: 'sk-b', header: 'api-key' });
    expect(ws({ authorization: '', 'api-key': 'sk-b' }), 'an empty Authorization is absent').to.deep.equal({ kind: 'present', value: 'sk-b', header: 'api-key' });
  });

  it('refuses Authorization without the exact "Bearer " prefix, and a handshake without either header', () => {
    for (const authorization of ['bearer sk-a', 'Basic sk-a', 'sk-a']) {
      expect(ws({ authorization, 'api-key': 'sk-b' }), authorization).to.deep.equal({ kind: 'refused', message: 'Invalid Authorization header format', header: 'authorization' });
    }
    const elsewhere: Array<Record<string, string>> = [{}, { 'x-litellm-api-key': 'sk-a' }, { 'x-api-key': 'sk-a' }, { 'x-goog-api-key': 'sk-a' }];
    for (const headers of elsewhere) {
      expect(ws(headers), JSON.stringify(headers)).to.deep.equal({ kind: 'refused', message: 'No API key provided', header: null });
    }
  });

  it('takes the key a browser sends as an openai-insecure-api-key.<key> subprotocol when neither header carries one, as newer LiteLLM does', () => {
    const protocols = 'realtime, openai-insecure-api-key.sk-browser, openai-beta.realtime-v1';
    expect(ws({ 'sec-websocket-protocol': protocols })).to.deep.equal({ kind: 'present', value: 'sk-browser', header: 'sec-websocket-protocol' });
    expect(ws({ 'sec-websocket-protocol': 'openai-insecure-api-key.sk-first,openai-insecure-api-key.sk-second' }), 'the first entry').to.include({ value: 'sk-first' });
    expect(ws({ 'sec-websocket-protocol': protocols, 'api-key': 'sk-b' }), 'api-key comes first').to.include({ value: 'sk-b', header: 'api-key' });
    expect(ws({ 'sec-websocket-protocol': protocols, authorization: 'Bearer sk-a' }), 'Authorization comes first').to.include({ value: 'sk-a' });
    expect(ws({ 'sec-websocket-protocol': protocols, 'api-key': '' }), 'an empty api-key is absent').to.include({ value: 'sk-browser' });
    const keyless = ['realtime', 'openai-insecure-api-key.', 'openai-insecure-api-key., openai-insecure-api-key.sk-later', 'x-openai-insecure-api-key.sk-a'];
    for (const value of keyless) {
      expect(ws({ 'sec-websocket-protocol': value }), value).to.deep.equal({ kind: 'refused', message: 'No API key provided', header: null });
    }
  });

  it('reads "Bearer " with nothing after it as a malformed key, and lets litellm_key_header_name replace the key', () => {
    expect(ws({ authorization: 'Bearer ' })).to.deep.equal({ kind: 'malformed', header: 'authorization' });
    expect(ws({ authorization: 'Bearer sk-a', 'x-proxy-key': 'Bearer sk-c' }, edgeSettings({ customKeyHeader: 'x-proxy-key' }))).to.deep.equal({
      kind: 'present',
      value: 'sk-c',
      header: 'x-proxy-key',
    });
  });
});

describe('extractCredential with general_settings.pass_through_endpoints', () => {
  const endpoints = passThroughEndpointsOf([
    { path: '/svc', auth: true, headers: { litellm_user_api_key: 'X-Svc-Key' } },
    { path: '/api/public/ingestion', auth: true, custom_auth_parser: 'langfuse' },
  ]);
  const extractOn = (route: string, headers: Record<string, string>) =>
    extractCredential(headers, route, new URLSearchParams(), edgeSettings({ passThroughEndpoints: [...endpoints] }));

  it("takes the key from the endpoint's header, raw, when no usual header carries one", () => {
    expect(extractOn('/svc', { 'x-svc-key': 'sk-svc' })).to.deep.equal({ kind: 'present', value: 'sk-svc', header: 'x-svc-key' });
    expect(extractOn('/svc', { 'x-svc-key': 'Bearer sk-svc' }), 'not Bearer-stripped').to.include({ value: 'Bearer sk-svc' });
    expect(extractOn('/svc', { 'x-svc-key': '' }), 'present but empty').to.deep.equal({ kind: 'malformed', header: 'x-svc-key' });
    expect(extractOn('/svc', { authorization: 'Bearer sk-a', 'x-svc-key': 'sk-svc' }), 'Authorization comes first').to.include({ value: 'sk-a' });
    expect(extractOn('/svc/sub', { 'x-svc-key': 'sk-svc' }), 'exact path only').to.deep.equal({ kind: 'none' });
  });

  it("reads a Langfuse endpoint's key as the user name of its Basic credential", () => {
    const basic = `Basic ${Buffer.from('sk-langfuse-public:sk-lf-secret').toString('base64')}`;
    expect(extractOn('/api/public/ingestion', { authorization: basic })).to.deep.equal({ kind: 'present', value: 'sk-langfuse-public', header: 'authorization' });
    expect(extractOn('/api/public/ingestion', { authorization: 'Basic abcde' }), 'not base64: LiteLLM raises').to.deep.equal({ kind: 'malformed', header: 'authorization' });
    expect(extractOn('/other', { authorization: basic }), 'elsewhere the Basic value is the key').to.include({ value: basic.slice('Basic '.length) });
  });
});
