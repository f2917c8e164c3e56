import { expect } from 'chai';
import { JwksCache } from '../../../src/auth/jwt/jwks-cache';
import { httpJwksFetcher } from '../../../src/auth/jwt/jwks-fetch';
import { JwksUnavailableError } from '../../../src/auth/jwt/errors';
import { TokenVerifier, type Verification } from '../../../src/auth/jwt/verify';
import { VerifiedTokens } from '../../../src/auth/jwt/verified-tokens';
import { aSigningKey, aToken, startJwksServer, withTamperedPayload, type JwksServer, type SigningKey } from '../../support/jwt';
import { jwtSettings, type JwtConfigParts } from './fixtures';

function claimsOf(result: Verification): Record<string, unknown> {
  if (result.kind !== 'verified') throw new Error(`expected verified claims, got: ${result.denial.message}`);
  return result.claims;
}

function refusalOf(result: Verification): string {
  if (result.kind !== 'refused') throw new Error('expected a refusal');
  return result.denial.message;
}

describe('TokenVerifier: verified tokens remembered (verified-tokens.ts)', function () {
  this.timeout(20_000);
  let rsa: SigningKey;
  let jwks: JwksServer;
  let clockMs: number;
  /** Key sets fetched so far: a background refresh has replaced the set once this grows. */
  let fetches: number;

  /** A verifier on a clock the test moves, for the token's time claims and for the key sets alike. */
  function aVerifier(parts: JwtConfigParts = {}, memory = new VerifiedTokens()): { verifier: TokenVerifier; memory: VerifiedTokens } {
    const settings = jwtSettings({ ...parts, env: { publicKeyUrl: jwks.url, ...(parts.env ?? {}) } });
    // Never behind real time: tokens are signed with the real clock, and signing on a busy machine
    // can cross a second after beforeEach set the clock (their iat would then be ahead of it).
    const clock = (): number => Math.max(clockMs, Date.now());
    const events = { fetched: () => (fetches += 1), fetchFailed: () => undefined };
    return { verifier: new TokenVerifier(settings, new JwksCache(settings.jwks, httpJwksFetcher, events, clock), memory, clock), memory };
  }

  /** Until the background refresh started by the last request has replaced the key set. */
  async function refreshed(before: number): Promise<void> {
    for (let waited = 0; fetches === before; waited += 5) {
      if (waited > 10_000) throw new Error('the key set was never refreshed');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  before(async () => {
    rsa = await aSigningKey('RS256', 'remembered-1');
    jwks = await startJwksServer(rsa);
  });

  beforeEach(() => {
    clockMs = Date.now();
    fetches = 0;
    jwks.publish(rsa);
    jwks.up();
  });

  after(async () => {
    await jwks.close();
  });

  it('checks a token\'s signature once, then answers the same claims from memory', async () => {
    const { verifier, memory } = aVerifier();
    const token = await aToken(rsa, { sub: 'alice', team_id: 't1' });
    const first = claimsOf(await verifier.verify(token));
    expect(memory).to.include({ size: 1, hits: 0 });
    for (let i = 0; i < 3; i += 1) expect(claimsOf(await verifier.verify(token))).to.deep.equal(first);
    expect(memory.hits).to.equal(3);
  });

  it('answers a repeat at once, without a promise, while its key set is usable; waits only when it is not', async () => {
    const { verifier } = aVerifier({ jwtauth: { public_key_ttl: 1, public_key_stale_ttl: 1 }, tollgate: { jwks_refetch_min_interval_seconds: 0 } });
    const token = await aToken(rsa, { sub: 'alice' });
    const first = verifier.verify(token);
    expect(first, 'the first verification is awaited').to.be.instanceOf(Promise);
    claimsOf(await first);
    const repeat = verifier.verify(token);
    expect(repeat, 'a repeat with the set fresh').to.not.be.instanceOf(Promise);
    expect(claimsOf(await repeat).sub).to.equal('alice');
    clockMs += 1_500; // past public_key_ttl, within the stale TTL: served as is, refreshed behind
    const before = fetches;
    expect(verifier.verify(token), 'a repeat with the set stale').to.not.be.instanceOf(Promise);
    await refreshed(before);
    // The refresh brought new key objects: one full verification, then at once again.
    const afterRefresh = verifier.verify(token);
    expect(afterRefresh).to.be.instanceOf(Promise);
    claimsOf(await afterRefresh);
    expect(verifier.verify(token)).to.not.be.instanceOf(Promise);
    clockMs += 5_000; // past both TTLs: only a fetch can answer
    const cold = verifier.verify(token);
    expect(cold, 'with no usable set').to.be.instanceOf(Promise);
    claimsOf(await cold);
  });

  it('shares frozen claims, so no request can change what the next one sees', async () => {
    const { verifier } = aVerifier();
    const token = await aToken(rsa, { sub: 'alice', groups: ['a'] });
    await verifier.verify(token);
    const claims = claimsOf(await verifier.verify(token));
    expect(Object.isFrozen(claims)).to.equal(true);
    expect(Object.isFrozen(claims.groups)).to.equal(true);
  });

  it('refuses a remembered token once it expires, as jose would ("Token Expired")', async () => {
    const { verifier, memory } = aVerifier({ tollgate: { clock_skew_seconds: 5 } });
    const token = await aToken(rsa, { sub: 'alice' }, { expiresIn: 60 });
    claimsOf(await verifier.verify(token));
    clockMs += 64_000; // within the skew: still good
    claimsOf(await verifier.verify(token));
    expect(memory.hits).to.equal(1);
    clockMs += 2_000; // past exp + skew
    expect(refusalOf(await verifier.verify(token))).to.equal('Authentication Error, Token Expired');
    expect(memory.size).to.equal(0);
  });

  it('verifies again, and refuses, once the key set no longer holds the key that verified it', async () => {
    const { verifier, memory } = aVerifier({ jwtauth: { public_key_ttl: 1 }, tollgate: { jwks_refetch_min_interval_seconds: 0 } });
    const token = await aToken(rsa, { sub: 'alice' });
    claimsOf(await verifier.verify(token));
    const successor = await aSigningKey('RS256', 'remembered-2');
    jwks.publish(successor);
    clockMs += 2_000; // past public_key_ttl: this request refreshes the set in the background
    const before = fetches;
    claimsOf(await verifier.verify(token));
    await refreshed(before);
    expect(refusalOf(await verifier.verify(token))).to.include('No matching public key found');
    expect(memory.size).to.equal(0);
  });

  it('refuses a remembered token at once when a refetch for another token\'s new kid brings a set without its key', async () => {
    const successor = await aSigningKey('RS256', 'remembered-3');
    clockMs = Date.now(); // key generation can take a second: the tokens' iat must not be ahead of the clock
    const { verifier, memory } = aVerifier({ tollgate: { jwks_refetch_min_interval_seconds: 0 } });
    const token = await aToken(rsa, { sub: 'alice' });
    claimsOf(await verifier.verify(token));
    jwks.publish(successor);
    claimsOf(await verifier.verify(await aToken(successor, { sub: 'bob' }))); // unknown kid: the set is refetched
    expect(refusalOf(await verifier.verify(token))).to.include('No matching public key found');
    expect(memory.hits).to.equal(0);
  });

  it('verifies again after a refetch even when the set is unchanged (new key objects), then remembers anew', async () => {
    const { verifier, memory } = aVerifier({ jwtauth: { public_key_ttl: 1 }, tollgate: { jwks_refetch_min_interval_seconds: 0 } });
    const token = await aToken(rsa, { sub: 'alice' });
    claimsOf(await verifier.verify(token));
    clockMs += 2_000;
    const before = fetches;
    claimsOf(await verifier.verify(token)); // the old set still answers; a refresh starts
    const hitsBefore = memory.hits;
    await refreshed(before);
    claimsOf(await verifier.verify(token));
    expect(memory.hits, 'the refreshed set is new objects: verified, not remembered').to.equal(hitsBefore);
    claimsOf(await verifier.verify(token));
    expect(memory.hits).to.equal(hitsBefore + 1);
  });

  it('stops answering from memory when the key sets can no longer be used (UNAVAILABLE, as without memory)', async () => {
    const { verifier } = aVerifier({ jwtauth: { public_key_ttl: 0, public_key_stale_ttl: 0 }, tollgate: { jwks_refetch_min_interval_seconds: 0 } });
    const token = await aToken(rsa, {});
    claimsOf(await verifier.verify(token));
    jwks.down();
    // Well past the fetch in real time too: the clock never runs behind Date.now(), and a fetch that
    // finished late on a loaded machine left the set 0 ms old, so fresh under a TTL of 0.
    clockMs = Date.now() + 5_000;
    const error = await Promise.resolve(verifier.verify(token)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(JwksUnavailableError);
  });

  it('never remembers a refusal', async () => {
    const { verifier, memory } = aVerifier();
    const tampered = withTamperedPayload(await aToken(rsa, { sub: 'alice' }), { sub: 'admin' });
    for (let i = 0; i < 2; i += 1) expect(refusalOf(await verifier.verify(tampered))).to.include('Signature verification failed');
    expect(memory).to.include({ size: 0, hits: 0 });
  });

  it('keeps the tampered twin of a remembered token apart (a different token, a different entry)', async () => {
    const { verifier } = aVerifier();
    const token = await aToken(rsa, { sub: 'alice' });
    claimsOf(await verifier.verify(token));
    expect(refusalOf(await verifier.verify(withTamperedPayload(token, { sub: 'admin' })))).to.include('Signature verification failed');
  });

  it('is bounded in bytes too: large tokens push the least recently used out sooner, and one past the bound is not kept', async () => {
    const { verifier, memory } = aVerifier({}, new VerifiedTokens(100, 4_000));
    const padded = (sub: string, bytes: number): Promise<string> => aToken(rsa, { sub, pad: 'x'.repeat(bytes) });
    const [a, b] = await Promise.all([padded('a', 900), padded('b', 900)]);
    claimsOf(await verifier.verify(a as string));
    claimsOf(await verifier.verify(b as string));
    expect(memory.size).to.equal(2);
    claimsOf(await verifier.verify(await padded('c', 900)));
    expect(memory.size, 'three tokens of ~1.7 KB do not fit in 4 000 bytes').to.equal(2);
    claimsOf(await verifier.verify(a as string));
    expect(memory.hits, 'the oldest was forgotten').to.equal(0);
    const huge = await padded('huge', 4_000);
    claimsOf(await verifier.verify(huge));
    claimsOf(await verifier.verify(huge));
    expect(memory.hits, 'a token larger than the whole bound is verified every time').to.equal(0);
  });

  it('is bounded: past its size the least recently used token is verified again', async () => {
    const { verifier, memory } = aVerifier({}, new VerifiedTokens(2));
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => aToken(rsa, { sub })));
    for (const token of tokens) claimsOf(await verifier.verify(token));
    expect(memory.size).to.equal(2);
    claimsOf(await verifier.verify(tokens[0] as string));
    expect(memory.hits, 'the first token was forgotten').to.equal(0);
    claimsOf(await verifier.verify(tokens[2] as string));
    expect(memory.hits).to.equal(1);
  });
});
