/**
 * The message shapes in src/envoy/messages.ts against real protobuf bytes: requests built from the
 * field numbers in Envoy's .proto files (not from our own names), responses read back by field number.
 */
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { callCheck, createAuthorizationClient } from '../../src/envoy/client';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { fromStruct, toStruct } from '../../src/envoy/messages';
import { AUTHORIZATION_SERVICE, authorizationPackage, authorizationService, CHECK_METHOD_PATH } from '../../src/envoy/protos';
import { toCheckResponse } from '../../src/envoy/response';
import { aDeny, anAllow, edgeSettings, identityHeadersBut, someFacts } from './fixtures';
import { bytesField, mapEntry, message, readFields, sub, text, varintField } from './wire';

const settings = edgeSettings({ basePath: '/genai' });
const KEY = 'sk-wire-0123456789';

/** A CheckRequest as Envoy puts it on the wire, field numbers from attribute_context.proto / base.proto. */
function envoyCheckRequestBytes(): Buffer {
  const socketAddress = message(1 /* Address.socket_address */, bytesField(2, '203.0.113.9'), varintField(3, 44321));
  const source = message(1 /* AttributeContext.source */, message(1 /* Peer.address */, socketAddress));
  const http = message(
    2 /* Request.http */,
    bytesField(1, 'req-wire-1'), // id
    bytesField(2, 'POST'), // method
    mapEntry(3, ':path', '/genai/v1/chat/completions?stream=true'), // headers
    mapEntry(3, 'authorization', `Bearer ${KEY}`),
    mapEntry(3, 'x-litellm-end-user-id', 'eu-wire'),
    mapEntry(3, 'content-length', '37'),
    bytesField(4, '/genai/v1/chat/completions?stream=true'), // path
    bytesField(5, 'api.example'), // host
    bytesField(6, 'https'), // scheme
    varintField(9, 37), // size (int64)
    bytesField(10, 'HTTP/2'), // protocol
    bytesField(12, Buffer.from('{"model":"gpt-4o","user":"body-user"}')), // raw_body
  );
  const request = message(4 /* AttributeContext.request */, http);
  const contextExtensions = mapEntry(10, 'tenant', 'acme');
  // map<string, Struct> value (2) → Struct.fields (1) entry {key 1, Value 2 {string_value 3}}
  const struct = message(2, message(1, bytesField(1, 'sub'), message(2, bytesField(3, 'user-from-jwt'))));
  const metadata = message(11 /* metadata_context */, message(1 /* filter_metadata */, bytesField(1, 'envoy.filters.http.jwt_authn'), struct));
  return message(1 /* CheckRequest.attributes */, source, request, contextExtensions, metadata);
}

/** The same request with encode_raw_headers: header_map (13) of {key, raw_value}, no headers map. */
function envoyRawHeaderRequestBytes(): Buffer {
  const header = (key: string, raw: string): Buffer => message(1, bytesField(1, key), bytesField(3, Buffer.from(raw)));
  const http = message(
    2,
    bytesField(2, 'POST'),
    bytesField(4, '/v1/chat/completions'),
    message(13, header('x-litellm-api-key', KEY), header('x-dup', 'a'), header('x-dup', 'b')),
    bytesField(11, '{"model":"claude-3"'), // body (string), cut short
  );
  return message(1, message(4, http));
}

describe('ext_authz protos on the wire', () => {
  const check = () => authorizationService().Check;

  it('loads envoy.service.auth.v3.Authorization/Check once from @grpc/grpc-js-xds', () => {
    expect(check().path).to.equal(CHECK_METHOD_PATH).and.equal('/envoy.service.auth.v3.Authorization/Check');
    expect(authorizationPackage()).to.equal(authorizationPackage());
    expect(authorizationPackage()).to.have.property(AUTHORIZATION_SERVICE);
  });

  it('decodes Envoy CheckRequest bytes into the fields messages.ts names', () => {
    const request = check().requestDeserialize(envoyCheckRequestBytes());
    const http = request.attributes?.request?.http;
    expect(request.attributes?.source?.address?.socket_address).to.deep.include({ address: '203.0.113.9', port_value: 44321 });
    expect(http).to.deep.include({ id: 'req-wire-1', method: 'POST', host: 'api.example', scheme: 'https', size: '37', protocol: 'HTTP/2' });
    expect(http?.headers?.authorization).to.equal(`Bearer ${KEY}`);
    expect(Buffer.isBuffer(http?.raw_body)).to.equal(true);
    expect(request.attributes?.context_extensions).to.deep.equal({ tenant: 'acme' });
    const jwt = request.attributes?.metadata_context?.filter_metadata?.['envoy.filters.http.jwt_authn'];
    expect(fromStruct(jwt)).to.deep.equal({ sub: 'user-from-jwt' });
  });

  it('turns the decoded wire request into RequestFacts', () => {
    const facts = parseCheckRequest(check().requestDeserialize(envoyCheckRequestBytes()), settings);
    expect(facts).to.deep.include({
      requestId: 'req-wire-1',
      method: 'POST',
      route: '/v1/chat/completions',
      body: { model: 'gpt-4o', user: 'body-user', stream: 'true' },
      bodyTruncated: false,
      model: 'gpt-4o',
      endUserId: 'eu-wire',
      sourceAddress: '203.0.113.9',
      credential: { kind: 'present', value: KEY, header: 'authorization' },
    });
  });

  it('reads header_map raw_value bytes from the wire; a cut body without a partial signal is invalid', () => {
    const request = check().requestDeserialize(envoyRawHeaderRequestBytes());
    expect(request.attributes?.request?.http?.headers).to.equal(undefined);
    const facts = parseCheckRequest(request, settings);
    expect(facts.headers['x-dup']).to.equal('a,b');
    expect(facts.credential).to.deep.equal({ kind: 'present', value: KEY, header: 'x-litellm-api-key' });
    expect(facts).to.include({ body: null, bodyInvalid: true });
  });

  it('serializes an allow so Envoy reads status 0, overwrite headers, removals and metadata', () => {
    const facts = someFacts({
      credential: { kind: 'present', value: KEY, header: 'authorization' },
      headers: { 'x-tollgate-user-id': 'forged' },
    });
    const response = toCheckResponse(anAllow({ keyHash: 'h'.repeat(64), teamId: 't-1' }, 'authorization'), facts, settings);
    const wire = readFields(check().responseSerialize(response));

    expect(sub(wire, 1).get(1) ?? [0], 'status.code').to.deep.equal([0]);
    expect(wire.has(2), 'no denied_response').to.equal(false);
    const ok = sub(wire, 3);
    const headers = (ok.get(2) ?? []).map((h) => readFields(h as Buffer));
    expect(headers.map((h) => [text(sub(h, 1), 1), text(sub(h, 1), 2), h.get(3)?.[0]])).to.deep.equal([
      ['x-tollgate-key-hash', 'h'.repeat(64), 2 /* OVERWRITE_IF_EXISTS_OR_ADD */],
      ['x-tollgate-team-id', 't-1', 2],
    ]);
    expect((ok.get(5) ?? []).map((b) => (b as Buffer).toString())).to.deep.equal([
      ...identityHeadersBut('x-tollgate-key-hash', 'x-tollgate-team-id'),
      'authorization',
    ]);
    const metadataFields = (sub(wire, 4).get(1) ?? []).map((entry) => readFields(entry as Buffer));
    expect(metadataFields.map((e) => [text(e, 1), text(sub(e, 2), 3 /* string_value */)])).to.deep.equal([
      ['key_hash', 'h'.repeat(64)],
      ['team_id', 't-1'],
    ]);
  });

  it('round-trips an allow through proto-loader without losing a field', () => {
    const facts = someFacts({
      credential: { kind: 'present', value: KEY, header: '?key' },
      headers: { 'x-tollgate-team-id': 'forged' },
    });
    const response = toCheckResponse(anAllow({ userId: 'u', model: 'a,b' }), facts, settings);
    const decoded = check().responseDeserialize(check().responseSerialize(response));
    expect(decoded).to.deep.equal({ ...response, http_response: 'ok_response', dynamic_metadata: withKinds(response) });
    expect(decoded.ok_response?.headers_to_remove).to.deep.equal(identityHeadersBut('x-tollgate-user-id', 'x-tollgate-model'));
    expect(decoded.ok_response?.query_parameters_to_remove).to.deep.equal(['key']);
  });

  it('serializes a denial with the HTTP status as type.v3.StatusCode and gRPC UNAUTHENTICATED', () => {
    const response = toCheckResponse(aDeny({ status: 401, type: 'expired_key', message: 'Expired' }), someFacts(), settings);
    const wire = readFields(check().responseSerialize(response));
    expect(sub(wire, 1).get(1)).to.deep.equal([16]);
    const denied = sub(wire, 2);
    expect(sub(denied, 1).get(1), 'HttpStatus.code').to.deep.equal([401]);
    const header = readFields((denied.get(2) ?? [])[0] as Buffer);
    expect([text(sub(header, 1), 1), text(sub(header, 1), 2), header.get(3)?.[0]]).to.deep.equal(['content-type', 'application/json', 2]);
    expect(JSON.parse(text(denied, 3))).to.deep.equal({ error: { message: 'Expired', type: 'expired_key', param: null, code: '401' } });
    expect(wire.has(3), 'no ok_response').to.equal(false);
  });

  it('encodes every status LiteLLM denies with as a named StatusCode enum value', () => {
    const names: Record<number, string> = {
      400: 'BadRequest',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'NotFound',
      429: 'TooManyRequests',
      500: 'InternalServerError',
      503: 'ServiceUnavailable',
    };
    for (const [status, name] of Object.entries(names)) {
      const response = toCheckResponse(aDeny({ status: Number(status) }), someFacts(), settings);
      const decoded = check().responseDeserialize(check().responseSerialize(response));
      expect(decoded.denied_response?.status?.code, status).to.equal(name);
      expect(decoded.http_response).to.equal('denied_response');
    }
  });

  it('encodes nested and non-string metadata through toStruct', () => {
    const struct = toStruct({ s: 'x', n: 1.5, b: true, z: null, l: ['a', 2], o: { k: 'v' } });
    const decoded = check().responseDeserialize(check().responseSerialize({ status: { code: 0 }, dynamic_metadata: struct }));
    expect(fromStruct(decoded.dynamic_metadata)).to.deep.equal({ s: 'x', n: 1.5, b: true, z: null, l: ['a', 2], o: { k: 'v' } });
  });

  describe('over gRPC on 127.0.0.1', () => {
    let server: grpc.Server;
    let client: grpc.Client;
    let received: CheckRequest | undefined;

    before(async () => {
      server = new grpc.Server();
      server.addService(authorizationService(), {
        Check: (call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>, callback: grpc.sendUnaryData<CheckResponse>) => {
          received = call.request;
          const facts = parseCheckRequest(call.request, settings);
          const decision =
            facts.credential.kind === 'present' ? anAllow({ keyHash: 'k', model: facts.model as string }) : aDeny({ status: 401 });
          callback(null, toCheckResponse(decision, facts, settings));
        },
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
      );
      client = createAuthorizationClient(`127.0.0.1:${port}`);
    });

    after(() => {
      client?.close();
      server?.forceShutdown();
    });

    it('answers a Check like Envoy would receive it', async () => {
      const request: CheckRequest = {
        attributes: {
          request: {
            http: {
              method: 'POST',
              path: '/genai/chat/completions',
              headers: { authorization: `Bearer ${KEY}` },
              raw_body: Buffer.from('{"model":"gpt-4o-mini"}'),
            },
          },
        },
      };
      const response = await callCheck(client, request, { timeoutMs: 2000 });
      expect(Buffer.isBuffer(received?.attributes?.request?.http?.raw_body)).to.equal(true);
      expect(response.status).to.deep.equal({ code: 0 });
      expect(response.http_response).to.equal('ok_response');
      expect(response.ok_response?.headers?.map((h) => [h.header?.key, h.header?.value, h.append_action])).to.deep.equal([
        ['x-tollgate-key-hash', 'k', 'OVERWRITE_IF_EXISTS_OR_ADD'],
        ['x-tollgate-model', 'gpt-4o-mini', 'OVERWRITE_IF_EXISTS_OR_ADD'],
      ]);
      expect(response.ok_response?.headers_to_remove).to.deep.equal([...identityHeadersBut('x-tollgate-key-hash', 'x-tollgate-model'), 'authorization']);
    });

    it('answers a denial with its local reply', async () => {
      const response = await callCheck(client, { attributes: { request: { http: { path: '/chat/completions' } } } });
      expect(response.status?.code).to.equal(16);
      expect(response.denied_response?.status?.code).to.equal('Unauthorized');
      expect(JSON.parse(response.denied_response?.body ?? '{}').error.code).to.equal('401');
    });
  });
});

/** proto-loader adds the oneof discriminator `kind` to each decoded Struct value. */
function withKinds(response: CheckResponse): CheckResponse['dynamic_metadata'] {
  const fields = Object.entries(response.dynamic_metadata?.fields ?? {}).map(([k, v]) => [k, { ...v, kind: 'stringValue' }]);
  return { fields: Object.fromEntries(fields) };
}
