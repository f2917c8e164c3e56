/**
 * Tokens an attacker sends to get past TokenVerifier (verify.ts), against a real JWKS server on
 * 127.0.0.1:0. Each must be refused with LiteLLM's 401, never verified and never an outage.
 */
import { expect } from 'chai';
import { createHmac, KeyObject, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign } from 'jose';
import { JwksUnavailableError } from '../../../src/auth/jwt/errors';
import type { Verification } from '../../../src/auth/jwt/verify';
import { aSigningKey, aToken, startJwksServer, type JwksServer, type SigningKey } from '../../support/jwt';
import { aVerifier, jwtSettings, type JwtConfigParts } from './fixtures';

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);

/** A token over exactly these payload bytes (so JSON a builder would normalise can be sent). */
function signedRaw(key: SigningKey, payload: string, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** HS256 with `secret` as the HMAC key: what a verifier that feeds its key material to HMAC accepts. */
function hs256(secret: string | Buffer, claims: Record<string, unknown>, header: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64({ exp: nowS() + 3600, ...claims })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function withSignature(token: string, signature: Buffer): string {
  const [header, payload] = token.split('.');
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

function refusalOf(result: Verification): string {
  if (result.kind !== 'refused') throw new Error(`expected a refusal, got claims ${JSON.stringify(result.claims)}`);
  expect(result.denial).to.include({ status: 401, type: 'auth_error' });
  return result.denial.message;
}

function claimsOf(result: Verification): Record<string, unknown> {
  if (result.kind !== 'verified') throw new Error(`expected verified claims, got: ${result.denial.message}`);
  return result.claims;
}

describe('TokenVerifier under attack (verify.ts)', function () {
  this.timeout(20_000);
  let rsa: SigningKey;
  let ec: SigningKey;
  let jwks: JwksServer;
  const verifierFor = (parts: JwtConfigParts = {}) => aVerifier(jwtSettings({ ...parts, env: { publicKeyUrl: jwks.url, ...(parts.env ?? {}) } }));

  before(async () => {
    rsa = await aSigningKey('RS256', 'atk-rsa');
    ec = await aSigningKey('ES256', 'atk-ec');
    jwks = await startJwksServer(rsa, ec);
  });

  beforeEach(() => {
    jwks.publish(rsa, ec);
    jwks.up();
  });

  after(async () => {
    await jwks.close();
  });

  describe('algorithm confusion', () => {
    it('refuses HS256 keyed with the published JWK in every form a confused verifier might use', async () => {
      const jwkJson = JSON.stringify(rsa.jwk);
      const n = Buffer.from(String(rsa.jwk.n), 'base64url');
      for (const secret of [jwkJson, n, rsa.pem, Buffer.from(rsa.pem)]) {
        for (const header of [{ kid: rsa.kid }, {}]) {
          expect(refusalOf(await verifierFor().verify(hs256(secret, { sub: 'mallory' }, header)))).to.include('The specified alg value is not allowed');
        }
      }
    });

    it('refuses HS256 against a statically configured PEM key and a static JWK with no kid', async () => {
      const withoutKid = { ...rsa.jwk, kid: undefined, alg: undefined };
      for (const keys of [[rsa.pem], [withoutKid]]) {
        const verifier = aVerifier(jwtSettings({ tollgate: { public_keys: keys } }));
        expect(refusalOf(await verifier.verify(hs256(rsa.pem, { sub: 'mallory' }, {})))).to.include('The specified alg value is not allowed');
      }
    });

    for (const alg of ['none', 'None', 'NONE', 'nOnE', '', 'HS512', 'RS1', 'ES256K']) {
      it(`refuses alg ${JSON.stringify(alg)}, before any key is fetched`, async () => {
        const verifier = verifierFor();
        const before = jwks.hits;
        const token = `${b64({ alg, kid: rsa.kid })}.${b64({ sub: 'mallory', exp: nowS() + 60 })}.`;
        expect(refusalOf(await verifier.verify(token))).to.include('The specified alg value is not allowed');
        expect(jwks.hits).to.equal(before);
      });
    }

    it('refuses a header whose alg is not a string (a list, an object)', async () => {
      for (const alg of [['RS256'], { alg: 'RS256' }, 256]) {
        const token = `${b64({ alg, kid: rsa.kid })}.${b64({ sub: 'mallory' })}.${b64('sig')}`;
        expect(refusalOf(await verifierFor().verify(token))).to.include('The specified alg value is not allowed');
      }
    });

    it("refuses ES256 naming the RSA key's kid, and RS256 naming the EC key's (alg against the JWK's kty)", async () => {
      // Pinned by the JWK's alg: no candidate key at all.
      expect(refusalOf(await verifierFor().verify(await aToken(ec, { sub: 'x' }, { kid: rsa.kid })))).to.include('No matching public key found');
      // Not pinned: the key is tried and cannot check that algorithm.
      jwks.publish({ ...rsa, jwk: { ...rsa.jwk, alg: undefined } }, { ...ec, jwk: { ...ec.jwk, alg: undefined } });
      expect(refusalOf(await verifierFor().verify(await aToken(ec, { sub: 'x' }, { kid: rsa.kid })))).to.include('Validation fails');
      expect(refusalOf(await verifierFor().verify(await aToken(rsa, { sub: 'x' }, { kid: ec.kid })))).to.include('Validation fails');
    });

    it('refuses a token whose alg differs from the alg its JWK is pinned to, even when the key could check it (PS256 on an RS256 key)', async () => {
      const ps = await aSigningKey('PS256', 'pinned-rs');
      jwks.publish({ ...ps, jwk: { ...ps.jwk, alg: 'RS256' } });
      expect(refusalOf(await verifierFor().verify(await aToken(ps, {})))).to.include('No matching public key found');
    });

    it('never uses a key published for encryption (use: enc) to verify a signature', async () => {
      jwks.publish({ ...rsa, jwk: { ...rsa.jwk, use: 'enc' } });
      expect(refusalOf(await verifierFor().verify(await aToken(rsa, {})))).to.include('No matching public key found');
    });
  });

  describe('ES256 signatures of the wrong shape', () => {
    it('refuses a DER-encoded, truncated, padded, empty or all-zero signature (CVE-2022-21449 shape)', async () => {
      const good = await aToken(ec, { sub: 'alice' });
      claimsOf(await verifierFor().verify(good));
      const raw = Buffer.from(good.split('.')[2] as string, 'base64url');
      expect(raw.length).to.equal(64);
      const der = derOf(raw);
      for (const [what, signature] of [
        ['DER', der],
        ['63 bytes', raw.subarray(0, 63)],
        ['65 bytes', Buffer.concat([raw, Buffer.from([0])])],
        ['empty', Buffer.alloc(0)],
        ['r = s = 0', Buffer.alloc(64)],
        ['r || r', Buffer.concat([raw.subarray(0, 32), raw.subarray(0, 32)])],
      ] as const) {
        expect(refusalOf(await verifierFor().verify(withSignature(good, signature))), what).to.include('Validation fails');
      }
    });
  });

  describe('kid tricks', () => {
    it('refuses a token without kid when the set has several keys, even when it was signed by one of them', async () => {
      expect(refusalOf(await verifierFor().verify(await aToken(rsa, {}, { kid: null })))).to.include('No matching public key found');
    });

    it('a kid shared by two keys: the one that signed verifies, a forgery under that kid does not', async () => {
      const twin = await aSigningKey('RS256', rsa.kid);
      jwks.publish(rsa, twin, ec);
      claimsOf(await verifierFor().verify(await aToken(twin, { sub: 'twin' })));
      claimsOf(await verifierFor().verify(await aToken(rsa, { sub: 'first' })));
      const stranger = await aSigningKey('RS256', rsa.kid);
      expect(refusalOf(await verifierFor().verify(await aToken(stranger, {})))).to.include('Signature verification failed');
    });

    it('a kid that is not a string is no kid (no match among several keys)', async () => {
      for (const kid of [1, { $ne: null }, [rsa.kid], true]) {
        const token = await signedRaw(rsa, JSON.stringify({ exp: nowS() + 60 }), { kid });
        expect(refusalOf(await verifierFor().verify(token))).to.include('kid=None');
      }
    });

    it('injected kids (paths, quotes, SQL, a very long one) only ever fail to match', async () => {
      const verifier = verifierFor();
      for (const kid of ['../../../../dev/null', "' OR '1'='1", `${rsa.kid}\u0000`, ` ${rsa.kid}`, rsa.kid.toUpperCase(), 'k'.repeat(8000), '__proto__', 'constructor']) {
        const token = await aToken(rsa, {}, { kid });
        expect(refusalOf(await verifier.verify(token))).to.include('No matching public key found');
      }
    });

    it('ignores keys the token carries itself (jwk, jku, x5u, x5c headers)', async () => {
      const attacker = await aSigningKey('RS256', 'attacker');
      jwks.publish(rsa);
      const header = { jwk: attacker.jwk, jku: 'http://127.0.0.1:9/evil', x5u: 'http://127.0.0.1:9/evil', kid: undefined };
      const token = await signedRaw(attacker, JSON.stringify({ sub: 'mallory', exp: nowS() + 60 }), header);
      // The set's single key is the only candidate (a token without kid may use it): the signature fails.
      expect(refusalOf(await verifierFor().verify(token))).to.include('Signature verification failed');
    });

    it('refuses a critical header extension it does not understand', async () => {
      const input = `${b64({ alg: 'RS256', kid: rsa.kid, crit: ['x-tollgate'], 'x-tollgate': 1 })}.${b64({ exp: nowS() + 60 })}`;
      const token = `${input}.${sign('sha256', Buffer.from(input), KeyObject.from(rsa.privateKey)).toString('base64url')}`;
      expect(refusalOf(await verifierFor().verify(token))).to.include('Validation fails');
    });
  });

  describe('time claims', () => {
    it('refuses exp, nbf and iat that are not numbers (PyJWT would read a numeric string; no IdP sends one)', async () => {
      for (const payload of [{ exp: String(nowS() + 3600) }, { exp: null }, { exp: [nowS() + 3600] }, { nbf: '0' }, { iat: 'yesterday' }, { exp: true }]) {
        const token = await signedRaw(rsa, JSON.stringify({ sub: 'x', ...payload }));
        expect(refusalOf(await verifierFor().verify(token)), JSON.stringify(payload)).to.include('Validation fails');
      }
    });

    it('refuses an exp too large to be a number (1e400 parses as Infinity; PyJWT cannot make an int of it)', async () => {
      for (const exp of ['1e400', '-1e400']) {
        const token = await signedRaw(rsa, `{"sub":"x","exp":${exp}}`);
        const message = refusalOf(await verifierFor().verify(token));
        expect(message, exp).to.match(/Validation fails|Token Expired/);
      }
    });

    it('refuses nbf and iat too large to be a number', async () => {
      for (const claim of ['nbf', 'iat']) {
        const token = await signedRaw(rsa, `{"sub":"x","exp":${nowS() + 60},"${claim}":-1e400}`);
        expect(refusalOf(await verifierFor().verify(token)), claim).to.include('Validation fails');
      }
    });

    it('a fractional exp: valid until it passes, as PyJWT (which truncates) within a second', async () => {
      claimsOf(await verifierFor().verify(await signedRaw(rsa, `{"exp":${nowS() + 30}.5}`)));
      expect(refusalOf(await verifierFor().verify(await signedRaw(rsa, `{"exp":${nowS() - 2}.9}`)))).to.equal('Authentication Error, Token Expired');
    });

    it('a far-future but finite exp (1e15) is a valid token, as in LiteLLM', async () => {
      claimsOf(await verifierFor().verify(await signedRaw(rsa, '{"sub":"x","exp":1e15}')));
    });
  });

  describe('audience and issuer', () => {
    const aud = { env: { audience: 'litellm' } };
    for (const [what, value] of [
      ['a list without it', ['account', 'other']],
      ['an empty list', []],
      ['a number', 1],
      ['an object', { litellm: true }],
      ['the audience in another case', 'LiteLLM'],
      ['a prefix of it', 'litellm-admin'],
      ['null', null],
    ] as const) {
      it(`refuses aud ${what} when JWT_AUDIENCE is set`, async () => {
        const token = await signedRaw(rsa, JSON.stringify({ aud: value, exp: nowS() + 60 }));
        expect(refusalOf(await verifierFor(aud).verify(token))).to.include('Validation fails');
      });
    }

    it('accepts aud as the string or a list holding it', async () => {
      claimsOf(await verifierFor(aud).verify(await aToken(rsa, { aud: 'litellm' })));
      claimsOf(await verifierFor(aud).verify(await aToken(rsa, { aud: ['x', 'litellm'] })));
    });

    it("an issuer without jwks_url: keys from its OIDC discovery document; its audience list is one-of; others' tokens refused", async () => {
      const tenant = await aSigningKey('ES256', 'tenant-discovered');
      const server = createServer((req, res) => {
        const body = req.url === '/realms/t/.well-known/openid-configuration' ? { jwks_uri: `http://${String(req.headers.host)}/realms/t/certs` } : { keys: [tenant.jwk] };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/t`;
      try {
        const verifier = verifierFor({ jwtauth: { issuers: [{ issuer, audience: ['app-a', 'app-b'] }] } });
        claimsOf(await verifier.verify(await aToken(tenant, { iss: issuer, aud: 'app-b' })));
        claimsOf(await verifier.verify(await aToken(tenant, { iss: issuer, aud: ['x', 'app-a'] })));
        expect(refusalOf(await verifier.verify(await aToken(tenant, { iss: issuer, aud: 'app-c' })))).to.include("Audience doesn't match");
        expect(refusalOf(await verifier.verify(await aToken(tenant, { iss: issuer })))).to.include('"aud"');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('refuses an iss that is not a string, or absent, when JWT_ISSUER is set', async () => {
      const verifier = verifierFor({ env: { issuer: 'https://idp.example' } });
      for (const iss of [['https://idp.example'], null, 'https://idp.example/']) {
        expect(refusalOf(await verifier.verify(await aToken(rsa, { iss })))).to.include('Validation fails');
      }
      expect(refusalOf(await verifier.verify(await aToken(rsa, {})))).to.include('"iss"');
    });
  });

  describe('refetching and outages', () => {
    const elapsed = async (work: () => Promise<unknown>): Promise<number> => {
      const started = Date.now();
      await work();
      return Date.now() - started;
    };

    it('a flood of random kids costs the identity provider one refetch per interval, and every one is refused (401)', async () => {
      const verifier = verifierFor({ tollgate: { jwks_refetch_min_interval_seconds: 60 } });
      claimsOf(await verifier.verify(await aToken(rsa, {})));
      const before = jwks.hits;
      const strangers = await Promise.all(Array.from({ length: 3 }, (_, i) => aSigningKey('RS256', `flood-${i}`)));
      const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => aToken(strangers[i % 3] as SigningKey, {}, { kid: `random-${i}` })));
      const results = await Promise.all(tokens.map((t) => verifier.verify(t)));
      for (const result of results) expect(refusalOf(result)).to.include('No matching public key found');
      expect(jwks.hits - before).to.be.at.most(1);
    });

    it('while a refetch for an unknown kid hangs on the provider, tokens with known kids do not wait for it', async () => {
      const verifier = verifierFor({ tollgate: { jwks_refetch_min_interval_seconds: 0, jwks_fetch_timeout_ms: 2500 } });
      claimsOf(await verifier.verify(await aToken(rsa, {})));
      jwks.hang();
      const stranger = await aSigningKey('RS256', 'hanging-kid');
      const pending = Promise.resolve(verifier.verify(await aToken(stranger, {})));
      const fresh = await aToken(rsa, { sub: 'not remembered yet' });
      expect(await elapsed(async () => claimsOf(await verifier.verify(fresh)))).to.be.lessThan(1000);
      expect(refusalOf(await pending), 'the old set answers once the refetch gives up').to.include('No matching public key found');
    });

    it('one dead URL of JWT_PUBLIC_KEY_URL does not hold up tokens whose key a live one serves', async () => {
      const dead = await startJwksServer();
      dead.hang();
      try {
        const verifier = verifierFor({ env: { publicKeyUrl: `${jwks.url},${dead.url}` }, tollgate: { jwks_fetch_timeout_ms: 1500 } });
        claimsOf(await verifier.verify(await aToken(rsa, { n: 0 }))); // cold: waits once for the dead URL
        await new Promise((resolve) => setTimeout(resolve, 1100)); // past the one-second retry of a failed fetch
        for (let n = 1; n <= 3; n += 1) {
          const token = await aToken(rsa, { n });
          expect(await elapsed(async () => claimsOf(await verifier.verify(token))), `token ${n}`).to.be.lessThan(700);
        }
      } finally {
        await dead.close();
      }
    });

    it("with a live URL's set cached and the other URL dead, an unknown kid cannot be decided (UNAVAILABLE), as the dead set might hold it", async () => {
      const dead = await startJwksServer();
      dead.down();
      try {
        const verifier = verifierFor({ env: { publicKeyUrl: `${jwks.url},${dead.url}` } });
        claimsOf(await verifier.verify(await aToken(rsa, {})));
        const error = await Promise.resolve(verifier.verify(await aToken(await aSigningKey('RS256', 'elsewhere'), {}))).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(JwksUnavailableError);
      } finally {
        await dead.close();
      }
    });
  });

  describe('what a refusal says', () => {
    it('never echoes the token, and masks credentials in a JWKS URL it names', async () => {
      const withCredentials = jwks.url.replace('http://', 'http://reader:s3cret@');
      const token = await aToken(await aSigningKey('RS256', 'unknown-kid'), { sub: 'alice' });
      const message = refusalOf(await verifierFor({ env: { publicKeyUrl: withCredentials } }).verify(token));
      expect(message).to.include('No matching public key found');
      expect(message).to.not.include('s3cret');
      expect(message).to.not.include(token.split('.')[1] as string);
    });
  });
});

/** An ECDSA r||s signature as ASN.1 DER (what OpenSSL emits and JWS forbids). */
function derOf(raw: Buffer): Buffer {
  const int = (bytes: Buffer): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i += 1;
    const trimmed = bytes.subarray(i);
    const body = (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}
