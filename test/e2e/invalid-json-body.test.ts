/**
 * End to end: a body that is not JSON, through the real `tollgate serve` process on the embedded
 * SQLite store. Newer LiteLLM answers 400 "Invalid JSON payload" for a whole one once the caller
 * has passed its checks; a body Envoy cut short, or one sent as a form LiteLLM reads as one, is
 * decided as before. JSON sent under a form type LiteLLM's test misses is read as that JSON.
 */
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import type { CheckRequest } from '../../src/envoy/messages';
import { embeddedServerForSuite } from '../support/embedded-server';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';

const MASTER_KEY = 'sk-master-e2e-invalid-json-0123';

const KEYS = {
  anyModel: `sk-any-${uniqueId('k')}`,
  narrow: `sk-narrow-${uniqueId('k')}`,
  blocked: `sk-blocked-${uniqueId('k')}`,
};

const NOT_JSON = '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],}';

async function seed(settings: DatabaseSettings): Promise<void> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  await runMigrations(dataSource);
  const rows = new LiteLlmRows(dataSource);
  try {
    await rows.aKey({ token: hashKey(KEYS.anyModel) });
    await rows.aKey({ token: hashKey(KEYS.narrow), models: ['gpt-4o-mini'] });
    await rows.aKey({ token: hashKey(KEYS.blocked), blocked: true });
  } finally {
    await dataSource.destroy();
  }
}

describe('a request body that is not JSON, end to end', function () {
  this.timeout(60_000);
  const client = embeddedServerForSuite({ LITELLM_MASTER_KEY: MASTER_KEY }, seed);

  it("answers a whole one with LiteLLM's 400 envelope, sent as text or as raw bytes, for a key allowed every model or only some", async () => {
    for (const [key, asRawBody] of [[KEYS.anyModel, false], [KEYS.anyModel, true], [KEYS.narrow, false]] as const) {
      const response = await client.check(anEnvoyCheck({ key, body: NOT_JSON, asRawBody }));
      expect(denialOf(response).httpStatus, `${key} ${asRawBody}`).to.equal('BadRequest');
      expect(JSON.parse(response.denied_response?.body ?? 'null')).to.deep.equal({
        error: { message: 'Invalid JSON payload: the request body is not valid JSON', type: 'invalid_request_error', param: 'request_body', code: '400' },
      });
      expect(denialOf(response).contentType).to.equal('application/json');
    }
  });

  it('answers the master key with it too, and a text/plain body LiteLLM parses as JSON all the same', async () => {
    expect(denialOf(await client.check(anEnvoyCheck({ key: MASTER_KEY, body: NOT_JSON }))).type).to.equal('invalid_request_error');
    const plain = await client.check(anEnvoyCheck({ key: KEYS.anyModel, body: '{"model":"gpt-4o"} trailing', headers: { 'content-type': 'text/plain' } }));
    expect(denialOf(plain).type).to.equal('invalid_request_error');
  });

  it('answers an unknown key and a blocked key with their 401s first: LiteLLM authenticates before it raises the body error', async () => {
    const unknown = denialOf(await client.check(anEnvoyCheck({ key: `sk-unknown-${uniqueId('k')}`, body: NOT_JSON })));
    expect(unknown).to.include({ httpStatus: 'Unauthorized', type: 'token_not_found_in_db' });
    const blocked = denialOf(await client.check(anEnvoyCheck({ key: KEYS.blocked, body: NOT_JSON })));
    expect(blocked).to.include({ httpStatus: 'Unauthorized', type: 'auth_error' });
    expect(blocked.message).to.include('blocked');
  });

  it('decides the same body cut short by Envoy as before: the model unread, allowed for every model, refused when limited to some', async () => {
    const cut = { body: `${NOT_JSON}${' '.repeat(64)}`, truncateTo: 40 };
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEYS.anyModel, ...cut })))).to.equal(true);
    const narrow = denialOf(await client.check(anEnvoyCheck({ key: KEYS.narrow, ...cut })));
    expect(narrow).to.include({ httpStatus: 'Unauthorized', type: 'key_model_access_denied' });
  });

  it("lets a gzip'd body through, sent as bytes or in the body string (U+FFFD where it is not UTF-8): LiteLLM fails to decode it and reads it as empty", async () => {
    const gzipped = gzipSync(Buffer.from(JSON.stringify(chat('gpt-4o'))));
    const headers = { 'content-encoding': 'gzip', 'content-length': String(gzipped.length) };
    const asText = anEnvoyCheck({ key: KEYS.anyModel, body: gzipped.toString('utf8'), headers });
    expect(isAllowed(await client.check(asText)), 'as the body string').to.equal(true);
    expect(isAllowed(await client.check(withRawBody(anEnvoyCheck({ key: KEYS.anyModel, body: '', headers }), gzipped))), 'as bytes').to.equal(true);
  });

  it("lets a body that is not JSON through to LiteLLM's MCP server, whose auth reads a stand-in body, but not to its REST routes", async () => {
    expect(isAllowed(await client.check(anEnvoyCheck({ key: MASTER_KEY, path: '/mcp/', body: NOT_JSON })))).to.equal(true);
    expect(denialOf(await client.check(anEnvoyCheck({ key: MASTER_KEY, path: '/mcp-rest/tools/call', body: NOT_JSON }))).type).to.equal('invalid_request_error');
  });

  it('answers a form whose Content-Type LiteLLM reads as JSON with the 400: "form" in another case; not a repeat holding it, which Envoy joins', async () => {
    const form = ['--b', 'Content-Disposition: form-data; name="model"', '', 'whisper-1', '--b--', ''].join('\r\n');
    const upper = anEnvoyCheck({ key: KEYS.anyModel, path: '/v1/audio/transcriptions', body: form, headers: { 'content-type': 'Multipart/Form-Data; boundary=b' } });
    expect(denialOf(await client.check(upper)).type).to.equal('invalid_request_error');
    const repeated = withFirstHeader(
      anEnvoyCheck({ key: KEYS.anyModel, path: '/v1/audio/transcriptions', body: form, rawHeaders: true, headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
      'Content-Type',
      'application/json',
    );
    expect(isAllowed(await client.check(repeated)), 'two header_map entries').to.equal(true);
  });

  it('checks the model of JSON sent under a form type LiteLLM reads as JSON, as LiteLLM does: refused when the key may not call it', async () => {
    const headers = { 'content-type': 'Multipart/Form-Data; boundary=b' };
    const other = denialOf(await client.check(anEnvoyCheck({ key: KEYS.narrow, body: chat('gpt-4o'), headers })));
    expect(other).to.include({ httpStatus: 'Unauthorized', type: 'key_model_access_denied' });
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEYS.narrow, body: chat('gpt-4o-mini'), headers }))), 'its own model').to.equal(true);
  });

  it("does not answer JSON that is no object with the 400 (LiteLLM's reader returns it): its model is unread, allowed for every model, refused when limited to some", async () => {
    for (const body of ['[1,2]', '"x"', '3']) {
      expect(isAllowed(await client.check(anEnvoyCheck({ key: KEYS.anyModel, body }))), body).to.equal(true);
      expect(denialOf(await client.check(anEnvoyCheck({ key: KEYS.narrow, body }))), body).to.include({ httpStatus: 'Unauthorized', type: 'key_model_access_denied' });
      const upper = anEnvoyCheck({ key: KEYS.narrow, body, headers: { 'content-type': 'Multipart/Form-Data; boundary=b' } });
      expect(denialOf(await client.check(upper)), `${body} under a form type LiteLLM reads as JSON`).to.include({ type: 'key_model_access_denied' });
    }
  });

  it('leaves a multipart form alone, and allows a valid body as before', async () => {
    const form = ['--b', 'Content-Disposition: form-data; name="model"', '', 'whisper-1', '--b--', ''].join('\r\n');
    const upload = await client.check(
      anEnvoyCheck({ key: KEYS.anyModel, path: '/v1/audio/transcriptions', body: form, headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
    );
    expect(isAllowed(upload)).to.equal(true);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEYS.anyModel, body: chat('gpt-4o') })))).to.equal(true);
  });
});

/** The request (sent with `rawHeaders`) with one more header line before all the others. */
function withFirstHeader(request: CheckRequest, key: string, value: string): CheckRequest {
  const http = request.attributes?.request?.http;
  const lines = [{ key, raw_value: Buffer.from(value) }, ...(http?.header_map?.headers ?? [])];
  return { attributes: { ...request.attributes, request: { http: { ...http, header_map: { headers: lines } } } } };
}

/** The request with `bytes` as its raw_body (pack_as_bytes) instead of any body string. */
function withRawBody(request: CheckRequest, bytes: Buffer): CheckRequest {
  const http = request.attributes?.request?.http;
  const { body: _text, ...rest } = http ?? {};
  return { attributes: { ...request.attributes, request: { http: { ...rest, raw_body: bytes } } } };
}
