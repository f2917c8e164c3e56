import { expect } from 'chai';
import { claimReadAt, idAt, type Claims } from '../../../src/auth/jwt/claims';
import { floatPathsOf, isWrittenFloat, markWrittenFloats, pyStrOfClaim } from '../../../src/auth/jwt/written-floats';
import type { Json, JsonObject } from '../../../src/domain/entities';
import { aSigningKey } from '../../support/jwt';
import { aTokenOfText, aVerifier, jwtSettings } from './fixtures';
import { TokenVerifier } from '../../../src/auth/jwt/verify';
import { VerifiedTokens } from '../../../src/auth/jwt/verified-tokens';
import { JwksCache } from '../../../src/auth/jwt/jwks-cache';
import { httpJwksFetcher } from '../../../src/auth/jwt/jwks-fetch';

/** Claims parsed from `text` and marked as a verified token's are (the signature is not checked here). */
function claimsOf(text: string): Claims {
  const claims = JSON.parse(text) as JsonObject;
  markWrittenFloats(claims, `e30.${Buffer.from(text).toString('base64url')}.sig`);
  return claims;
}

/** The float paths of `text`, each as JSON, sorted. */
const floats = (text: string): string[] => floatPathsOf(text).map((path) => JSON.stringify(path)).sort();

describe('numbers a token wrote as floats (Python reads `1.0` as a float, JSON.parse as the integer 1)', () => {
  describe('floatPathsOf', () => {
    it('finds the numbers written with a point or an exponent, at any depth, and no others', () => {
      expect(floats('{"a":1.0,"b":1,"c":-0,"d":2e3,"e":5E-1,"f":"1.0","g":[1,2.50,{"h":3.0}],"i":{"j":{"k":1e0}},"l":true,"m":null}')).to.deep.equal([
        '["a"]',
        '["d"]',
        '["e"]',
        '["g",1]',
        '["g",2,"h"]',
        '["i","j","k"]',
      ]);
    });

    it('reads whitespace, escaped quotes and keys as JSON does', () => {
      expect(floats(' { "a\\"b" : [ 1 , 1.5 ] ,\n "c\\u0064" : 7.0 } ')).to.deep.equal(['["a\\"b",1]', '["cd"]']);
    });

    it("keeps a repeated key's last value, as JSON.parse does", () => {
      expect(floats('{"t":1.0,"t":1}')).to.deep.equal([]);
      expect(floats('{"t":1,"t":1.0}')).to.deep.equal(['["t"]']);
      expect(floats('{"o":{"x":1.0},"o":{"x":"s"}}')).to.deep.equal([]);
      expect(floats('{"o":{"x":1.0},"o":2}')).to.deep.equal([]);
      expect(floats('{"o":2.0,"o":{"x":1}}')).to.deep.equal([]);
      expect(floats('{"o":{"x":1.0},"o":[2.0]}')).to.deep.equal(['["o",0]']);
    });

    it('reads a payload nested thousands deep in one pass, without recursion', () => {
      const depth = 50_000;
      const text = `{"a":1.5,"d":${'['.repeat(depth)}2.0${']'.repeat(depth)}}`;
      const claims = JSON.parse(text) as JsonObject;
      const started = process.hrtime.bigint();
      markWrittenFloats(claims, `e30.${Buffer.from(text).toString('base64url')}.sig`);
      // Recursing per level overflowed the stack here (nothing was marked), and copying each level's path cost seconds.
      expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.below(500);
      expect(isWrittenFloat(claims, 'a')).to.equal(true);
      let innermost = claims['d'] as Json[];
      for (let level = 1; level < depth; level += 1) innermost = innermost[0] as Json[];
      expect(isWrittenFloat(innermost, 0)).to.equal(true);
      expect(floatPathsOf(text).map((path) => path.length)).to.have.members([1, depth + 1]);
    });

    it('throws on text that is not JSON, never reading past its end', () => {
      for (const text of ['', '{"a":1.0', '{"a":"\\u00', '{"a":"x\\', '{"a":1.0}x', '{"a" 1.0}', '{"a":1.0,}', '[1.0,]', '[,1.0]', '{,}']) {
        expect(() => floatPathsOf(text), text).to.throw(SyntaxError);
      }
    });
  });

  describe('marked claims', () => {
    it('a verified token keeps the marks of its payload: its team_id 1.0 is not the claim 1', async () => {
      const key = await aSigningKey('ES256', 'floats');
      const settings = jwtSettings({ tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
      const verified = await aVerifier(settings).verify(await aTokenOfText(key, '{"team_id":1.0,"n":1,"list":[2.0,3]}'));
      if (verified.kind !== 'verified') throw new Error(`expected verified, got ${verified.kind}`);
      expect(verified.claims['team_id']).to.equal(1);
      expect(isWrittenFloat(verified.claims, 'team_id')).to.equal(true);
      expect(isWrittenFloat(verified.claims, 'n')).to.equal(false);
      expect(isWrittenFloat(verified.claims['list'] as object, 0)).to.equal(true);
      expect(isWrittenFloat(verified.claims['list'] as object, 1)).to.equal(false);
    });

    it('a remembered token answers with the claims it was marked on: a warm Check neither rescans nor loses the marks', async () => {
      const key = await aSigningKey('ES256', 'warm');
      const settings = jwtSettings({ tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
      const remembered = new VerifiedTokens();
      const verifier = new TokenVerifier(settings, new JwksCache(settings.jwks, httpJwksFetcher), remembered);
      const token = await aTokenOfText(key, '{"team_id":1.0}');
      const cold = await verifier.verify(token);
      const warm = await verifier.verify(token);
      if (cold.kind !== 'verified' || warm.kind !== 'verified') throw new Error('expected verified');
      expect(remembered.hits).to.equal(1);
      expect(warm.claims).to.equal(cold.claims);
      expect(idAt(warm.claims, 'team_id')).to.equal('1.0');
    });

    it('a payload that opens with a byte order mark is read as jose reads it (and Python): its floats are marked', async () => {
      const key = await aSigningKey('ES256', 'bom');
      const settings = jwtSettings({ tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const verified = await aVerifier(settings).verify(await aTokenOfText(key, `\uFEFF{"exp":${exp},"team_id":1.0}`));
      if (verified.kind !== 'verified') throw new Error(`expected verified, got ${verified.kind}`);
      expect(idAt(verified.claims, 'team_id')).to.equal('1.0');
    });

    it("an id reads as Python's str() prints it: 1.0 as \"1.0\", 1 as \"1\", 1e16 as \"1e+16\", a list's first as it was written", () => {
      const claims = claimsOf('{"a":1.0,"b":1,"c":1e16,"d":2.5,"e":[7.0,"x"],"f":{"g":-0.0}}');
      expect(idAt(claims, 'a')).to.equal('1.0');
      expect(idAt(claims, 'b')).to.equal('1');
      expect(idAt(claims, 'c')).to.equal('1e+16');
      expect(idAt(claims, 'd')).to.equal('2.5');
      expect(idAt(claims, 'e')).to.equal('7.0');
      expect(idAt(claims, 'f.g')).to.equal('-0.0');
      expect(claimReadAt(claims, 'missing')).to.be.a('symbol');
    });

    it('claims nobody marked (Envoy metadata: a Struct holds doubles) read integral numbers as integers', () => {
      const claims = JSON.parse('{"a":1.0}') as Claims;
      expect(idAt(claims, 'a')).to.equal('1');
    });

    it('pyStrOfClaim prints nested floats as written: [1.0, 1] and {\'x\': 2.0}', () => {
      const claims = claimsOf('{"l":[1.0,1],"o":{"x":2.0,"y":true}}');
      expect(pyStrOfClaim(claims['l'] as JsonObject, false)).to.equal('[1.0, 1]');
      expect(pyStrOfClaim(claims['o'] as JsonObject, false)).to.equal("{'x': 2.0, 'y': True}");
      expect(pyStrOfClaim(3, true)).to.equal('3.0');
      expect(pyStrOfClaim('s', false)).to.equal('s');
    });
  });
});
