import { expect } from 'chai';
import { identifyCaller } from '../../../src/auth/identify';
import { recognizeJwt, type JwtRecognition } from '../../../src/auth/jwt/recognize';
import type { RequestFacts } from '../../../src/domain/request';
import { aPolicy, aRequest } from '../../checks/fixtures';

const ON: JwtRecognition = { enabled: true, envoy: { namespace: 'envoy.filters.http.jwt_authn', payloadKey: 'jwt_payload' } };
const bearer = (value: string, extra: Partial<RequestFacts> = {}): RequestFacts =>
  aRequest({ credential: { kind: 'present', value, header: 'authorization' }, ...extra });

describe('recognising a JWT caller (litellm-auth.md §2.4)', () => {
  it('a credential with exactly three dot-separated parts is a bearer JWT (JWTHandler.is_jwt)', () => {
    expect(recognizeJwt(bearer('aaa.bbb.ccc'), ON)).to.deep.equal({ kind: 'bearer', token: 'aaa.bbb.ccc' });
    expect(recognizeJwt(bearer('a.b'), ON)).to.equal(null);
    expect(recognizeJwt(bearer('a.b.c.d'), ON)).to.equal(null);
    expect(recognizeJwt(bearer('sk-plain-key'), ON)).to.equal(null);
  });

  it("tests the credential as it was before a mapped pass-through's litellm_user_api_key replaced it, as LiteLLM does", () => {
    const passThrough = (before: string, after: string) =>
      aRequest({
        route: '/anthropic/v1/messages',
        credential: { kind: 'present', value: after, header: 'litellm_user_api_key' },
        jwtCredential: { kind: 'present', value: before, header: 'authorization' },
      });
    expect(recognizeJwt(passThrough('sk-provider', 'aaa.bbb.ccc'), ON), 'a JWT in litellm_user_api_key is no JWT caller').to.equal(null);
    expect(recognizeJwt(passThrough('eyJ.entra.token', 'sk-good'), ON), "the provider's JWT in Authorization is").to.deep.equal({ kind: 'bearer', token: 'eyJ.entra.token' });
  });

  it('nothing is a JWT without enable_jwt_auth', () => {
    expect(recognizeJwt(bearer('aaa.bbb.ccc'), { ...ON, enabled: false })).to.equal(null);
    expect(recognizeJwt(bearer('aaa.bbb.ccc'), null)).to.equal(null);
  });

  it('claims in the configured metadata namespace win, with or without a credential', () => {
    const claims = { sub: 'u1' };
    const facts = aRequest({ credential: { kind: 'none' }, filterMetadata: { 'envoy.filters.http.jwt_authn': { jwt_payload: claims } } });
    expect(recognizeJwt(facts, ON)).to.deep.equal({ kind: 'envoy', claims });
    const withBearer = bearer('x.y.z', { filterMetadata: { 'envoy.filters.http.jwt_authn': { jwt_payload: claims } } });
    expect(recognizeJwt(withBearer, ON)).to.deep.equal({ kind: 'envoy', claims });
  });

  it('reads the payload under tollgate.jwt.envoy_metadata_payload_key', () => {
    const custom: JwtRecognition = { enabled: true, envoy: { namespace: 'jwt', payloadKey: 'verified' } };
    const facts = aRequest({ credential: { kind: 'none' }, filterMetadata: { jwt: { verified: { sub: 'u2' }, jwt_payload: { sub: 'other' } } } });
    expect(recognizeJwt(facts, custom)).to.deep.equal({ kind: 'envoy', claims: { sub: 'u2' } });
  });

  it('ignores other namespaces, other keys, non-object payloads, and metadata when no namespace is configured', () => {
    const payload = { jwt_payload: { sub: 'u1' } };
    expect(recognizeJwt(aRequest({ credential: { kind: 'none' }, filterMetadata: { other: payload } }), ON)).to.equal(null);
    expect(recognizeJwt(aRequest({ credential: { kind: 'none' }, filterMetadata: { 'envoy.filters.http.jwt_authn': { other: {} } } }), ON)).to.equal(null);
    expect(recognizeJwt(aRequest({ credential: { kind: 'none' }, filterMetadata: { 'envoy.filters.http.jwt_authn': { jwt_payload: 'str' } } }), ON)).to.equal(null);
    const off = { ...ON, envoy: { namespace: null, payloadKey: 'jwt_payload' } };
    expect(recognizeJwt(aRequest({ credential: { kind: 'none' }, filterMetadata: { 'envoy.filters.http.jwt_authn': payload } }), off)).to.equal(null);
  });

  describe('identifyCaller', () => {
    it('takes the JWT branch before the master key is even considered — with none configured too', () => {
      expect(identifyCaller(bearer('aaa.bbb.ccc'), 'sk-master', aPolicy(), ON).kind).to.equal('jwt');
      expect(identifyCaller(bearer('aaa.bbb.ccc'), null, aPolicy(), ON).kind).to.equal('jwt');
    });

    it('public routes stay public', () => {
      expect(identifyCaller(bearer('aaa.bbb.ccc', { route: '/health/liveliness' }), 'sk-master', aPolicy(), ON).kind).to.equal('public_route');
    });

    it('a non-JWT credential keeps the key path', () => {
      expect(identifyCaller(bearer('sk-master'), 'sk-master', aPolicy(), ON).kind).to.equal('master_key');
      expect(identifyCaller(bearer('sk-abc'), 'sk-master', aPolicy(), ON).kind).to.equal('virtual_key');
    });
  });
});
