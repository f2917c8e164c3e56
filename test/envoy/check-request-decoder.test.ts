import { expect } from 'chai';
import fc from 'fast-check';
import { decodeCheckRequest, ProtobufDecodeError, REQUEST_FIELD } from '../../src/envoy/check-request-decoder';
import { bytesField, message } from './wire';
import { toStruct, type CheckRequest, type HttpRequest, type Peer } from '../../src/envoy/messages';
import { authorizationService } from '../../src/envoy/protos';
import { expectProtoFieldNumbers, jsonValues } from './proto-fields';
import { anEnvoyCheck, chat } from '../support/envoy-requests';

const method = authorizationService().Check;

/** The decoder must read exactly what proto-loader reads for the fields messages.ts declares. */
function expectSameAsProtoLoader(request: CheckRequest): void {
  const bytes = method.requestSerialize(request);
  expect(decodeCheckRequest(bytes)).to.deep.equal(method.requestDeserialize(bytes));
}

describe('decodeCheckRequest (CheckRequest wire decoding without protobufjs conversion)', () => {
  it('uses the field numbers of the loaded Envoy protos', () => {
    expectProtoFieldNumbers(REQUEST_FIELD, [
      ['CheckRequest', 'envoy.service.auth.v3.CheckRequest'],
      ['AttributeContext', 'envoy.service.auth.v3.AttributeContext'],
      ['Peer', 'envoy.service.auth.v3.AttributeContext.Peer'],
      ['Address', 'envoy.config.core.v3.Address'],
      ['SocketAddress', 'envoy.config.core.v3.SocketAddress'],
      ['Request', 'envoy.service.auth.v3.AttributeContext.Request'],
      ['HttpRequest', 'envoy.service.auth.v3.AttributeContext.HttpRequest'],
      ['HeaderMap', 'envoy.config.core.v3.HeaderMap'],
      ['HeaderValue', 'envoy.config.core.v3.HeaderValue'],
      ['Metadata', 'envoy.config.core.v3.Metadata'],
      ['Struct', 'google.protobuf.Struct'],
      ['Value', 'google.protobuf.Value'],
      ['ListValue', 'google.protobuf.ListValue'],
    ]);
  });

  it('reads what Envoy sends for a chat completion as proto-loader does', () => {
    expectSameAsProtoLoader(anEnvoyCheck({ key: 'sk-decoder-0123456789', body: chat('gpt-4o') }));
  });

  it('reads int64 sizes, raw bodies, raw header values, peers and forwarded metadata as proto-loader does', () => {
    expectSameAsProtoLoader({
      attributes: {
        source: { address: { socket_address: { address: '10.0.0.7', port_value: 0 } }, principal: 'spiffe://a', labels: { a: 'b' } },
        destination: { address: { socket_address: { address: '10.0.0.8', port_value: 8080 } }, service: 'llm' },
        request: {
          http: {
            id: '',
            size: '-1',
            raw_body: Buffer.from([0, 1, 2, 255]),
            header_map: { headers: [{ key: 'x', raw_value: Buffer.from('v') }, { key: 'y', value: '' }] },
          },
        },
        context_extensions: { route: 'chat' },
        metadata_context: {
          filter_metadata: {
            'envoy.filters.http.jwt_authn': toStruct({ claims: { sub: 'u', n: 1.5, ok: true, none: null, list: [1, 'a', []], empty: {} } }),
          },
        },
      },
    });
    expectSameAsProtoLoader({ attributes: { request: { http: { size: '9007199254740993' } } } });
    expectSameAsProtoLoader({});
    expectSameAsProtoLoader({ attributes: {} });
  });

  it('reads varints at every byte-length boundary as proto-loader does', () => {
    const port = (port_value: number): CheckRequest => ({
      attributes: { source: { address: { socket_address: { address: 'a', port_value } } } },
    });
    for (const bits of [0, 7, 14, 21, 28, 32]) {
      for (const value of [2 ** bits - 1, 2 ** bits, 2 ** bits + 1]) if (value <= 2 ** 32 - 1) expectSameAsProtoLoader(port(value));
    }
    const size = (value: bigint): CheckRequest => ({ attributes: { request: { http: { size: String(value) } } } });
    for (const bits of [0n, 7n, 14n, 21n, 28n, 35n, 42n, 48n, 49n, 50n, 53n, 56n, 63n]) {
      for (const value of [2n ** bits - 1n, 2n ** bits, -(2n ** bits)]) if (value < 2n ** 63n) expectSameAsProtoLoader(size(value));
    }
    // A uint32 written as a ten-byte varint (as some encoders write negative int32s): bytes 6–10 only
    // carry high bits, which uint32 drops.
    const tenBytes = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const socketAddress = Buffer.concat([Buffer.from([(REQUEST_FIELD.SocketAddress.port_value << 3) | 0]), tenBytes]);
    const bytes = bytesField(
      REQUEST_FIELD.CheckRequest.attributes,
      message(REQUEST_FIELD.AttributeContext.source, message(REQUEST_FIELD.Peer.address, bytesField(REQUEST_FIELD.Address.socket_address, socketAddress))),
    );
    expect(decodeCheckRequest(bytes)).to.deep.equal(method.requestDeserialize(bytes));
    expect(decodeCheckRequest(bytes).attributes?.source?.address?.socket_address?.port_value).to.equal(2 ** 32 - 1);
    const elevenBytes = Buffer.concat([Buffer.from([(REQUEST_FIELD.SocketAddress.port_value << 3) | 0]), Buffer.alloc(10, 0xff), Buffer.from([1])]);
    expect(() => decodeCheckRequest(bytesField(1, message(1, message(1, bytesField(1, elevenBytes)))))).to.throw(ProtobufDecodeError, /longer than 10 bytes/);
  });

  it('reads header names right when names of the same length and ends alternate (reused key text)', () => {
    // Same length, first, middle and last byte: the same slot of the decoder's key cache.
    const names = ['abcdefgh', 'abCdefgh', 'abcdeFgh', 'abcdefgh', 'a\u00e9cdefh', 'a'.repeat(80), 'a'.repeat(79) + 'b', ''];
    for (let round = 0; round < 3; round += 1) {
      for (const name of names) {
        const request: CheckRequest = { attributes: { request: { http: { headers: { [name]: `v-${round}`, other: 'o' } } } } };
        expectSameAsProtoLoader(request);
        expect(Object.keys(decodeCheckRequest(method.requestSerialize(request)).attributes?.request?.http?.headers ?? {})).to.include(name);
      }
    }
    // Invalid UTF-8 in a name decodes as proto-loader decodes it, first time and from the cache.
    const raw = Buffer.from([0x61, 0xff, 0x62]);
    const bytes = bytesField(
      REQUEST_FIELD.CheckRequest.attributes,
      message(REQUEST_FIELD.AttributeContext.request, message(REQUEST_FIELD.Request.http, message(REQUEST_FIELD.HttpRequest.headers, bytesField(1, raw), bytesField(2, 'v')))),
    );
    expect(decodeCheckRequest(bytes)).to.deep.equal(method.requestDeserialize(bytes));
    expect(decodeCheckRequest(bytes)).to.deep.equal(method.requestDeserialize(bytes));
  });

  it('keeps a header named __proto__ as a header, not as a prototype', () => {
    const decoded = decodeCheckRequest(method.requestSerialize({ attributes: { request: { http: { headers: { a: '1' } } } } }));
    // The headers map inherits no names (so it can serve as the Check's header record as it is).
    const decodedHeaders = decoded.attributes?.request?.http?.headers ?? {};
    expect(Object.getPrototypeOf(Object.getPrototypeOf(decodedHeaders))).to.equal(null);
    expect('toString' in decodedHeaders).to.equal(false);
    const bytes = method.requestSerialize(anEnvoyCheck({ key: 'sk-x-0123456789', headers: { ['__proto__']: 'p' } }));
    const headers = decodeCheckRequest(bytes).attributes?.request?.http?.headers ?? {};
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).to.equal('p');
  });

  it('refuses metadata nested deeper than protobufjs allows, with a decode error, at the same depth', () => {
    // Built with the test's own wire writer: protobufjs will not even encode such nesting.
    const nested = (levels: number): Buffer => {
      let value = bytesField(REQUEST_FIELD.Value.stringValue, 'leaf');
      for (let i = 0; i < levels; i += 1) {
        const struct = message(REQUEST_FIELD.Struct.fields, bytesField(1, 'n'), bytesField(2, value));
        value = bytesField(REQUEST_FIELD.Value.structValue, struct);
      }
      const struct = message(REQUEST_FIELD.Struct.fields, bytesField(1, 'n'), bytesField(2, value));
      const metadata = message(REQUEST_FIELD.Metadata.filter_metadata, bytesField(1, 'ns'), bytesField(2, struct));
      return bytesField(REQUEST_FIELD.CheckRequest.attributes, bytesField(REQUEST_FIELD.AttributeContext.metadata_context, metadata));
    };
    expect(() => decodeCheckRequest(nested(5_000))).to.throw(ProtobufDecodeError, /maximum nesting depth/);
    let deepestAccepted = -1;
    for (let levels = 40; levels < 60; levels += 1) {
      const bytes = nested(levels);
      let reference: CheckRequest | null = null;
      try {
        reference = method.requestDeserialize(bytes);
      } catch {
        expect(() => decodeCheckRequest(bytes), `${levels} levels`).to.throw(ProtobufDecodeError);
        continue;
      }
      expect(decodeCheckRequest(bytes), `${levels} levels`).to.deep.equal(reference);
      deepestAccepted = levels;
    }
    expect(deepestAccepted).to.be.within(40, 58);
  });

  it('skips unknown groups as protobufjs does, and refuses groups nested past the limit instead of exhausting the stack', () => {
    const start = Buffer.from([0x9b, 0x06]); // field 99, start group
    const end = Buffer.from([0x9c, 0x06]); // field 99, end group
    const groups = (levels: number, inner: Buffer = Buffer.alloc(0)): Buffer =>
      Buffer.concat([...Array.from({ length: levels }, () => start), inner, ...Array.from({ length: levels }, () => end)]);
    const request = method.requestSerialize(anEnvoyCheck({ key: 'sk-group', body: chat('gpt-4o') }));
    const withGroups = Buffer.concat([groups(3, bytesField(1, 'ignored')), request]);
    expect(decodeCheckRequest(withGroups)).to.deep.equal(method.requestDeserialize(withGroups));
    expect(() => decodeCheckRequest(Buffer.concat([groups(200_000), request]))).to.throw(ProtobufDecodeError, /nested deeper/);
  });

  it('never fails on arbitrary bytes with anything but a decode error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeCheckRequest(Buffer.from(bytes));
        } catch (error) {
          expect(error).to.be.instanceOf(ProtobufDecodeError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('throws on truncated input instead of reading past it', () => {
    const bytes = method.requestSerialize(anEnvoyCheck({ key: 'sk-decoder-0123456789', body: chat('gpt-4o') }));
    for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect(() => decodeCheckRequest(bytes.subarray(0, cut))).to.throw();
    }
  });

  it('matches proto-loader on generated requests (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 30 }).filter((value) => value !== '__proto__');
    const json = jsonValues(text);
    const peer: fc.Arbitrary<Peer> = fc.record(
      {
        address: fc.record({ socket_address: fc.record({ address: text, port_value: fc.nat(65535) }, { requiredKeys: [] }) }),
        service: text,
        principal: text,
        labels: fc.dictionary(text, text, { maxKeys: 2 }),
      },
      { requiredKeys: [] },
    );
    const http: fc.Arbitrary<HttpRequest> = fc.record(
      {
        id: text,
        method: text,
        headers: fc.dictionary(text, text, { maxKeys: 6 }),
        path: text,
        host: text,
        scheme: text,
        size: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
        protocol: text,
        body: fc.string({ maxLength: 200 }),
        raw_body: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
        header_map: fc.record({
          headers: fc.array(
            fc.record({ key: text, value: text, raw_value: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)) }, { requiredKeys: [] }),
            { maxLength: 4 },
          ),
        }),
      },
      { requiredKeys: [] },
    );
    const request: fc.Arbitrary<CheckRequest> = fc.record(
      {
        attributes: fc.record(
          {
            source: peer,
            destination: peer,
            request: fc.record({ http }, { requiredKeys: [] }),
            context_extensions: fc.dictionary(text, text, { maxKeys: 2 }),
            metadata_context: fc.record({
              filter_metadata: fc.dictionary(text, fc.dictionary(text, json, { maxKeys: 3 }).map((values) => toStruct(values)), { maxKeys: 2 }),
            }),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(request, (value) => expectSameAsProtoLoader(value)), { numRuns: 300 });
  });
});
