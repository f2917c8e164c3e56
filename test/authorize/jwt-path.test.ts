import { expect } from 'chai';
import { JwtAuthenticator } from '../../src/auth/jwt/authenticator';
import { JwksUnavailableError } from '../../src/auth/jwt/errors';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { JWT_CHECKS } from '../../src/authorize/jwt-path';
import { COMMON_CHECKS, ROUTE_PERMISSION_CHECKS } from '../../src/checks/order';
import type { CheckContext, Snapshot } from '../../src/checks/types';
import { rateLimitDenial } from '../../src/ratelimit/rate-limit-denial';
import { rateLimitsOf } from '../../src/ratelimit/rate-limits';
import type { Admission, Admitter } from '../../src/spend/admission';
import type { Policy } from '../../src/config/policy';
import type { RequestFacts } from '../../src/domain/request';
import { aBudget, aDeployment, aMembership, anAgent, anEndUser, anObjectPermission, anOrg, aPolicy, aRequest, aTag, aTeam, aUser, NOW } from '../checks/fixtures';
import { aTokenOfText, aVerifier, jwtSettings, MemoryDirectory, type JwtConfigParts } from '../auth/jwt/fixtures';
import { aSigningKey, aToken, type SigningKey } from '../support/jwt';
import { MemoryStore } from '../support/memory-store';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { CachedJwtDirectory } from '../../src/auth/jwt/directory-cache';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { isPromise } from '../../src/util/maybe-promise';
import { windowSpendId } from '../../src/spend/window-limits';

const MASTER = 'sk-master-0000';
const JWTAUTH = { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub', org_id_jwt_field: 'org', end_user_id_jwt_field: 'customer' };

describe('Authorizer: JWT callers (identify → JWT pipeline → common checks)', () => {
  let key: SigningKey;
  let store: MemoryStore;

  before(async () => {
    key = await aSigningKey('ES256', 'unit');
  });

  beforeEach(() => {
    store = new MemoryStore();
    store.teams.set('t-gpt', aTeam({ team_id: 't-gpt', models: ['gpt-4o'] }));
    store.teams.set('t-over', aTeam({ team_id: 't-over', max_budget: 10, spend: 10.5 }));
    store.teams.set('t-tools', aTeam({ team_id: 't-tools', metadata: { allowed_tools: ['search'] } }));
    store.teams.set('t-org', aTeam({ team_id: 't-org', organization_id: 'o-full' }));
    store.organizations.set('o-full', anOrg({ organization_id: 'o-full', spend: 5, budget: aBudget({ max_budget: 5 }) }));
    store.users.set('alice', aUser({ user_id: 'alice', user_role: 'internal_user' }));
  });

  function authorizer(parts: JwtConfigParts = {}, policy: Partial<Policy> = {}): Authorizer {
    // Static keys only: no JWKS URL to wait on.
    const settings = jwtSettings({ jwtauth: JWTAUTH, tollgate: { public_keys: [key.jwk], envoy_metadata_namespace: 'jwt' }, env: { publicKeyUrl: null }, ...parts });
    const jwt = new JwtAuthenticator({
      settings,
      policy: aPolicy(policy),
      store,
      directory: new MemoryDirectory(store),
      verifier: aVerifier(settings),
    });
    return new Authorizer({ store, policy: aPolicy(policy), masterKey: MASTER, jwt, now: () => NOW });
  }

  async function withToken(claims: Record<string, unknown>, request: Partial<RequestFacts> = {}): Promise<RequestFacts> {
    return aRequest({ credential: { kind: 'present', value: await aToken(key, claims), header: 'authorization' }, ...request });
  }

  const denial = (outcome: Outcome) => {
    if (outcome.decision.kind !== 'deny') throw new Error('expected a denial');
    return { ...outcome.decision.denial, refusedBy: outcome.refusedBy };
  };

  it('JWT identities run the user and team per-model budgets, the common checks and the route-permission checks, in that order', () => {
    expect(JWT_CHECKS.map((c) => c.name)).to.deep.equal(['user_model_budget', 'team_model_budget', ...[...COMMON_CHECKS, ...ROUTE_PERMISSION_CHECKS].map((c) => c.name)]);
  });

  it("denies a JWT user over its per-model budget before the common checks (400 budget_exceeded, the token's user id)", async () => {
    store.users.set('alice', aUser({ user_id: 'alice', model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } }, model_spend: { 'gpt-4o': 1 } }));
    const outcome = await authorizer().authorize(await withToken({ tid: 't-over', sub: 'alice' }));
    expect(denial(outcome)).to.deep.include({
      status: 400,
      type: 'budget_exceeded',
      message: 'LiteLLM User: alice, exceeded budget for model=gpt-4o',
      refusedBy: 'user_model_budget',
    });
  });

  it('allows a team token on a model of its team, naming team, user and model (no key hash)', async () => {
    const outcome = await authorizer().authorize(await withToken({ tid: 't-gpt', sub: 'alice' }));
    expect(outcome.refusedBy).to.equal(null);
    expect(outcome.decision.identity).to.deep.equal({
      userId: 'alice',
      orgId: undefined,
      endUserId: undefined,
      teamId: 't-gpt',
      userRole: 'internal_user',
      model: 'gpt-4o',
    });
    expect(outcome.decision.credentialHeader).to.equal('authorization');
  });

  it("on a mapped pass-through decides by the token in Authorization, tested before litellm_user_api_key replaced it, and strips that header", async () => {
    const token = await withToken({ tid: 't-gpt', sub: 'alice' });
    const passThrough: RequestFacts = {
      ...token,
      route: '/anthropic/v1/messages',
      credential: { kind: 'present', value: 'sk-someone-else', header: 'litellm_user_api_key' },
      jwtCredential: token.credential,
    };
    const outcome = await authorizer().authorize(passThrough);
    expect(outcome.decision.identity).to.include({ userId: 'alice', teamId: 't-gpt' });
    expect(outcome.decision.credentialHeader).to.equal('authorization');
  });

  it('denies a team token another model: team_model_access_denied (401)', async () => {
    const outcome = await authorizer().authorize(await withToken({ tid: 't-gpt' }, { body: { model: 'claude-3' }, model: 'claude-3' }));
    expect(denial(outcome)).to.deep.include({ status: 401, type: 'team_model_access_denied', refusedBy: 'team_model_access' });
  });

  it('denies a team over budget (400 budget_exceeded, LiteLLM: spend > max)', async () => {
    expect(denial(await authorizer().authorize(await withToken({ tid: 't-over' })))).to.deep.include({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Team=t-over Current cost: 10.5, Max budget: 10.0',
    });
  });

  it("denies a JWT caller whose team is over one of its multi-window budgets (the team's window spend is loaded for tokens too)", async () => {
    const daily = { budget_duration: '1d', max_budget: 2, reset_at: null };
    store.teams.set('t-windows', aTeam({ team_id: 't-windows', budget_limits: [daily] }));
    store.windowSpends.set(windowSpendId('team', 't-windows', daily), 2.5);
    expect(denial(await authorizer().authorize(await withToken({ tid: 't-windows' })))).to.deep.include({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: Team=t-windows over 1d budget. Spend=$2.5000, Limit=$2.00',
      refusedBy: 'team_window_budgets',
    });
    store.windowSpends.set(windowSpendId('team', 't-windows', daily), 1);
    expect((await authorizer().authorize(await withToken({ tid: 't-windows' }))).decision.kind).to.equal('allow');
  });

  it("denies a JWT caller without a team whose user is over one of its multi-window budgets; with a team, the user's windows do not apply", async () => {
    const daily = { budget_duration: '1d', max_budget: 2, reset_at: null };
    store.users.set('win-user', aUser({ user_id: 'win-user', budget_limits: [daily] }));
    store.windowSpends.set(windowSpendId('user', 'win-user', daily), 2);
    const teamless = authorizer({ jwtauth: { user_id_jwt_field: 'sub' } });
    expect(denial(await teamless.authorize(await withToken({ sub: 'win-user' })))).to.deep.include({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: User=win-user over 1d budget. Spend=$2.0000, Limit=$2.00',
      refusedBy: 'user_window_budgets',
    });
    expect((await authorizer().authorize(await withToken({ sub: 'win-user', tid: 't-gpt' }))).decision.kind).to.equal('allow');
    const teamTokensToo = authorizer({}, { applyUserBudgetToTeamKeys: true });
    expect(denial(await teamTokensToo.authorize(await withToken({ sub: 'win-user', tid: 't-gpt' }))).refusedBy, 'apply_user_budget_to_team_keys').to.equal('user_window_budgets');
  });

  it("denies a JWT caller whose end user is over one of its multi-window budgets (the end user's window spend is loaded for tokens too)", async () => {
    const hourly = { budget_duration: '1h', max_budget: 1, reset_at: null };
    store.endUsers.set('win-customer', anEndUser({ user_id: 'win-customer', budget_limits: [hourly] }));
    store.windowSpends.set(windowSpendId('end_user', 'win-customer', hourly), 1.5);
    expect(denial(await authorizer().authorize(await withToken({ tid: 't-gpt', customer: 'win-customer' })))).to.deep.include({
      status: 400,
      type: 'budget_exceeded',
      refusedBy: 'end_user_window_budgets',
    });
    store.windowSpends.set(windowSpendId('end_user', 'win-customer', hourly), 0.5);
    expect((await authorizer().authorize(await withToken({ tid: 't-gpt', customer: 'win-customer' }))).decision.kind).to.equal('allow');
  });

  it("holds a JWT caller's team membership without a budget row to the team's default member budget (team_member_budget_id)", async () => {
    store.teams.set('t-members', aTeam({ team_id: 't-members', metadata: { team_member_budget_id: 'member-default' } }));
    store.users.set('member', aUser({ user_id: 'member' }));
    store.budgets.set('member-default', aBudget({ budget_id: 'member-default', max_budget: 2 }));
    store.memberships.set('member:t-members', aMembership({ user_id: 'member', team_id: 't-members', spend: 2, budget: null }));
    expect(denial(await authorizer().authorize(await withToken({ tid: 't-members', sub: 'member' })))).to.deep.include({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! User=member in Team=t-members Current cost: 2.0, Max budget: 2.0',
      refusedBy: 'team_member_budget',
    });
    store.memberships.set('member:t-members', aMembership({ user_id: 'member', team_id: 't-members', spend: 1, budget: null }));
    expect((await authorizer().authorize(await withToken({ tid: 't-members', sub: 'member' }))).decision.kind).to.equal('allow');
  });

  it('holds a JWT caller to the budget of a tag sent only in the x-litellm-tags header, as newer LiteLLM merges it in before its tag check', async () => {
    store.tags.set('tenant:acme', aTag({ tag_name: 'tenant:acme', spend: 12, budget: aBudget({ max_budget: 10 }) }));
    const request = await withToken({ tid: 't-gpt' }, { headers: { 'x-litellm-tags': 'tenant:acme' }, body: { model: 'gpt-4o' } });
    expect(denial(await authorizer().authorize(request))).to.deep.include({ status: 400, type: 'budget_exceeded' });
  });

  it('lays the shared spend counters over the JWT snapshot, as for virtual keys (tollgate.metering)', async () => {
    const settings = jwtSettings({ jwtauth: JWTAUTH, tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
    const jwt = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
    store.teams.set('t-live', aTeam({ team_id: 't-live', max_budget: 10, spend: 1 }));
    const spendOverlay = (snapshot: Snapshot) =>
      Promise.resolve({ ...snapshot, team: snapshot.team === null ? null : { ...snapshot.team, spend: 11 } });
    const authorizer = new Authorizer({ store, policy: aPolicy(), masterKey: MASTER, jwt, spendOverlay, now: () => NOW });
    expect(denial(await authorizer.authorize(await withToken({ tid: 't-live' })))).to.deep.include({ type: 'budget_exceeded', refusedBy: 'team_budget' });
  });

  it("denies through the team's organization budget", async () => {
    expect(denial(await authorizer().authorize(await withToken({ tid: 't-org' })))).to.deep.include({ refusedBy: 'organization_budget' });
  });

  it("applies the team's tool allowlist (403 tool_access_denied)", async () => {
    const body = { model: 'gpt-4o', tools: [{ type: 'function', function: { name: 'shell' } }] };
    expect(denial(await authorizer().authorize(await withToken({ tid: 't-tools' }, { body })))).to.deep.include({ status: 403, type: 'tool_access_denied' });
  });

  it("applies the team's vector-store permission, loaded only for a request that names vector stores", async () => {
    store.teams.set('t-vs', aTeam({ team_id: 't-vs', object_permission_id: 'perm-t' }));
    store.objectPermissions.set('perm-t', anObjectPermission({ object_permission_id: 'perm-t', vector_stores: ['vs-ok'] }));
    const naming = (id: string) => ({ model: 'gpt-4o', tools: [{ type: 'file_search', vector_store_ids: [id] }] });
    const refused = denial(await authorizer().authorize(await withToken({ tid: 't-vs', sub: 'alice' }, { body: naming('vs-secret') })));
    expect(refused).to.deep.include({ refusedBy: 'vector_store_access', status: 401, type: 'team_vector_store_access_denied' });
    const allowed = await authorizer().authorize(await withToken({ tid: 't-vs', sub: 'alice' }, { body: naming('vs-ok') }));
    expect(allowed.decision.kind).to.equal('allow');
    const lookups = store.calls.filter((call) => call.startsWith('findObjectPermissions')).length;
    await authorizer().authorize(await withToken({ tid: 't-vs', sub: 'alice' }, { body: { model: 'gpt-4o' } }));
    expect(store.calls.filter((call) => call.startsWith('findObjectPermissions')).length).to.equal(lookups);
  });

  it('a team token on a management route meets route RBAC (401: only proxy admin)', async () => {
    const outcome = await authorizer().authorize(await withToken({ tid: 't-gpt' }, { route: '/key/generate', path: '/key/generate', body: null, model: null }));
    expect(denial(outcome)).to.deep.include({ status: 401, refusedBy: 'route_rbac' });
  });

  it('allows an admin-scope token on an admin route without loading anything', async () => {
    const outcome = await authorizer().authorize(
      await withToken({ scope: 'litellm_proxy_admin', sub: 'root' }, { route: '/team/new', path: '/team/new', body: null, model: null }),
    );
    expect(outcome.decision).to.deep.include({ kind: 'allow' });
    expect(outcome.decision.identity).to.include({ userId: 'root', userRole: 'proxy_admin' });
    expect(store.calls).to.deep.equal([]);
  });

  describe('a warm caller, through the cache', () => {
    /** As `tollgate serve` builds it: the store and the JWT directory both cached. */
    function cachedAuthorizer(
      jwtauth: Record<string, unknown> = JWTAUTH,
      directory = new MemoryDirectory(store),
      maxEntries = 100,
    ): { cached: CachedAuthStore; subject: Authorizer } {
      const cachePolicy = { refreshAfterMs: 5_000, ttlMs: 60_000, negativeTtlMs: 5_000, maxStaleOnErrorMs: 600_000, maxEntries, sharedPrefix: 't:' };
      const cached = new CachedAuthStore(store, cachePolicy, NO_SHARED_CACHE);
      const settings = jwtSettings({ jwtauth, tollgate: { public_keys: [key.jwk], envoy_metadata_namespace: 'jwt' }, env: { publicKeyUrl: null } });
      const jwt = new JwtAuthenticator({
        settings,
        policy: aPolicy(),
        store: cached,
        directory: new CachedJwtDirectory(directory, 60_000),
        verifier: aVerifier(settings),
      });
      return { cached, subject: new Authorizer({ store: cached, policy: aPolicy(), masterKey: MASTER, jwt, now: () => NOW }) };
    }

    /** Decides `facts` cold, then again: the second time at once, without a promise, and the same. */
    async function coldThenWarm(subject: Authorizer, facts: RequestFacts): Promise<Outcome> {
      const coldOutcome = await subject.decide(facts);
      const warm = subject.decide(facts);
      expect(isPromise(warm), 'decided from memory').to.equal(false);
      expect(warm).to.deep.equal(coldOutcome);
      return coldOutcome;
    }

    beforeEach(() => {
      // A team in an organization, neither over budget: every warm Check below is allowed.
      store.teams.set('t-warm', aTeam({ team_id: 't-warm', organization_id: 'o-warm', models: ['gpt-4o'] }));
      store.organizations.set('o-warm', anOrg({ organization_id: 'o-warm' }));
    });

    it('is decided at once, without a promise, as the cold Check decided it', async () => {
      const { subject } = cachedAuthorizer();
      const facts = await withToken({ tid: 't-warm', sub: 'alice', customer: 'cust-1' });
      const cold = subject.decide(facts);
      expect(isPromise(cold)).to.equal(true);
      const coldOutcome = await cold;
      expect(coldOutcome.refusedBy).to.equal(null);
      expect(coldOutcome.decision.identity).to.include({ teamId: 't-warm', orgId: 'o-warm', userId: 'alice', endUserId: 'cust-1' });
      const warm = subject.decide(facts);
      expect(isPromise(warm), 'token, team, organization, user and end user all in memory').to.equal(false);
      expect(warm).to.deep.equal(coldOutcome);
    });

    it('chooses among group teams at once too, skipping the ones that may not call the model', async () => {
      const { subject } = cachedAuthorizer({ team_ids_jwt_field: 'groups', user_id_jwt_field: 'sub' });
      const facts = await withToken({ groups: ['t-missing', 't-gpt', 't-tools'], sub: 'alice' }, { body: { model: 'claude-3' }, model: 'claude-3' });
      expect((await coldThenWarm(subject, facts)).decision.identity.teamId).to.equal('t-tools');
    });

    it('is decided at once when the token names its team and organization by alias and its user by SSO id', async () => {
      const directory = new MemoryDirectory(store);
      directory.teamAliases.set('platform', ['t-warm']);
      directory.orgAliases.set('acme', ['o-warm']);
      directory.usersBySso.set('sso-alice', aUser({ user_id: 'alice', user_role: 'internal_user' }));
      const { subject } = cachedAuthorizer({ user_id_jwt_field: 'sub', team_alias_jwt_field: 'team_alias', org_alias_jwt_field: 'org_alias' }, directory);
      const facts = await withToken({ sub: 'sso-alice', team_alias: 'platform', org_alias: 'acme' });
      // Warm: the aliases and the SSO match remembered, the entities cached.
      const outcome = await coldThenWarm(subject, facts);
      expect(outcome.refusedBy).to.equal(null);
      expect(outcome.decision.identity).to.include({ teamId: 't-warm', orgId: 'o-warm', userId: 'sso-alice', userRole: 'internal_user' });
    });

    it('goes through thousands of group teams in memory without growing the stack', async () => {
      const groups = Array.from({ length: 20_000 }, (_, i) => `g-${i}`);
      for (const teamId of groups) store.teams.set(teamId, aTeam({ team_id: teamId, models: ['gpt-4o'] }));
      store.teams.set('g-19999', aTeam({ team_id: 'g-19999', models: ['claude-3'] }));
      const { subject } = cachedAuthorizer({ team_ids_jwt_field: 'groups' }, new MemoryDirectory(store), 30_000);
      // Claims Envoy verified: no token-size limit stands in the way of a long group list.
      const facts = aRequest({ credential: { kind: 'none' }, filterMetadata: { jwt: { jwt_payload: { groups } } }, body: { model: 'claude-3' }, model: 'claude-3' });
      const coldOutcome = await subject.decide(facts);
      expect(coldOutcome.decision.identity.teamId).to.equal('g-19999');
      const warm = subject.decide(facts);
      expect(isPromise(warm)).to.equal(false);
      expect((warm as Outcome).decision.identity.teamId).to.equal('g-19999');
    });

    it('sees a change at once when the entry is invalidated (the next Check reads the store again)', async () => {
      const { cached, subject } = cachedAuthorizer();
      const facts = await withToken({ tid: 't-gpt', sub: 'alice' });
      expect((await subject.decide(facts)).refusedBy).to.equal(null);
      expect(isPromise(subject.decide(facts))).to.equal(false);
      store.teams.set('t-gpt', aTeam({ team_id: 't-gpt', models: ['gpt-4o'], blocked: true }));
      await cached.invalidate('team', 't-gpt');
      const afterBlock = subject.decide(facts);
      expect(isPromise(afterBlock), 'the team is read from the store again').to.equal(true);
      expect((await afterBlock).refusedBy).to.equal('team_blocked');
      const warmBlocked = subject.decide(facts);
      expect(isPromise(warmBlocked)).to.equal(false);
      expect((warmBlocked as Outcome).refusedBy).to.equal('team_blocked');
    });
  });

  it('chooses among group teams by the policy the Authorizer decides by now (models read from the database since start)', async () => {
    store.teams.set('t-beta', aTeam({ team_id: 't-beta', models: ['beta'] }));
    const settings = jwtSettings({ jwtauth: { team_ids_jwt_field: 'groups', user_id_jwt_field: 'sub' }, tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
    const jwt = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
    const subject = new Authorizer({ store, policy: aPolicy(), masterKey: MASTER, jwt, now: () => NOW });
    const facts = await withToken({ groups: ['t-beta'], sub: 'alice' }, { body: { model: 'beta-model' }, model: 'beta-model' });
    expect((await subject.authorize(facts)).refusedBy, 'no deployment puts beta-model in the group yet').to.equal('jwt_team');
    subject.usePolicy(aPolicy({ modelList: [aDeployment({ modelName: 'beta-model', underlyingModel: null, accessGroups: ['beta'] })] }));
    const outcome = await subject.authorize(facts);
    expect(outcome.refusedBy).to.equal(null);
    expect(outcome.decision.identity.teamId).to.equal('t-beta');
  });

  it("compares /user/info's user_id with the token's user id, not with the row matched by SSO id", async () => {
    const settings = jwtSettings({ jwtauth: JWTAUTH, tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
    const directory = new MemoryDirectory(store);
    directory.usersBySso.set('sso-ana', aUser({ user_id: 'row-ana', user_role: 'internal_user' }));
    store.users.set('row-ana', aUser({ user_id: 'row-ana', user_role: 'internal_user' }));
    const jwt = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory, verifier: aVerifier(settings) });
    const subject = new Authorizer({ store, policy: aPolicy(), masterKey: MASTER, jwt, now: () => NOW });
    const onUserInfo = async (userId: string) =>
      subject.authorize(await withToken({ sub: 'sso-ana', tid: 't-gpt' }, { route: '/user/info', path: `/user/info?user_id=${userId}`, method: 'GET', model: null, body: null }));
    expect((await onUserInfo('sso-ana')).refusedBy, "the token's own id").to.equal(null);
    expect(denial(await onUserInfo('row-ana'))).to.deep.include({
      status: 403,
      message: "key not allowed to access this user's info. user_id=row-ana, key's user_id=sso-ana",
    });
  });

  it('still runs the pre-DB checks first (general_settings.allowed_ips)', async () => {
    const outcome = await authorizer({}, { allowedIps: ['10.9.9.9'] }).authorize(await withToken({ tid: 't-gpt' }));
    expect(denial(outcome)).to.deep.include({ status: 403, refusedBy: 'allowed_ips' });
  });

  it('accepts claims Envoy verified (metadata_context) with no credential and no signature check', async () => {
    const facts = aRequest({ credential: { kind: 'none' }, filterMetadata: { jwt: { jwt_payload: { tid: 't-gpt', sub: 'alice' } } } });
    const outcome = await authorizer().authorize(facts);
    expect(outcome.refusedBy).to.equal(null);
    expect(outcome.decision.identity).to.include({ teamId: 't-gpt', userId: 'alice' });
    expect(outcome.decision.credentialHeader).to.equal(null);
  });

  describe('team claims that are not plain strings, as LiteLLM decides them', () => {
    const teamMissing = (shown: string) => `{'error': "Team doesn't exist in db. Team=${shown}. Create team via \`/team/new\` call."}`;

    it("a team claim written 1.0 is LiteLLM's 404 naming Team=1.0, never the team of the claim 1 (JSON.parse reads 1.0 as 1)", async () => {
      store.teams.set('1', aTeam({ team_id: '1', models: ['gpt-4o'] }));
      const facts = aRequest({ credential: { kind: 'present', value: await aTokenOfText(key, '{"tid":1.0,"sub":"alice"}'), header: 'authorization' } });
      expect(denial(await authorizer().authorize(facts))).to.deep.include({ status: 404, type: 'auth_error', message: teamMissing('1.0'), refusedBy: 'jwt_team' });
      // Written 1, it is the id "1" (Python's str() of the int).
      const asInt = aRequest({ credential: { kind: 'present', value: await aTokenOfText(key, '{"tid":1,"sub":"alice"}'), header: 'authorization' } });
      expect((await authorizer().authorize(asInt)).decision.identity).to.include({ teamId: '1' });
    });

    it('a team claim that is a float, true or an object is the same 404, named as Python prints it, and is never upserted', async () => {
      const upserting: JwtConfigParts = { jwtauth: { ...JWTAUTH, team_id_upsert: true } };
      const floatToken = aRequest({ credential: { kind: 'present', value: await aTokenOfText(key, '{"tid":7.0,"sub":"alice"}'), header: 'authorization' } });
      expect(denial(await authorizer(upserting).authorize(floatToken))).to.deep.include({ status: 404, message: teamMissing('7.0') });
      expect(denial(await authorizer(upserting).authorize(await withToken({ tid: true, sub: 'alice' })))).to.deep.include({ status: 404, message: teamMissing('True') });
      expect(denial(await authorizer(upserting).authorize(await withToken({ tid: { id: 't-gpt' }, sub: 'alice' })))).to.deep.include({
        status: 404,
        message: teamMissing("{'id': 't-gpt'}"),
      });
      expect([...store.teams.keys()].filter((id) => id === '7.0' || id === 'True' || id.startsWith('{'))).to.deep.equal([]);
    });

    it('a team claim of "" or false makes a team token: its object_id_jwt_field names the team, as LiteLLM\'s get_rbac_role tests is not None', async () => {
      const parts: JwtConfigParts = { jwtauth: { ...JWTAUTH, object_id_jwt_field: 'oid', role_mappings: [] } };
      for (const tid of ['', false]) {
        const outcome = await authorizer(parts).authorize(await withToken({ tid, sub: 'alice', oid: 't-gpt' }));
        expect(outcome.decision.identity, JSON.stringify(tid)).to.include({ teamId: 't-gpt' });
      }
    });

    it('a team claim written 1e20 is the same 404 naming Team=1e+20, not the 401 of an integer too large to read exactly', async () => {
      const facts = aRequest({ credential: { kind: 'present', value: await aTokenOfText(key, '{"tid":1e20,"sub":"alice"}'), header: 'authorization' } });
      expect(denial(await authorizer().authorize(facts))).to.deep.include({ status: 404, message: teamMissing('1e+20') });
    });

    it("a team claim that is false or {} names no team: the configured field's 401", async () => {
      for (const tid of [false, {}]) {
        expect(denial(await authorizer().authorize(await withToken({ tid, sub: 'alice' }))), JSON.stringify(tid)).to.deep.include({
          status: 401,
          message: "Authentication Error, No team id found in token. Checked team_id field 'tid'",
        });
      }
    });
  });

  it('an invalid token is a denial, not an error (401 auth_error, refusedBy jwt_verify)', async () => {
    const stranger = await aSigningKey('ES256', 'stranger');
    const facts = aRequest({ credential: { kind: 'present', value: await aToken(stranger, { tid: 't-gpt' }), header: 'authorization' } });
    expect(denial(await authorizer().authorize(facts))).to.deep.include({ status: 401, type: 'auth_error', refusedBy: 'jwt_verify' });
  });

  it('a key source outage propagates as an error (→ UNAVAILABLE), never a denial', async () => {
    const settings = jwtSettings({ jwtauth: JWTAUTH, env: { publicKeyUrl: 'http://127.0.0.1:9/down' }, tollgate: { jwks_fetch_timeout_ms: 300 } });
    const jwt = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
    const error = await new Authorizer({ store, policy: aPolicy(), masterKey: MASTER, jwt, now: () => NOW })
      .authorize(await withToken({ tid: 't-gpt' }))
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(JwksUnavailableError);
  });

  describe('admission (rate limits, reservations) after the checks allow', () => {
    function admitting(verdict: Admission): { authorizer: Authorizer; seen: CheckContext[] } {
      const seen: CheckContext[] = [];
      const admission: Admitter = {
        admit: (ctx) => {
          seen.push(ctx);
          return Promise.resolve(verdict);
        },
      };
      const settings = jwtSettings({ jwtauth: JWTAUTH, tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
      const jwt = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
      return { authorizer: new Authorizer({ store, policy: aPolicy(), masterKey: MASTER, jwt, admission, now: () => NOW }), seen };
    }

    it("refuses with the admission's 429 when the caller's team is past its rpm limit (LiteLLM's limiter sees JWT teams too)", async () => {
      const limited = aTeam({ team_id: 't-gpt', models: ['gpt-4o'], rpm_limit: 1 });
      store.teams.set('t-gpt', limited);
      const denial429 = rateLimitDenial('team', [{ target: { kind: 'team', id: 't-gpt' }, type: 'team', metric: 'rpm', limit: 1 }], new Map(), 30);
      const { authorizer, seen } = admitting({ kind: 'deny', check: 'rate_limit', denial: denial429 });
      const outcome = await authorizer.authorize(await withToken({ tid: 't-gpt', sub: 'alice' }));
      expect(denial(outcome)).to.deep.include({ status: 429, refusedBy: 'rate_limit', headers: [['retry-after', '30']] });
      expect(seen).to.have.length(1);
      expect(seen[0].keyHash).to.equal(null);
      expect(seen[0].snapshot.team?.rpm_limit).to.equal(1);
    });

    it("allows with the admission's dynamic metadata (request tags, rate_limit)", async () => {
      const { authorizer } = admitting({ kind: 'admit', metadata: { rate_limit: '100/MINUTE' } });
      const outcome = await authorizer.authorize(await withToken({ tid: 't-gpt', sub: 'alice' }));
      expect(outcome.decision).to.deep.include({ kind: 'allow', metadata: { rate_limit: '100/MINUTE' } });
    });

    it('gives the admission the agent the request names (v3 limits it for a JWT caller, which has no key), loaded only once the token verified', async () => {
      store.agents.set('agent-j', anAgent({ agent_id: 'agent-j', rpm_limit: 3 }));
      const { authorizer, seen } = admitting({ kind: 'admit', metadata: {} });
      const named = await withToken({ tid: 't-gpt', sub: 'alice' }, { headers: { 'x-litellm-agent-id': 'agent-j' } });
      expect((await authorizer.authorize(named)).decision.kind).to.equal('allow');
      expect(seen[0].snapshot.agent?.agent_id).to.equal('agent-j');
      expect(rateLimitsOf(seen[0].snapshot, 'gpt-4o', seen[0].request).map((l) => `${l.type}:${l.limit}`)).to.deep.equal(['agent:3']);
      store.calls.length = 0;
      const forged = aRequest({ credential: { kind: 'present', value: 'a.b.c', header: 'authorization' }, headers: { 'x-litellm-agent-id': 'agent-j' } });
      expect((await authorizer.authorize(forged)).refusedBy).to.equal('jwt_verify');
      expect(store.calls.filter((c) => c.startsWith('findAgent'))).to.deep.equal([]);
    });

    it('never admits (reserves or counts) a caller the checks refused', async () => {
      const { authorizer, seen } = admitting({ kind: 'admit', metadata: {} });
      expect(denial(await authorizer.authorize(await withToken({ tid: 't-over' })))).to.deep.include({ refusedBy: 'team_budget' });
      expect(seen).to.deep.equal([]);
    });
  });

  it('without enable_jwt_auth a three-part credential is just a (non sk-) key', async () => {
    const plain = new Authorizer({ store, policy: aPolicy(), masterKey: MASTER, now: () => NOW });
    expect((await plain.authorize(await withToken({ tid: 't-gpt' }))).refusedBy).to.equal('virtual_key_format');
  });
});
