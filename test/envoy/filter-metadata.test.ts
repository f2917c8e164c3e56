import { expect } from 'chai';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { toStruct } from '../../src/envoy/messages';
import { aCheckRequest, edgeSettings } from './fixtures';

describe('parseCheckRequest: metadata_context.filter_metadata', () => {
  it('is empty when Envoy forwards no namespace', () => {
    expect(parseCheckRequest(aCheckRequest(), edgeSettings()).filterMetadata).to.deep.equal({});
  });

  it('reads each forwarded namespace as JSON (jwt_authn payload_in_metadata)', () => {
    const request = aCheckRequest();
    request.attributes = {
      ...request.attributes,
      metadata_context: {
        filter_metadata: {
          'envoy.filters.http.jwt_authn': toStruct({ jwt_payload: { sub: 'u-1', groups: ['a', 'b'], exp: 1700000000 } }),
        },
      },
    };
    const facts = parseCheckRequest(request, edgeSettings());
    expect(facts.filterMetadata).to.deep.equal({
      'envoy.filters.http.jwt_authn': { jwt_payload: { sub: 'u-1', groups: ['a', 'b'], exp: 1700000000 } },
    });
  });

  it('keeps a namespace named __proto__ as data, not as the prototype', () => {
    const request = aCheckRequest();
    request.attributes = { ...request.attributes, metadata_context: { filter_metadata: JSON.parse('{"__proto__": {"fields": {}}}') } };
    const facts = parseCheckRequest(request, edgeSettings());
    expect(Object.getPrototypeOf(facts.filterMetadata)).to.equal(Object.prototype);
    expect(Object.keys(facts.filterMetadata)).to.deep.equal(['__proto__']);
  });
});
