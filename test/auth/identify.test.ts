import { expect } from 'chai';
import { identifyCaller } from '../../src/auth/identify';
import { abbreviateKey, hashKey, PresentedKey, SecretDigest } from '../../src/auth/key-hash';
import { aPolicy, aRequest } from '../checks/fixtures';

const MASTER = 'sk-master-0000';

describe('identifyCaller (§2.4–§2.6)', () => {
  it('lets public routes through before looking at any credential', () => {
    const caller = identifyCaller(aRequest({ route: '/health/liveliness', credential: { kind: 'none' } }), MASTER, aPolicy());
    expect(caller.kind).to.equal('public_route');
  });

  it('treats configured general_settings.public_routes like built-in ones', () => {
    const caller = identifyCaller(
      aRequest({ route: '/internal/status', credential: { kind: 'none' } }),
      MASTER,
      aPolicy({ publicRoutes: ['/internal/status'] }),
    );
    expect(caller.kind).to.equal('public_route');
  });

  it('allows everything when no master key is configured, as LiteLLM does', () => {
    expect(identifyCaller(aRequest({ credential: { kind: 'none' } }), null, aPolicy()).kind).to.equal('open_proxy');
  });

  it('refuses a request without a credential (401 "No api key passed in.")', () => {
    const caller = identifyCaller(aRequest({ credential: { kind: 'none' } }), MASTER, aPolicy());
    expect(caller).to.deep.include({ kind: 'refused' });
    if (caller.kind !== 'refused') throw new Error('unreachable');
    expect(caller.denial).to.include({ status: 401, type: 'auth_error', message: 'Authentication Error, No api key passed in.' });
  });

  for (const credential of [
    { kind: 'malformed', header: 'authorization' } as const,
    { kind: 'present', value: '', header: 'authorization' } as const,
  ]) {
    it(`refuses ${credential.kind === 'malformed' ? 'a malformed' : 'an empty'} credential without echoing it (401)`, () => {
      const caller = identifyCaller(aRequest({ credential }), MASTER, aPolicy());
      if (caller.kind !== 'refused') throw new Error(`expected a refusal, got ${caller.kind}`);
      expect(caller.denial.status).to.equal(401);
      expect(caller.denial.message).to.match(/Malformed API Key passed in\. Ensure Key has `Bearer ` prefix\.$/);
    });
  }

  it("answers /user/auth before the master key: 403 unless allow_user_auth, then no further check", () => {
    const onUserAuth = (value: string, allowUserAuth: boolean) =>
      identifyCaller(aRequest({ route: '/user/auth', credential: { kind: 'present', value, header: 'authorization' } }), MASTER, aPolicy({ allowUserAuth }));
    for (const value of [MASTER, 'sk-some-key']) {
      const refused = onUserAuth(value, false);
      if (refused.kind !== 'refused') throw new Error(`expected a refusal, got ${refused.kind}`);
      expect(refused.denial).to.deep.equal({ status: 403, type: 'auth_error', message: "'allow_user_auth' not set or set to False", param: 'None' });
      expect(onUserAuth(value, true).kind).to.equal('user_auth_route');
    }
    expect(identifyCaller(aRequest({ route: '/user/auth', credential: { kind: 'none' } }), MASTER, aPolicy({ allowUserAuth: true })).kind, 'a key is still needed').to.equal(
      'refused',
    );
    expect(onUserAuth(MASTER, false).kind).to.equal('refused');
    expect(identifyCaller(aRequest({ route: '/user/auth/x', credential: { kind: 'present', value: MASTER, header: 'authorization' } }), MASTER, aPolicy()).kind, 'exact route only').to.equal('master_key');
  });

  it('recognises the master key', () => {
    const caller = identifyCaller(aRequest({ credential: { kind: 'present', value: MASTER, header: 'authorization' } }), MASTER, aPolicy());
    expect(caller.kind).to.equal('master_key');
  });

  it('does not take a prefix or extension of the master key for it', () => {
    for (const value of [MASTER.slice(0, -1), `${MASTER}0`, MASTER.toUpperCase()]) {
      const caller = identifyCaller(aRequest({ credential: { kind: 'present', value, header: 'authorization' } }), MASTER, aPolicy());
      expect(caller.kind).to.equal('virtual_key');
    }
  });

  it('hashes a presented virtual key and marks non-sk- values as not to be looked up', () => {
    const key = identifyCaller(aRequest({ credential: { kind: 'present', value: 'sk-abc', header: 'authorization' } }), MASTER, aPolicy());
    expect(key).to.deep.equal({ kind: 'virtual_key', keyHash: hashKey('sk-abc'), lookup: true });
    const hash = identifyCaller(aRequest({ credential: { kind: 'present', value: hashKey('sk-abc'), header: 'authorization' } }), MASTER, aPolicy());
    expect(hash).to.include({ kind: 'virtual_key', lookup: false });
  });
});

describe('key hashing', () => {
  it("matches LiteLLM's hash_token (sha256 hex of the whole key)", () => {
    expect(hashKey('sk-1234')).to.equal('88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b');
  });

  it('compares secrets of any length without throwing', () => {
    expect(new PresentedKey('a').equals(new SecretDigest('a'))).to.equal(true);
    expect(new PresentedKey('a').equals(new SecretDigest('ab'))).to.equal(false);
    expect(new PresentedKey('').equals(new SecretDigest('x'))).to.equal(false);
  });

  it('abbreviates keys as sk-... plus the last four characters', () => {
    expect(abbreviateKey('sk-abcdefgh1234')).to.equal('sk-...1234');
  });
});
