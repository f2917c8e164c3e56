import { expect } from 'chai';
import { JwtAuthenticator } from '../../src/auth/jwt/authenticator';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { MAPPED_KEY_CHECKS } from '../../src/authorize/mapped-key';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import type { Policy } from '../../src/config/policy';
import type { RequestFacts } from '../../src/domain/request';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { isPromise } from '../../src/util/maybe-promise';
import { aKey, aPolicy, aRequest, aTeam, aUser, NOW } from '../checks/fixtures';
import { aVerifier, jwtSettings, MemoryDirectory } from '../auth/jwt/fixtures';
import { aSigningKey, aToken, type SigningKey } from '../support/jwt';
import { MapSharedCache } from '../support/map-shared-cache';
import { MemoryStore } from '../support/memory-store';

const MASTER = 'sk-master-0000';
const MAPPED_HASH = 'b'.repeat(60) + 'c0de';
const GONE_HASH = 'd'.repeat(64);
const POLICY = aCachePolicy({ maxStaleOnErrorMs: 60_000 });

/** A MemoryStore that also knows LiteLLM_JWTKeyMapping rows, by "name=value". */
class MappingStore extends MemoryStore {
  readonly mappings = new Map<string, string>();
  findJwtKeyMapping(claimName: string, claimValue: string): Promise<string | null> {
    this.calls.push(`findJwtKeyMapping:${claimName}:${claimValue}`);
    return Promise.resolve(this.mappings.get(`${claimName}=${claimValue}`) ?? null);
  }
}

describe('Authorizer: a JWT mapped to a virtual key (virtual_key_claim_field, litellm-auth.md §3.4)', () => {
  let signing: SigningKey;
  let store: MappingStore;

  before(async () => {
    signing = await aSigningKey('ES256', 'mapping');
  });

  beforeEach(() => {
    store = new MappingStore();
    store.teams.set('t-key', aTeam({ team_id: 't-key', models: [] }));
    store.teams.set('t-jwt', aTeam({ team_id: 't-jwt', models: [] }));
    store.users.set('alice', aUser({ user_id: 'alice', user_role: 'internal_user' }));
    store.keys.set(MAPPED_HASH, aKey({ token: MAPPED_HASH, key_alias: 'ci-bot', team_id: 't-key', user_id: 'alice', models: ['gpt-4o'] }));
    store.mappings.set(`email=bot@example.com`, MAPPED_HASH);
    store.mappings.set(`email=gone@example.com`, GONE_HASH);
  });

  function authorizer(
    mapping: Record<string, unknown> = { virtual_key_claim_field: 'email' },
    options: { policy?: Partial<Policy>; masterKey?: string | null; cached?: boolean } = {},
  ): Authorizer {
    const settings = jwtSettings({
      jwtauth: { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub', ...mapping },
      tollgate: { public_keys: [signing.jwk], envoy_metadata_namespace: 'jwt' },
      env: { publicKeyUrl: null },
    });
    const policy = aPolicy(options.policy ?? {});
    const authStore = options.cached === true ? new CachedAuthStore(store, POLICY, new MapSharedCache(), undefined, () => NOW.getTime()) : store;
    const jwt = new JwtAuthenticator({ settings, policy, store: authStore, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
    return new Authorizer({ store: authStore, policy, masterKey: options.masterKey === undefined ? MASTER : options.masterKey, jwt, now: () => NOW });
  }

  async function withToken(claims: Record<string, unknown>, request: Partial<RequestFacts> = {}): Promise<RequestFacts> {
    return aRequest({ credential: { kind: 'present', value: await aToken(signing, claims), header: 'authorization' }, ...request });
  }

  const denial = (outcome: Outcome) => {
    if (outcome.decision.kind !== 'deny') throw new Error(`expected a denial, got ${outcome.decision.kind}`);
    return { ...outcome.decision.denial, refusedBy: outcome.refusedBy };
  };

  it('runs the key pipeline without the sk- format test and the key lookup (the key is known)', () => {
    const names = MAPPED_KEY_CHECKS.map((check) => check.name);
    expect(names).to.not.include.members(['virtual_key_format', 'key_found']);
    expect(names).to.include.members(['master_key_only_route', 'key_blocked', 'key_model_access', 'key_expired', 'key_budget', 'team_blocked']);
  });

  it("allows a mapped token as its key: the key's hash, alias, team and user in the identity, the token's header stripped", async () => {
    const outcome = await authorizer().authorize(await withToken({ email: 'bot@example.com', tid: 't-jwt' }));
    expect(outcome.refusedBy).to.equal(null);
    expect(outcome.decision.identity).to.deep.include({ keyHash: MAPPED_HASH, keyAlias: 'ci-bot', teamId: 't-key', userId: 'alice', model: 'gpt-4o' });
    expect(outcome.decision.credentialHeader).to.equal('authorization');
  });

  it("applies the key's own checks: a blocked mapped key is refused as a blocked key is (401)", async () => {
    store.keys.set(MAPPED_HASH, aKey({ token: MAPPED_HASH, blocked: true }));
    expect(denial(await authorizer().authorize(await withToken({ email: 'bot@example.com' })))).to.deep.include({
      status: 401,
      message: "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
      refusedBy: 'key_blocked',
    });
  });

  it("applies the key's model list, not the token's team", async () => {
    const request = await withToken({ email: 'bot@example.com', tid: 't-jwt' }, { body: { model: 'claude-3' }, model: 'claude-3' });
    expect(denial(await authorizer().authorize(request))).to.deep.include({ status: 401, type: 'key_model_access_denied' });
  });

  it("abbreviates the key's hash in an expired key's error, as LiteLLM's api_key then holds it (never the token)", async () => {
    store.keys.set(MAPPED_HASH, aKey({ token: MAPPED_HASH, expires: new Date(NOW.getTime() - 1000) }));
    expect(denial(await authorizer().authorize(await withToken({ email: 'bot@example.com' })))).to.deep.include({
      status: 401,
      type: 'expired_key',
      param: 'sk-...c0de',
    });
  });

  it("refuses a mapping whose key row is gone with LiteLLM's resolver message (401 token_not_found_in_db)", async () => {
    expect(denial(await authorizer().authorize(await withToken({ email: 'gone@example.com' })))).to.deep.include({
      status: 401,
      type: 'token_not_found_in_db',
      message: `Authentication Error, Invalid proxy server token passed. key=${GONE_HASH}, not found in db. Create key via \`/key/generate\` call.`,
      param: 'key',
      refusedBy: 'jwt_mapped_key_found',
    });
  });

  it('decides a mapped token carrying the admin scope as its key: LiteLLM looks the mapping up before auth_builder', async () => {
    const outcome = await authorizer().authorize(await withToken({ email: 'bot@example.com', scope: 'litellm_proxy_admin' }));
    expect(outcome.decision.identity).to.deep.include({ keyHash: MAPPED_HASH });
    expect(outcome.decision.identity.userRole).to.not.equal('proxy_admin');
  });

  it('takes the team path for an unmapped token under fallback_team_mapping (the default)', async () => {
    const outcome = await authorizer().authorize(await withToken({ email: 'someone@example.com', tid: 't-jwt', sub: 'alice' }));
    expect(outcome.refusedBy).to.equal(null);
    expect(outcome.decision.identity).to.deep.include({ teamId: 't-jwt', userId: 'alice' });
    expect(outcome.decision.identity.keyHash).to.equal(undefined);
  });

  it('refuses an unmapped token under reject (403), before any team is looked at', async () => {
    const subject = authorizer({ virtual_key_claim_field: 'email', unregistered_jwt_client_behavior: 'reject' });
    expect(denial(await subject.authorize(await withToken({ email: 'someone@example.com', tid: 't-jwt' })))).to.deep.include({
      status: 403,
      type: 'auth_error',
      message: "JWT Key Mapping: No registered mapping for email='someone@example.com'. Access denied.",
      refusedBy: 'jwt_key_mapping',
    });
    expect(store.calls.filter((call) => call.startsWith('findTeam'))).to.deep.equal([]);
  });

  it('refuses a token without the claim under reject (403), even with the admin scope', async () => {
    const subject = authorizer({ virtual_key_claim_field: 'email', unregistered_jwt_client_behavior: 'reject' });
    expect(denial(await subject.authorize(await withToken({ sub: 'alice', scope: 'litellm_proxy_admin' })))).to.deep.include({
      status: 403,
      message: "JWT Key Mapping: Required claim 'email' is missing from the JWT. Access denied.",
    });
  });

  it('follows a mapping that names a key rotated out in its grace period to the key it was rotated to, then refuses it as gone', async () => {
    const oldHash = 'f'.repeat(64);
    store.mappings.set('email=rotated@example.com', oldHash);
    let revokeAt = new Date(NOW.getTime() + 3_600_000);
    Object.assign(store, {
      findDeprecatedKey: (hash: string) =>
        Promise.resolve(hash === oldHash ? { token: oldHash, active_token_id: MAPPED_HASH, revoke_at: revokeAt } : null),
    });
    const during = await authorizer().authorize(await withToken({ email: 'rotated@example.com' }));
    expect(during.decision.identity).to.deep.include({ keyHash: MAPPED_HASH, keyAlias: 'ci-bot' });
    revokeAt = new Date(NOW.getTime() - 1);
    expect(denial(await authorizer().authorize(await withToken({ email: 'rotated@example.com' })))).to.deep.include({
      status: 401,
      refusedBy: 'jwt_mapped_key_found',
    });
  });

  it('maps claims Envoy verified too', async () => {
    const request = aRequest({ filterMetadata: { jwt: { jwt_payload: { email: 'bot@example.com' } } } });
    expect((await authorizer().authorize(request)).decision.identity).to.deep.include({ keyHash: MAPPED_HASH });
  });

  it('reads a nested claim by its dot path (and the older name jwt_client_id_field)', async () => {
    store.mappings.set('client.id=ci', MAPPED_HASH);
    const outcome = await authorizer({ jwt_client_id_field: 'client.id' }).authorize(await withToken({ client: { id: 'ci' } }));
    expect(outcome.decision.identity).to.deep.include({ keyHash: MAPPED_HASH });
  });

  it('lets a mapped token through on a proxy without a master key, as LiteLLM does once the key is resolved', async () => {
    store.keys.set(MAPPED_HASH, aKey({ token: MAPPED_HASH, blocked: true }));
    expect((await authorizer(undefined, { masterKey: null }).authorize(await withToken({ email: 'bot@example.com' }))).decision.kind).to.equal('allow');
  });

  it('a failed mapping lookup is the store\'s failure (UNAVAILABLE, or allow_requests_on_db_unavailable), never "no mapping": the team path is not taken', async () => {
    Object.assign(store, { findJwtKeyMapping: () => Promise.reject(new StoreUnavailableError('database down')) });
    const failed = await Promise.resolve(authorizer().authorize(await withToken({ email: 'bot@example.com', tid: 't-jwt', sub: 'alice' }))).catch((error: unknown) => error);
    expect(failed).to.be.instanceOf(StoreUnavailableError);
    expect(store.calls.filter((call) => call.startsWith('findTeam')), 'no team looked at').to.deep.equal([]);
  });

  it('a warm mapped caller is decided at once, with no store call at all', async () => {
    const subject = authorizer(undefined, { cached: true });
    const request = await withToken({ email: 'bot@example.com' });
    expect((await subject.authorize(request)).refusedBy).to.equal(null);
    store.calls.length = 0;
    const warm = subject.decide(request);
    expect(isPromise(warm), 'decided without a promise').to.equal(false);
    expect((warm as Outcome).decision.identity).to.deep.include({ keyHash: MAPPED_HASH });
    expect(store.calls).to.deep.equal([]);
  });

  it('a warm unmapped caller under reject costs no store call either (no mapping is cached)', async () => {
    const subject = authorizer({ virtual_key_claim_field: 'email', unregistered_jwt_client_behavior: 'reject' }, { cached: true });
    const request = await withToken({ email: 'someone@example.com' });
    await subject.authorize(request);
    store.calls.length = 0;
    expect(denial(await subject.authorize(request)).status).to.equal(403);
    expect(store.calls).to.deep.equal([]);
  });
});
