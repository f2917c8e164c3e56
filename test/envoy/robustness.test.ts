/**
 * Whatever a client (or a misconfigured Envoy) sends, the edge answers: parsing never throws and
 * every response it builds serializes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { parseCheckRequest } from '../../src/envoy/attributes';
import type { CheckRequest } from '../../src/envoy/messages';
import { authorizationService } from '../../src/envoy/protos';
import { toCheckResponse } from '../../src/envoy/response';
import { aDeny, anAllow, edgeSettings } from './fixtures';

const headerName = fc.oneof(
  fc.constantFrom('authorization', 'x-litellm-api-key', 'x-api-key', 'content-length', 'content-type', 'x-envoy-auth-partial-body'),
  fc.constantFrom('x-litellm-end-user-id', 'x-tollgate-team-id', '__proto__', 'constructor', ':path'),
  fc.string({ maxLength: 12 }),
);
const headerValueArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('true', 'Bearer sk-abcdefgh', 'multipart/form-data; boundary=b', 'application/x-www-form-urlencoded', '99999'),
);
const bodyText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }).map((j) => j.slice(0, Math.floor(j.length / 2))),
  fc.constantFrom('{"model":"m","metadata":"{\\"user_id\\":1}"}', '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n--b--'),
);

const checkRequest: fc.Arbitrary<CheckRequest> = fc.record(
  {
    path: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('/v1beta/models/g:generateContent?key=sk-12345678', '/%zz%ff?%')),
    method: fc.string({ maxLength: 8 }),
    headers: fc.dictionary(headerName, headerValueArb, { maxKeys: 8 }),
    body: bodyText,
    raw_body: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    size: fc.constantFrom('-1', '0', '10', 'x'),
  },
  { requiredKeys: [] },
).map((http) => ({ attributes: { request: { http } } }));

describe('edge robustness', () => {
  const settings = edgeSettings({ basePath: '/p', customerHeaderMappings: ['x-customer'], userHeaderName: 'x-user' });
  const method = authorizationService().Check;

  it('parses any CheckRequest without throwing and maps it to serializable responses', () => {
    fc.assert(
      fc.property(checkRequest, fc.string({ maxLength: 20 }), (request, alias) => {
        const facts = parseCheckRequest(request, settings);
        expect(facts.route.startsWith('/')).to.equal(true);
        for (const decision of [anAllow({ keyHash: 'h', keyAlias: alias }), aDeny({ message: alias })]) {
          const response = toCheckResponse(decision, facts, settings);
          method.responseDeserialize(method.responseSerialize(response));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the body flags consistent: a body object is never invalid (a cut one shows its whole members)', () => {
    fc.assert(
      fc.property(checkRequest, (request) => {
        const facts = parseCheckRequest(request, settings);
        if (facts.body !== null) expect(facts.bodyInvalid).to.equal(false);
        expect(facts.bodyTruncated && facts.bodyInvalid).to.equal(false);
      }),
      { numRuns: 300 },
    );
  });
});
