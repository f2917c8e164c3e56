import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { JwksUnavailableError } from '../../../src/auth/jwt/errors';
import { JwksCache } from '../../../src/auth/jwt/jwks-cache';
import { keysOfDocument } from '../../../src/auth/jwt/jwks-fetch';
import { keysMatching } from '../../../src/auth/jwt/verify';
import type { PublicKey } from '../../../src/auth/jwt/public-key';
import type { JwksCacheSettings } from '../../../src/auth/jwt/settings';

const URL = 'https://idp.example/jwks';
const SETTINGS: JwksCacheSettings = { ttlMs: 600_000, staleTtlMs: 3_600_000, fetchTimeoutMs: 1000, refetchMinIntervalMs: 30_000 };

function aKey(kid: string): PublicKey {
  return { kid, alg: null, key: generateKeyPairSync('ed25519').publicKey };
}

/** A fetcher that answers from a script and counts calls; `gate` holds answers back. */
function scriptedFetcher() {
  const state = {
    calls: 0,
    answer: (): Promise<PublicKey[]> => Promise.resolve([aKey('k1')]),
  };
  const fetcher = (url: string): Promise<PublicKey[]> => {
    expect(url).to.equal(URL);
    state.calls += 1;
    return state.answer();
  };
  return { state, fetcher };
}

describe('JwksCache', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('fetches once, then serves the set for public_key_ttl without fetching', async () => {
    const { state, fetcher } = scriptedFetcher();
    const cache = new JwksCache(SETTINGS, fetcher, undefined, clock);
    expect((await cache.keysFor(URL)).map((k) => k.kid)).to.deep.equal(['k1']);
    now += SETTINGS.ttlMs;
    await cache.keysFor(URL);
    expect(state.calls).to.equal(1);
  });

  it('past the TTL serves the cached set at once and refreshes in the background', async () => {
    const { state, fetcher } = scriptedFetcher();
    const cache = new JwksCache(SETTINGS, fetcher, undefined, clock);
    await cache.keysFor(URL);
    now += SETTINGS.ttlMs + 1;
    let release: (keys: PublicKey[]) => void = () => undefined;
    state.answer = () => new Promise((resolve) => (release = resolve));
    expect((await cache.keysFor(URL)).map((k) => k.kid), 'no wait on the refresh').to.deep.equal(['k1']);
    release([aKey('k2')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await cache.keysFor(URL)).map((k) => k.kid)).to.deep.equal(['k2']);
    expect(state.calls).to.equal(2);
  });

  it('shares one fetch between concurrent cold requests', async () => {
    const { state, fetcher } = scriptedFetcher();
    const cache = new JwksCache(SETTINGS, fetcher, undefined, clock);
    const sets = await Promise.all([cache.keysFor(URL), cache.keysFor(URL), cache.keysFor(URL)]);
    expect(sets.every((s) => s.length === 1)).to.equal(true);
    expect(state.calls).to.equal(1);
  });

  it('public_key_stale_ttl: while the endpoint fails, the old set stays usable, then expires', async () => {
    const { state, fetcher } = scriptedFetcher();
    const failures: string[] = [];
    const cache = new JwksCache(SETTINGS, fetcher, { fetched: () => undefined, fetchFailed: (_u, reason) => failures.push(reason) }, clock);
    await cache.keysFor(URL);
    state.answer = () => Promise.reject(new Error('ECONNREFUSED'));
    now += SETTINGS.ttlMs + SETTINGS.staleTtlMs;
    expect(await cache.keysFor(URL)).to.have.length(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).to.deep.equal(['ECONNREFUSED']);
    now += SETTINGS.refetchMinIntervalMs + 1;
    const error = await cache.keysFor(URL).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(JwksUnavailableError);
    expect((error as Error).message).to.include('ECONNREFUSED');
  });

  it('cold and failing: retries the endpoint at most once a second, not once per request', async () => {
    const { state, fetcher } = scriptedFetcher();
    state.answer = () => Promise.reject(new Error('HTTP 503'));
    const cache = new JwksCache(SETTINGS, fetcher, undefined, clock);
    const errors: unknown[] = [];
    for (let i = 0; i < 5; i += 1) errors.push(await cache.keysFor(URL).catch((e: unknown) => e));
    expect(errors[0]).to.be.instanceOf(JwksUnavailableError);
    expect((errors[0] as Error).message).to.include('HTTP 503');
    // One error per failed fetch, not one per request: an outage costs no more than the refusals.
    expect(new Set(errors).size).to.equal(1);
    expect(state.calls).to.equal(1);
    now += 999;
    await cache.keysFor(URL).catch(() => undefined);
    expect(state.calls).to.equal(1);
    now += 1;
    state.answer = () => Promise.resolve([aKey('back')]);
    expect((await cache.keysFor(URL)).map((k) => k.kid)).to.deep.equal(['back']);
  });

  it('refetchForUnknownKid: one refetch per interval; a failed one keeps the old set', async () => {
    const { state, fetcher } = scriptedFetcher();
    const cache = new JwksCache(SETTINGS, fetcher, undefined, clock);
    await cache.keysFor(URL);
    expect(await cache.refetchForUnknownKid(URL)).to.have.length(1);
    expect(state.calls, 'too soon after the first fetch').to.equal(1);
    now += SETTINGS.refetchMinIntervalMs;
    state.answer = () => Promise.reject(new Error('timeout'));
    expect((await cache.refetchForUnknownKid(URL)).map((k) => k.kid)).to.deep.equal(['k1']);
    expect(state.calls).to.equal(2);
  });
});

describe('keysOfDocument (LiteLLM: the keys array, or the whole body)', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'r1' };

  it('reads {"keys": [...]}, a bare list, and a single JWK', () => {
    expect(keysOfDocument({ keys: [jwk] }).map((k) => k.kid)).to.deep.equal(['r1']);
    expect(keysOfDocument([jwk]).map((k) => k.kid)).to.deep.equal(['r1']);
    expect(keysOfDocument(jwk).map((k) => k.kid)).to.deep.equal(['r1']);
  });

  it('skips symmetric (oct), encryption-only and malformed keys', () => {
    const keys = keysOfDocument({
      keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, { ...jwk, kid: 'enc', use: 'enc' }, { kty: 'RSA', kid: 'broken' }, 'text', jwk],
    });
    expect(keys.map((k) => k.kid)).to.deep.equal(['r1']);
  });

  it("lets a token without kid use the set's one signing key only when the document lists nothing else (parse_keys counts every entry)", () => {
    const alone = keysOfDocument({ keys: [jwk] });
    expect(keysMatching(alone, null, 'RS256').map((k) => k.kid)).to.deep.equal(['r1']);
    const withEncryptionKey = keysOfDocument({ keys: [jwk, { ...jwk, kid: 'enc', use: 'enc' }] });
    expect(withEncryptionKey.map((k) => k.kid), 'one usable key').to.deep.equal(['r1']);
    expect(keysMatching(withEncryptionKey, null, 'RS256'), 'no kid: no key').to.deep.equal([]);
    expect(keysMatching(withEncryptionKey, 'r1', 'RS256').map((k) => k.kid)).to.deep.equal(['r1']);
  });

  it('never keeps private members: a private JWK yields its public key only', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const [key] = keysOfDocument({ ...privateKey.export({ format: 'jwk' }), kid: 'leaked' });
    expect(key.key.type).to.equal('public');
  });
});
