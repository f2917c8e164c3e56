/**
 * readBody's answer to "is this LiteLLM's 400 Invalid JSON payload?" where it turns on the
 * Content-Type: LiteLLM's `_read_request_body` reads a form when `"form" in content_type`
 * (case-sensitive, on the one value Envoy forwards, repeats joined with ","), JSON otherwise.
 */
import { expect } from 'chai';
import { INVALID_JSON_MESSAGE, readBody, type BodyFacts } from '../../src/envoy/body';
import { FILE_PART } from '../../src/envoy/form-body';
import { collectHeaders } from '../../src/envoy/headers';
import type { HttpRequest } from '../../src/envoy/messages';

const FORM = ['--b', 'Content-Disposition: form-data; name="model"', '', 'gpt-4o', '--b--', ''].join('\r\n');
const NOT_JSON = '{"model":"gpt-4o",}';

/** The body as Envoy's merged `headers` carry it (repeats joined with ","). */
function withHeaders(body: string, headers: Record<string, string>): BodyFacts {
  const http: HttpRequest = { headers, body };
  return readBody(http, collectHeaders(http));
}

/** The body as `header_map` carries it (`encode_raw_headers: true`): one entry per header line. */
function withRawHeaders(body: string, lines: readonly (readonly [string, string])[]): BodyFacts {
  const http: HttpRequest = { header_map: { headers: lines.map(([key, value]) => ({ key, raw_value: Buffer.from(value, 'latin1') })) }, raw_body: Buffer.from(body) };
  return readBody(http, collectHeaders(http));
}

describe('readBody: the Content-Type of a body LiteLLM refuses as not JSON', () => {
  describe('a form media type in another case, which LiteLLM reads as JSON', () => {
    it('is its 400 for a form that is not JSON, decided as no body (LiteLLM decides it as {})', () => {
      for (const type of ['Multipart/Form-Data; boundary=b', 'MULTIPART/FORM-DATA; boundary=b', 'multipart/Form-data; boundary=b']) {
        expect(withHeaders(FORM, { 'content-type': type }), type).to.deep.equal({ body: null, truncated: false, invalid: true, prefixModel: null, byteLength: FORM.length, invalidJson: INVALID_JSON_MESSAGE });
      }
      expect(withHeaders('model=gpt-4o', { 'content-type': 'Application/X-WWW-Form-Urlencoded' })).to.include({ invalidJson: INVALID_JSON_MESSAGE });
    });

    it('is its 400 before a multipart form Starlette would refuse is judged', () => {
      const nameless = ['--b', 'Content-Disposition: form-data', '', 'x', '--b--', ''].join('\r\n');
      const facts = withHeaders(nameless, { 'content-type': 'Multipart/Form-Data; boundary=b' });
      expect(facts).to.include({ invalidJson: INVALID_JSON_MESSAGE }).and.not.have.property('unreadableForm');
      expect(withHeaders(nameless, { 'content-type': 'multipart/form-data; boundary=b' }), 'in lower case').to.have.property('unreadableForm');
    });

    it('is read as the JSON LiteLLM reads when it is JSON after all: its model and a banned api_base are seen', () => {
      const json = '{"model":"gpt-4o","api_base":"http://evil.example"}';
      for (const type of ['Multipart/Form-Data; boundary=b', 'Application/X-WWW-Form-Urlencoded']) {
        expect(withHeaders(json, { 'content-type': type }), type).to.deep.include({ body: { model: 'gpt-4o', api_base: 'http://evil.example' }, invalid: false }).and.not.have.property('invalidJson');
      }
      const repeated = [['content-type', 'application/json'], ['content-type', 'Multipart/Form-Data; boundary=b']] as const;
      expect(withRawHeaders(json, repeated), 'repeated, neither holding "form"').to.deep.include({ body: { model: 'gpt-4o', api_base: 'http://evil.example' } });
    });

    it('is still read as a form when cut short, or when its bytes are not UTF-8 (what the upstream reads; LiteLLM reads it as empty)', () => {
      const cut = withHeaders(FORM, { 'content-type': 'Multipart/Form-Data; boundary=b', 'x-envoy-auth-partial-body': 'true' });
      expect(cut).to.include({ truncated: true, prefixModel: 'gpt-4o' }).and.not.have.property('invalidJson');
      const upload = Buffer.concat([
        Buffer.from(['--b', 'Content-Disposition: form-data; name="model"', '', 'whisper-1', '--b', 'Content-Disposition: form-data; name="file"; filename="a.wav"', '', ''].join('\r\n')),
        Buffer.from([0xff, 0xfe, 0x00, 0x80]),
        Buffer.from('\r\n--b--\r\n'),
      ]);
      const http: HttpRequest = { headers: { 'content-type': 'Multipart/Form-Data; boundary=b' }, raw_body: upload };
      expect(readBody(http, collectHeaders(http))).to.deep.include({ body: { model: 'whisper-1', file: FILE_PART }, invalid: false }).and.not.have.property('invalidJson');
    });

    it('is no 400 in lower case, where LiteLLM reads the form', () => {
      expect(withHeaders(FORM, { 'content-type': 'multipart/form-data; boundary=b' })).to.deep.include({ body: { model: 'gpt-4o' } }).and.not.have.property('invalidJson');
      expect(withHeaders(NOT_JSON, { 'content-type': 'text/form-ish' }), 'any value holding "form"').to.not.have.property('invalidJson');
    });
  });

  describe('a repeated Content-Type, which Envoy joins into one value for the Check and the upstream alike', () => {
    it('is no 400 when any of the values has "form": LiteLLM behind Envoy sees them joined, and reads a form', () => {
      expect(withHeaders(NOT_JSON, { 'content-type': 'application/json,multipart/form-data' })).to.not.have.property('invalidJson');
      const lines = [['content-type', 'application/json'], ['Content-Type', 'multipart/form-data; boundary=b']] as const;
      expect(withRawHeaders(FORM, lines), 'two header_map entries, read as Envoy joins them').to.not.have.property('invalidJson');
      expect(withRawHeaders(NOT_JSON, [['content-type', 'text/form'], ['content-type', 'application/json']])).to.not.have.property('invalidJson');
    });

    it('is its 400 when none has it, in any case', () => {
      expect(withHeaders(NOT_JSON, { 'content-type': 'application/json,text/plain' })).to.include({ invalidJson: INVALID_JSON_MESSAGE });
      expect(withRawHeaders(NOT_JSON, [['content-type', 'Multipart/Form-Data'], ['content-type', 'application/json']])).to.include({ invalidJson: INVALID_JSON_MESSAGE });
    });
  });

  it("is not JSON that parses to no object (an array, a string, a number, null): LiteLLM's reader returns it, and its auth fails on it later", () => {
    for (const body of ['[1,2]', '"x"', '3', 'null', '[NaN]']) {
      expect(withHeaders(body, { 'content-type': 'application/json' }), body).to.deep.include({ body: null, invalid: true }).and.not.have.property('invalidJson');
      for (const type of ['Multipart/Form-Data; boundary=b', 'Application/X-WWW-Form-Urlencoded']) {
        expect(withHeaders(body, { 'content-type': type }), `${body} with a type LiteLLM reads as JSON: not read as a form`).to.deep.include({ body: null, invalid: true }).and.not.have.property('invalidJson');
      }
    }
  });

  it('is its 400 without any Content-Type, or with one naming neither form nor JSON', () => {
    expect(withHeaders(NOT_JSON, {})).to.include({ invalidJson: INVALID_JSON_MESSAGE });
    expect(withRawHeaders(NOT_JSON, [['x-other', 'form']])).to.include({ invalidJson: INVALID_JSON_MESSAGE });
    expect(withHeaders(NOT_JSON, { 'content-type': 'text/plain' })).to.include({ invalidJson: INVALID_JSON_MESSAGE });
  });
});
