import { expect } from 'chai';
import fc from 'fast-check';
import { APPEND_ACTIONS, encodeCheckResponse, FIELD } from '../../src/envoy/check-response-encoder';
import { toStruct, type CheckResponse, type HeaderValueOption, type StructValue } from '../../src/envoy/messages';
import { authorizationPackage, authorizationService } from '../../src/envoy/protos';
import { expectProtoFieldNumbers, jsonValues } from './proto-fields';
import { toCheckResponse } from '../../src/envoy/response';
import { aDeny, anAllow, edgeSettings, someFacts } from './fixtures';

const method = authorizationService().Check;
const generic = (response: CheckResponse): Buffer => method.responseSerialize(response);

/** The encoder's bytes must be protobufjs's bytes: same fields, same order, same zero values. */
function expectSameBytes(response: CheckResponse): void {
  const fast = encodeCheckResponse(response);
  expect(fast, 'covered by the fast encoder').to.not.equal(null);
  expect((fast as Buffer).toString('hex')).to.equal(generic(response).toString('hex'));
}

describe('encodeCheckResponse (CheckResponse wire encoding without protobufjs conversion)', () => {
  it('uses the field numbers of the loaded Envoy protos', () => {
    expectProtoFieldNumbers(FIELD, [
      ['CheckResponse', 'envoy.service.auth.v3.CheckResponse'],
      ['Status', 'google.rpc.Status'],
      ['DeniedHttpResponse', 'envoy.service.auth.v3.DeniedHttpResponse'],
      ['HttpStatus', 'envoy.type.v3.HttpStatus'],
      ['OkHttpResponse', 'envoy.service.auth.v3.OkHttpResponse'],
      ['HeaderValueOption', 'envoy.config.core.v3.HeaderValueOption'],
      ['HeaderValue', 'envoy.config.core.v3.HeaderValue'],
      ['Struct', 'google.protobuf.Struct'],
      ['Value', 'google.protobuf.Value'],
      ['ListValue', 'google.protobuf.ListValue'],
    ]);
  });

  it('uses the enum numbers of HeaderValueOption.HeaderAppendAction', () => {
    const definition = authorizationPackage()['envoy.config.core.v3.HeaderValueOption'] as {
      type?: { enumType?: Array<{ name: string; value: Array<{ name: string; number: number }> }> };
    };
    const actions = definition.type?.enumType?.find((enumType) => enumType.name === 'HeaderAppendAction');
    const values = Object.fromEntries((actions?.value ?? []).map((value) => [value.name, value.number]));
    expect(values).to.deep.equal(APPEND_ACTIONS);
  });

  it("encodes Tollgate's allow exactly as protobufjs does", () => {
    const identity = {
      keyHash: 'a'.repeat(64),
      keyAlias: 'alias with ünïcödé',
      userId: 'user-1',
      teamId: 'team-1',
      orgId: 'org-1',
      userRole: 'internal_user',
      model: 'gpt-4o',
    };
    const facts = someFacts({
      headers: { 'x-tollgate-org-id': 'spoofed', authorization: 'Bearer sk-live-0123456789' },
      credential: { kind: 'present', header: 'authorization', value: 'sk-live-0123456789' },
    });
    const allow = { ...anAllow(identity, 'authorization'), metadata: { rate_limit: '100/MINUTE', n: 1.5, ok: true, none: null, list: [1, 'a'] } };
    expectSameBytes(toCheckResponse(allow, facts, edgeSettings()));
  });

  it("encodes every kind of denial exactly as protobufjs does", () => {
    for (const status of [400, 401, 403, 404, 429, 500, 503]) {
      const denial = aDeny({ status, message: `refused ${status} “quoted”`, param: status === 400 ? 'model' : null, headers: [['retry-after', '3']] });
      expectSameBytes(toCheckResponse(denial, someFacts(), edgeSettings()));
    }
  });

  it('encodes zero values that are set (status OK, APPEND_IF_EXISTS_OR_ADD, empty strings)', () => {
    expectSameBytes({ status: { code: 0, message: '' } });
    expectSameBytes({
      status: { code: 0 },
      ok_response: {
        headers: [{ header: { key: '', value: '' }, append_action: 'APPEND_IF_EXISTS_OR_ADD', keep_empty_value: false }],
        headers_to_remove: [''],
      },
    });
    expectSameBytes({});
  });

  it('encodes ASCII and non-ASCII text alike, short and long, wherever the first non-ASCII character is', () => {
    const texts = ['', 'a', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(257), `${'x'.repeat(255)}é`, `é${'x'.repeat(300)}`];
    texts.push('\u007f', '\u0080', 'ünïcödé', '日本語', '\ud83d\ude00 emoji');
    const everywhere = (text: string): CheckResponse => ({
      status: { code: 0, message: text },
      ok_response: { headers: [{ header: { key: text, value: text } }], headers_to_remove: [text] },
      dynamic_metadata: { fields: { [text]: { stringValue: text } } },
    });
    for (const text of texts) expectSameBytes(everywhere(text));
    // A lone surrogate (a JSON body may carry "\ud800") is not UTF-8: protobufjs writes it anyway,
    // which Envoy's parser would refuse; this encoder writes U+FFFD, as Node's UTF-8 encoding does.
    const lone = encodeCheckResponse({ status: { code: 0, message: 'a\ud800b' } });
    expect(lone?.toString('hex')).to.equal(Buffer.from([0x0a, 0x09, 0x08, 0x00, 0x12, 0x05, 0x61, 0xef, 0xbf, 0xbd, 0x62]).toString('hex'));
  });

  it('leaves shapes it does not cover to protobufjs (returns null)', () => {
    expect(encodeCheckResponse({ status: { code: -1 } })).to.equal(null);
    expect(encodeCheckResponse({ denied_response: { status: { code: 'Unauthorized' } } })).to.equal(null);
    expect(encodeCheckResponse({ ok_response: { response_headers_to_add: [] } })).to.equal(null);
    const withRawValue: HeaderValueOption = { header: { key: 'k', raw_value: Buffer.from('v') } };
    expect(encodeCheckResponse({ ok_response: { headers: [withRawValue] } })).to.equal(null);
    // A Value must set exactly one member of its oneof.
    const withMetadata = (value: StructValue): CheckResponse => ({ status: { code: 0 }, dynamic_metadata: { fields: { k: value } } });
    expect(encodeCheckResponse(withMetadata({}))).to.equal(null);
    expect(encodeCheckResponse(withMetadata({ stringValue: 'a', numberValue: 1 }))).to.equal(null);
    expect(encodeCheckResponse(withMetadata({ boolValue: false, listValue: { values: [] } }))).to.equal(null);
    expect(encodeCheckResponse(withMetadata({ boolValue: false }))).to.be.instanceOf(Buffer);
  });

  describe('bytes reused for frozen parts (answers of one identity share them)', () => {
    const frozenOption = (key: string, value: string): HeaderValueOption =>
      Object.freeze({ header: Object.freeze({ key, value }), append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' as const });
    const frozenFields = (values: Record<string, string>): Record<string, StructValue> =>
      Object.freeze(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Object.freeze({ stringValue: value })])));

    it('encodes a frozen list and frozen fields the same every time, whatever surrounds them', () => {
      const headers = Object.freeze([frozenOption('x-tollgate-key-hash', 'a'.repeat(64)), frozenOption('x-tollgate-team-id', 'ü-team')]);
      const fields = frozenFields({ key_hash: 'a'.repeat(64), team_id: 'ü-team' });
      for (const remove of [[], ['x-api-key'], ['authorization', 'x-tollgate-org-id']]) {
        expectSameBytes({ status: { code: 0 }, ok_response: { headers, headers_to_remove: remove }, dynamic_metadata: { fields } });
      }
      // The same parts inside a denial, and the fields nested in a Struct value.
      expectSameBytes({ status: { code: 7, message: '403 x' }, denied_response: { status: { code: 403 }, headers, body: '{}' } });
      expectSameBytes({ dynamic_metadata: { fields: { nested: { structValue: { fields } } } } });
    });

    it('never reuses the bytes of anything that can still change', () => {
      const option = Object.freeze({ header: { key: 'x-tollgate-user-id', value: 'before' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' as const });
      const headers = Object.freeze([option]);
      const mutableList = [frozenOption('x-a', '1')];
      const value: StructValue = { stringValue: 'before' };
      const fields = Object.freeze({ user_id: value });
      const nested = Object.freeze({ tags: Object.freeze({ listValue: { values: [{ stringValue: 'a' }] } }) });
      const response = (): CheckResponse => ({
        status: { code: 0 },
        ok_response: { headers, headers_to_remove: [] },
        denied_response: undefined,
        dynamic_metadata: { fields },
      });
      expectSameBytes(response());
      expectSameBytes({ ok_response: { headers: mutableList } });
      expectSameBytes({ dynamic_metadata: { fields: nested } });
      option.header.value = 'after, in a header object left unfrozen';
      value.stringValue = 'after, in a value left unfrozen';
      mutableList.push(frozenOption('x-b', '2'));
      nested.tags.listValue.values.push({ stringValue: 'b' });
      expectSameBytes(response());
      expectSameBytes({ ok_response: { headers: mutableList } });
      expectSameBytes({ dynamic_metadata: { fields: nested } });
    });
  });

  it('matches protobufjs for arbitrary headers, strings and metadata (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const json = jsonValues(text);
    const option: fc.Arbitrary<HeaderValueOption> = fc.record(
      {
        header: fc.record({ key: text, value: text }, { requiredKeys: [] }),
        append_action: fc.constantFrom(...Object.keys(APPEND_ACTIONS)) as fc.Arbitrary<HeaderValueOption['append_action']>,
        keep_empty_value: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    const response: fc.Arbitrary<CheckResponse> = fc.record(
      {
        status: fc.record({ code: fc.integer({ min: 0, max: 2 ** 31 - 1 }), message: text }, { requiredKeys: [] }),
        ok_response: fc.record(
          {
            headers: fc.array(option, { maxLength: 4 }),
            headers_to_remove: fc.array(text, { maxLength: 3 }),
            query_parameters_to_remove: fc.array(text, { maxLength: 2 }),
          },
          { requiredKeys: [] },
        ),
        dynamic_metadata: fc.dictionary(text, json, { maxKeys: 4 }).map((values) => toStruct(values)),
      },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(response, (value) => expectSameBytes(value)), { numRuns: 300 });
    // Deeply frozen, each encoded twice: the second time from the bytes kept the first time.
    const twice = (value: CheckResponse): void => {
      expectSameBytes(value);
      expectSameBytes(value);
    };
    fc.assert(fc.property(response.map(deepFreeze), twice), { numRuns: 300 });
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
