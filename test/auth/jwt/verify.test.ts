import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { JwksUnavailableError } from '../../../src/auth/jwt/errors';
import type { Verification } from '../../../src/auth/jwt/verify';
import {
  aSigningKey,
  aToken,
  anHs256TokenSignedWithPublicKey,
  anUnsignedToken,
  startJwksServer,
  withTamperedPayload,
  type JwksServer,
  type SigningKey,
} from '../../support/jwt';
import { aVerifier, jwtSettings, type JwtConfigParts } from './fixtures';

function refusalOf(result: Verification): string {
  if (result.kind !== 'refused') throw new Error('expected a refusal');
  expect(result.denial).to.include({ status: 401, type: 'auth_error', param: 'None' });
  return result.denial.message;
}

function claimsOf(result: Verification): Record<string, unknown> {
  if (result.kind !== 'verified') throw new Error(`expected verified claims, got: ${result.denial.message}`);
  return result.claims;
}

describe('TokenVerifier (litellm-auth.md §3.2)', function () {
  this.timeout(20_000);
  let rsa: SigningKey;
  let jwks: JwksServer;
  const verifierFor = (parts: JwtConfigParts = {}) =>
    aVerifier(jwtSettings({ ...parts, env: { publicKeyUrl: jwks.url, ...(parts.env ?? {}) } }));

  before(async () => {
    rsa = await aSigningKey('RS256', 'rsa-1');
    jwks = await startJwksServer(rsa);
  });

  beforeEach(() => {
    jwks.publish(rsa);
    jwks.up();
  });

  after(async () => {
    await jwks.close();
  });

  describe('accepts', () => {
    it('an RS256 token whose kid is in the JWKS, returning its claims', async () => {
      const claims = claimsOf(await verifierFor().verify(await aToken(rsa, { sub: 'alice', scope: 'a b' })));
      expect(claims).to.include({ sub: 'alice', scope: 'a b' });
    });

    for (const alg of ['RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
      it(`${alg}, one of LiteLLM's SUPPORTED_JWT_ALGORITHMS`, async () => {
        const key = await aSigningKey(alg);
        jwks.publish(rsa, key);
        expect(claimsOf(await verifierFor().verify(await aToken(key, { sub: alg })))).to.include({ sub: alg });
      });
    }

    it('a token without kid when the key set has a single key (LiteLLM parse_keys)', async () => {
      expect(claimsOf(await verifierFor().verify(await aToken(rsa, { sub: 'x' }, { kid: null })))).to.include({ sub: 'x' });
    });

    it('a token signed by a statically configured SPKI PEM key (tollgate.jwt.public_keys), no JWKS needed', async () => {
      const key = await aSigningKey('ES256', 'static-1');
      const verifier = aVerifier(jwtSettings({ tollgate: { public_keys: [key.pem] } }));
      expect(claimsOf(await verifier.verify(await aToken(key, { sub: 'pem' })))).to.include({ sub: 'pem' });
    });

    it('a token signed by a statically configured JWK', async () => {
      const key = await aSigningKey('RS256', 'static-jwk');
      const verifier = aVerifier(jwtSettings({ tollgate: { public_keys: [key.jwk] } }));
      expect(claimsOf(await verifier.verify(await aToken(key, { sub: 'jwk' })))).to.include({ sub: 'jwk' });
    });

    it('exp within tollgate.jwt.clock_skew_seconds', async () => {
      const token = await aToken(rsa, { sub: 'late' }, { expiresIn: -20 });
      expect(refusalOf(await verifierFor().verify(token))).to.equal('Authentication Error, Token Expired');
      expect(claimsOf(await verifierFor({ tollgate: { clock_skew_seconds: 60 } }).verify(token))).to.include({ sub: 'late' });
    });

    it('nbf within the clock skew', async () => {
      const token = await aToken(rsa, { sub: 'early' }, { notBefore: 20 });
      expect(refusalOf(await verifierFor().verify(token))).to.equal('Authentication Error, Validation fails: The token is not yet valid (nbf)');
      expect(claimsOf(await verifierFor({ tollgate: { clock_skew_seconds: 60 } }).verify(token))).to.include({ sub: 'early' });
    });

    it('no audience check without JWT_AUDIENCE (LiteLLM: verify_aud False)', async () => {
      expect(claimsOf(await verifierFor().verify(await aToken(rsa, { aud: 'anyone' })))).to.include({ aud: 'anyone' });
    });

    it('an audience list containing JWT_AUDIENCE, and the issuer JWT_ISSUER names', async () => {
      const verifier = verifierFor({ env: { audience: 'litellm', issuer: 'https://idp.example/realms/test' } });
      const token = await aToken(rsa, { aud: ['account', 'litellm'], iss: 'https://idp.example/realms/test' });
      expect(claimsOf(await verifier.verify(token))).to.include({ iss: 'https://idp.example/realms/test' });
    });
  });

  describe('refuses (401 auth_error, as LiteLLM\'s plain exceptions)', () => {
    it('alg none', async () => {
      expect(refusalOf(await verifierFor().verify(anUnsignedToken({ sub: 'mallory' }, rsa.kid)))).to.equal(
        'Authentication Error, Validation fails: The specified alg value is not allowed',
      );
    });

    it('HS256 "signed" with the RSA public key (key confusion)', async () => {
      expect(refusalOf(await verifierFor().verify(anHs256TokenSignedWithPublicKey(rsa, { sub: 'mallory' })))).to.equal(
        'Authentication Error, Validation fails: The specified alg value is not allowed',
      );
    });

    it('HS256 even when the configured key is a PEM and the token has no kid', async () => {
      const verifier = aVerifier(jwtSettings({ tollgate: { public_keys: [rsa.pem] } }));
      const forged = anHs256TokenSignedWithPublicKey(rsa, { sub: 'mallory' });
      expect(refusalOf(await verifier.verify(forged))).to.include('The specified alg value is not allowed');
    });

    it('an expired token ("Token Expired")', async () => {
      expect(refusalOf(await verifierFor().verify(await aToken(rsa, {}, { expiresIn: -5 })))).to.equal('Authentication Error, Token Expired');
    });

    it('a token issued in the future (iat past now and the clock skew), as PyJWT', async () => {
      const token = await aToken(rsa, { sub: 'future' }, { issuedAt: 120, expiresIn: null });
      expect(refusalOf(await verifierFor().verify(token))).to.equal('Authentication Error, Validation fails: The token is not yet valid (iat)');
      expect(claimsOf(await verifierFor({ tollgate: { clock_skew_seconds: 180 } }).verify(token)), 'within the skew').to.include({ sub: 'future' });
    });

    it('a token not yet valid (nbf in the future)', async () => {
      expect(refusalOf(await verifierFor().verify(await aToken(rsa, {}, { notBefore: 120 })))).to.equal(
        'Authentication Error, Validation fails: The token is not yet valid (nbf)',
      );
    });

    it('a wrong audience when JWT_AUDIENCE is set, and a missing one', async () => {
      const verifier = verifierFor({ env: { audience: 'litellm' } });
      expect(refusalOf(await verifier.verify(await aToken(rsa, { aud: 'other-app' })))).to.equal(
        "Authentication Error, Validation fails: Audience doesn't match",
      );
      expect(refusalOf(await verifier.verify(await aToken(rsa, {})))).to.equal(
        'Authentication Error, Validation fails: Token is missing the "aud" claim',
      );
    });

    it('a wrong issuer when JWT_ISSUER is set', async () => {
      const verifier = verifierFor({ env: { issuer: 'https://idp.example/realms/test' } });
      expect(refusalOf(await verifier.verify(await aToken(rsa, { iss: 'https://evil.example' })))).to.equal(
        'Authentication Error, Validation fails: Invalid issuer',
      );
    });

    it('an unknown kid, naming the key URLs and the kid', async () => {
      const stranger = await aSigningKey('RS256', 'not-published');
      expect(refusalOf(await verifierFor().verify(await aToken(stranger, {})))).to.equal(
        `Authentication Error, No matching public key found. keys=['${jwks.url}'], kid=not-published`,
      );
    });

    it('a token without kid when the key set has several keys', async () => {
      jwks.publish(rsa, await aSigningKey('RS256'));
      expect(refusalOf(await verifierFor().verify(await aToken(rsa, {}, { kid: null })))).to.include('No matching public key found');
    });

    it('a tampered payload (the signature no longer matches)', async () => {
      const token = withTamperedPayload(await aToken(rsa, { sub: 'alice', scope: '' }), { sub: 'alice', scope: 'litellm_proxy_admin' });
      expect(refusalOf(await verifierFor().verify(token))).to.equal('Authentication Error, Validation fails: Signature verification failed');
    });

    it('a token signed by another key published under the same kid', async () => {
      const impostor = await aSigningKey('RS256', rsa.kid);
      expect(refusalOf(await verifierFor().verify(await aToken(impostor, {})))).to.include('Signature verification failed');
    });

    it('an oversized token, before parsing it (tollgate.jwt.max_token_bytes)', async () => {
      const token = await aToken(rsa, { padding: 'x'.repeat(2000) });
      expect(refusalOf(await verifierFor({ tollgate: { max_token_bytes: 1024 } }).verify(token))).to.equal(
        'Authentication Error, Validation fails: token is larger than 1024 bytes',
      );
      const hits = jwks.hits;
      await verifierFor({ tollgate: { max_token_bytes: 1024 } }).verify(token);
      expect(jwks.hits, 'no key fetch for an oversized token').to.equal(hits);
    });

    it('garbage with three dots', async () => {
      expect(refusalOf(await verifierFor().verify('not.a.jwt'))).to.equal('Authentication Error, Validation fails: Invalid token');
    });

    it('a JWK whose alg differs from the token header', async () => {
      const key = await aSigningKey('RS256', 'pinned');
      jwks.publish({ ...key, jwk: { ...key.jwk, alg: 'RS512' } });
      expect(refusalOf(await verifierFor().verify(await aToken(key, {})))).to.include('No matching public key found');
    });

    it('every token when no key source is configured for it', async () => {
      const verifier = aVerifier(jwtSettings({ env: { publicKeyUrl: null }, tollgate: { envoy_metadata_namespace: 'ns' } }));
      expect(refusalOf(await verifier.verify(await aToken(rsa, {})))).to.equal('Authentication Error, Missing JWT Public Key URL from environment.');
    });
  });

  describe('key sets', () => {
    it('an X.509 certificate PEM is accepted as a static key (LiteLLM treats PEM strings as certificates)', async () => {
      // A self-signed certificate is not easy to mint with node alone; parse the one jose/Node can read.
      const pem = await selfSignedCertificatePem();
      if (pem === null) return;
      const verifier = aVerifier(jwtSettings({ tollgate: { public_keys: [pem.certificate] } }));
      expect(claimsOf(await verifier.verify(await aToken(pem.key, { sub: 'cert' })))).to.include({ sub: 'cert' });
    });

    it('rotation: a token with a new kid triggers one refetch and verifies', async () => {
      const verifier = verifierFor({ tollgate: { jwks_refetch_min_interval_seconds: 0 } });
      await verifier.verify(await aToken(rsa, {}));
      const next = await aSigningKey('RS256', 'rsa-2');
      jwks.publish(rsa, next);
      const before = jwks.hits;
      expect(claimsOf(await verifier.verify(await aToken(next, { sub: 'rotated' })))).to.include({ sub: 'rotated' });
      expect(jwks.hits - before).to.equal(1);
    });

    it('unknown kids refetch at most once per jwks_refetch_min_interval_seconds', async () => {
      const verifier = verifierFor({ tollgate: { jwks_refetch_min_interval_seconds: 60 } });
      await verifier.verify(await aToken(rsa, {}));
      const stranger = await aSigningKey('RS256', 'random-kid');
      const before = jwks.hits;
      for (let i = 0; i < 5; i += 1) refusalOf(await verifier.verify(await aToken(stranger, {})));
      expect(jwks.hits - before, 'the first fetch counts toward the interval').to.equal(0);
    });

    it('public_key_ttl: a warm key set is served without fetching again', async () => {
      const verifier = verifierFor({ jwtauth: { public_key_ttl: 600 } });
      await verifier.verify(await aToken(rsa, {}));
      const before = jwks.hits;
      for (let i = 0; i < 3; i += 1) claimsOf(await verifier.verify(await aToken(rsa, {})));
      expect(jwks.hits).to.equal(before);
    });

    it('JWT_PUBLIC_KEY_URL lists several URLs: keys from any of them verify', async () => {
      const other = await aSigningKey('ES256', 'other-idp');
      const second = await startJwksServer(other);
      try {
        const verifier = verifierFor({ env: { publicKeyUrl: `${jwks.url}, ${second.url}` } });
        expect(claimsOf(await verifier.verify(await aToken(other, { sub: 'second' })))).to.include({ sub: 'second' });
        expect(claimsOf(await verifier.verify(await aToken(rsa, { sub: 'first' })))).to.include({ sub: 'first' });
      } finally {
        await second.close();
      }
    });

    it('litellm_jwtauth.issuers: a token is verified with its issuer\'s keys and audience', async () => {
      const tenantKey = await aSigningKey('RS256', 'tenant');
      const tenant = await startJwksServer(tenantKey);
      try {
        const verifier = verifierFor({
          jwtauth: { issuers: [{ issuer: 'https://tenant.example', jwks_url: tenant.url, audience: 'tenant-app' }] },
        });
        const good = await aToken(tenantKey, { iss: 'https://tenant.example', aud: 'tenant-app' });
        expect(claimsOf(await verifier.verify(good))).to.include({ iss: 'https://tenant.example' });
        const wrongAud = await aToken(tenantKey, { iss: 'https://tenant.example', aud: 'other' });
        expect(refusalOf(await verifier.verify(wrongAud))).to.include("Audience doesn't match");
        // The tenant's key is not trusted for tokens of other issuers.
        expect(refusalOf(await verifier.verify(await aToken(tenantKey, { iss: 'https://elsewhere' })))).to.include('No matching public key');
      } finally {
        await tenant.close();
      }
    });
  });

  describe('JWKS endpoint down', () => {
    it('warm: tokens whose keys are cached keep verifying, past public_key_ttl within public_key_stale_ttl', async () => {
      const verifier = verifierFor({ jwtauth: { public_key_ttl: 0, public_key_stale_ttl: 3600 }, tollgate: { jwks_refetch_min_interval_seconds: 0 } });
      claimsOf(await verifier.verify(await aToken(rsa, {})));
      jwks.down();
      for (let i = 0; i < 3; i += 1) claimsOf(await verifier.verify(await aToken(rsa, { i })));
    });

    it('warm: an unknown kid is still refused (the cached set answers)', async () => {
      const verifier = verifierFor({ tollgate: { jwks_refetch_min_interval_seconds: 0 } });
      claimsOf(await verifier.verify(await aToken(rsa, {})));
      jwks.down();
      const stranger = await aSigningKey('RS256', 'during-outage');
      expect(refusalOf(await verifier.verify(await aToken(stranger, {})))).to.include('No matching public key found');
    });

    it('cold: nothing cached → JwksUnavailableError (the server answers UNAVAILABLE)', async () => {
      jwks.down();
      const verifier = verifierFor({ tollgate: { jwks_fetch_timeout_ms: 500 } });
      const error = await Promise.resolve(verifier.verify(await aToken(rsa, {}))).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(JwksUnavailableError);
    });

    it('cold: an HTTP 503 from the endpoint is an outage too', async () => {
      jwks.failWith(503);
      const error = await Promise.resolve(verifierFor().verify(await aToken(rsa, {}))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(JwksUnavailableError);
    });

    it('cold: a stuck endpoint is given up after tollgate.jwt.jwks_fetch_timeout_ms', async () => {
      jwks.hang();
      const started = Date.now();
      const error = await Promise.resolve(verifierFor({ tollgate: { jwks_fetch_timeout_ms: 200 } }).verify(await aToken(rsa, {}))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(JwksUnavailableError);
      expect(Date.now() - started).to.be.lessThan(2000);
    });

    it('past public_key_stale_ttl the cached set is no longer used', async () => {
      const verifier = verifierFor({ jwtauth: { public_key_ttl: 0, public_key_stale_ttl: 0 }, tollgate: { jwks_refetch_min_interval_seconds: 0 } });
      claimsOf(await verifier.verify(await aToken(rsa, {})));
      jwks.down();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const error = await Promise.resolve(verifier.verify(await aToken(rsa, {}))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(JwksUnavailableError);
    });
  });
});

/**
 * A certificate for a fresh key, made with the `openssl` CLI when it is installed; null (test
 * skipped in effect) otherwise.
 */
async function selfSignedCertificatePem(): Promise<{ certificate: string; key: SigningKey } | null> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { importPKCS8 } = await import('jose');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=test'], { stdio: 'ignore' });
    const certificate = readFileSync(join(dir, 'c.pem'), 'utf8');
    const privateKey = await importPKCS8(readFileSync(join(dir, 'k.pem'), 'utf8'), 'RS256');
    const pem = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return { certificate, key: { kid: 'cert', alg: 'RS256', privateKey, jwk: {}, pem } };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
