import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import { buildPolicy, type Policy } from '../../src/config/policy';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { UNREAD_MODEL, type RequestFacts } from '../../src/domain/request';
import { aBudget, aDeployment, aKey, anEndUser, anOrg, aPolicy, aRequest, aTeam, aUser, NOW } from '../checks/fixtures';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { MemoryStore } from '../support/memory-store';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { isPromise } from '../../src/util/maybe-promise';
import { passThroughEndpointsOf } from '../../src/config/pass-through-endpoints';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { aCheckRequest, edgeSettings } from '../envoy/fixtures';
import { attributionFromDecision } from '../../src/metering/admitted-identity';
import { PriceTable } from '../../src/metering/prices';

const MASTER = 'sk-master-0000';
const RAW = 'sk-team-key-1234';
const HASH = hashKey(RAW);

function withKey(value: string, overrides: Partial<RequestFacts> = {}): RequestFacts {
  return aRequest({ credential: { kind: 'present', value, header: 'authorization' }, ...overrides });
}

function authorizer(store: MemoryStore, policy: Partial<Policy> = {}, masterKey: string | null = MASTER): Authorizer {
  return new Authorizer({ store, policy: aPolicy(policy), masterKey, now: () => NOW });
}

/** A team key of a user in an organization, decided through the entity caches as `tollgate serve` does. */
function aCachedTeamKey(): { store: MemoryStore; cached: CachedAuthStore; subject: Authorizer } {
  const store = new MemoryStore();
  store.keys.set(HASH, aKey({ token: HASH, team_id: 't1', user_id: 'u1' }));
  store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1' }));
  store.organizations.set('o1', anOrg({ organization_id: 'o1' }));
  store.users.set('u1', aUser({ user_id: 'u1' }));
  const policy = { refreshAfterMs: 5_000, ttlMs: 60_000, negativeTtlMs: 5_000, maxStaleOnErrorMs: 600_000, maxEntries: 100, sharedPrefix: 't:' };
  const cached = new CachedAuthStore(store, policy, NO_SHARED_CACHE);
  const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: MASTER, now: () => NOW });
  return { store, cached, subject };
}

describe('Authorizer: request → caller → snapshot → checks → decision', () => {
  it('allows a team key and names the caller: key, alias, team, org from the team, role from the user row', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, team_id: 't1', user_id: 'u1', key_alias: 'laptop' }));
    store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1' }));
    store.organizations.set('o1', anOrg({ organization_id: 'o1' }));
    store.users.set('u1', aUser({ user_id: 'u1', user_role: 'internal_user_viewer' }));
    const { decision, refusedBy } = await authorizer(store).authorize(withKey(RAW, { endUserId: 'cust-9' }));
    expect(refusedBy).to.equal(null);
    expect(decision.kind).to.equal('allow');
    expect(decision.identity).to.deep.equal({
      keyHash: HASH,
      keyAlias: 'laptop',
      userId: 'u1',
      teamId: 't1',
      orgId: 'o1',
      projectId: undefined,
      endUserId: 'cust-9',
      userRole: 'internal_user_viewer',
      model: 'gpt-4o',
    });
    expect(decision.credentialHeader).to.equal('authorization');
  });

  it('decides a warm key synchronously through the cache, and a cold one through a promise, alike', async () => {
    const { subject } = aCachedTeamKey();
    const cold = subject.decide(withKey(RAW));
    expect(isPromise(cold)).to.equal(true);
    const coldOutcome = await cold;
    const warm = subject.decide(withKey(RAW));
    expect(isPromise(warm)).to.equal(false);
    expect(warm).to.deep.equal(coldOutcome);
    expect(coldOutcome.decision.kind).to.equal('allow');
  });

  it('refuses a warm key at once when its team is blocked, or its organization over budget, and the entry invalidated', async () => {
    const { store, cached, subject } = aCachedTeamKey();
    for (let i = 0; i < 3; i += 1) expect((await subject.decide(withKey(RAW))).decision.kind).to.equal('allow');

    store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1', blocked: true }));
    await cached.invalidate('team', 't1');
    const blocked = await subject.decide(withKey(RAW));
    expect(blocked.refusedBy).to.equal('team_blocked');

    store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o1' }));
    await cached.invalidate('team', 't1');
    expect((await subject.decide(withKey(RAW))).decision.kind).to.equal('allow');
    store.organizations.set('o1', anOrg({ organization_id: 'o1', spend: 10, budget: aBudget({ max_budget: 5 }) }));
    await cached.invalidate('organization', 'o1');
    expect((await subject.decide(withKey(RAW))).refusedBy).to.equal('organization_budget');
  });

  it('reports an unknown key as token_not_found_in_db, naming the check', async () => {
    const { decision, refusedBy } = await authorizer(new MemoryStore()).authorize(withKey('sk-unknown-9999'));
    expect(refusedBy).to.equal('key_found');
    if (decision.kind !== 'deny') throw new Error('expected a denial');
    expect(decision.denial).to.include({ status: 401, type: 'token_not_found_in_db', param: 'key' });
  });

  it('refuses a non-sk- credential without touching the store', async () => {
    const store = new MemoryStore();
    const { refusedBy } = await authorizer(store).authorize(withKey(HASH));
    expect(refusedBy).to.equal('virtual_key_format');
    expect(store.calls).to.deep.equal([]);
  });

  it('allows the master key everything, as the proxy admin, without loading anything', async () => {
    const store = new MemoryStore();
    const { decision } = await authorizer(store, { proxyAdminName: 'admin' }).authorize(
      withKey(MASTER, { model: 'anything', route: '/key/generate' }),
    );
    expect(decision.kind).to.equal('allow');
    expect(decision.identity).to.include({ userId: 'admin', userRole: 'proxy_admin' });
    expect(store.calls).to.deep.equal([]);
  });

  it("refuses the master key for an end user over budget (§2.5: LiteLLM checks it before the master-key match), and nothing else", async () => {
    const store = new MemoryStore();
    store.endUsers.set('cust-over', anEndUser({ user_id: 'cust-over', spend: 11, budget: aBudget({ max_budget: 10 }) }));
    store.endUsers.set('cust-under', anEndUser({ user_id: 'cust-under', spend: 1, budget: aBudget({ max_budget: 10 }) }));
    const over = await authorizer(store).authorize(withKey(MASTER, { endUserId: 'cust-over' }));
    expect(over.refusedBy).to.equal('end_user_budget_before_key_lookup');
    expect(over.decision).to.deep.include({ kind: 'deny' });
    expect((await authorizer(store).authorize(withKey(MASTER, { endUserId: 'cust-under' }))).decision.kind).to.equal('allow');
    const info = await authorizer(store).authorize(withKey(MASTER, { endUserId: 'cust-over', route: '/key/info', method: 'GET', model: null, body: null }));
    expect(info.decision.kind, 'not on info routes').to.equal('allow');
  });

  it('allows the master key when the end user cannot be looked up (LiteLLM passes over that failure)', async () => {
    const store = new MemoryStore();
    const unavailable = Object.assign(Object.create(store) as MemoryStore, {
      findEndUser: () => Promise.reject(new StoreUnavailableError('database down')),
    });
    const { decision } = await authorizer(unavailable).authorize(withKey(MASTER, { endUserId: 'cust-x' }));
    expect(decision.kind).to.equal('allow');
  });

  it('applies the proxy-wide pre-DB checks to the master key too (§2.2: allowed_ips)', async () => {
    const { decision, refusedBy } = await authorizer(new MemoryStore(), { allowedIps: ['10.9.9.9'] }).authorize(
      withKey(MASTER, { sourceAddress: '10.0.0.1' }),
    );
    expect(refusedBy).to.equal('allowed_ips');
    expect(decision.kind).to.equal('deny');
  });

  it('allows every request when no master key is configured (LiteLLM behaviour)', async () => {
    const { decision } = await authorizer(new MemoryStore(), {}, null).authorize(aRequest({ credential: { kind: 'none' } }));
    expect(decision.kind).to.equal('allow');
  });

  it('denies a request without a credential, with the denial attributed to identification', async () => {
    const { decision, refusedBy } = await authorizer(new MemoryStore()).authorize(aRequest({ credential: { kind: 'none' } }));
    expect(refusedBy).to.equal('identify');
    expect(decision.credentialHeader).to.equal(null);
  });

  it('lets a store failure propagate so the transport can answer "cannot decide"', async () => {
    const store = new MemoryStore();
    store.findKey = () => Promise.reject(new Error('db down'));
    let failed = false;
    await authorizer(store)
      .authorize(withKey(RAW))
      .catch(() => (failed = true));
    expect(failed).to.equal(true);
  });

  it('tells the telemetry seam about every phase and every evaluated check', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH }));
    const phases: string[] = [];
    const checks: string[] = [];
    await authorizer(store).authorize(withKey(RAW), {
      phase: (name, work) => {
        phases.push(name);
        return work();
      },
      observesPhases: true,
      checkEvaluated: (name) => checks.push(name),
      decided: () => undefined,
      undecided: () => undefined,
    });
    expect(phases).to.deep.equal(['checks', 'identify', 'load', 'checks']);
    expect(checks).to.include.members(['allowed_ips', 'key_found', 'key_blocked', 'team_budget']);
  });

  it('runs the phases directly for telemetry that does not observe them, with the same decision and checks', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH }));
    const checks: string[] = [];
    const outcome = await authorizer(store).authorize(withKey(RAW), {
      phase: () => {
        throw new Error('phase() called although phases are not observed');
      },
      observesPhases: false,
      checkEvaluated: (name) => checks.push(name),
      decided: () => undefined,
      undecided: () => undefined,
    });
    expect(outcome.decision.kind).to.equal('allow');
    expect(checks).to.include.members(['allowed_ips', 'key_found', 'key_blocked', 'team_budget']);
  });
});

describe("Authorizer: a Realtime WebSocket handshake (LiteLLM's user_api_key_auth_websocket)", () => {
  const handshake = (overrides: Partial<RequestFacts>) =>
    aRequest({ method: 'GET', route: '/v1/realtime', path: '/v1/realtime?model=gpt-4o-realtime', body: { model: 'gpt-4o-realtime' }, model: 'gpt-4o-realtime', webSocket: true, ...overrides });

  it("checks the model the query names and refuses with 403, LiteLLM's status for any refusal there", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-mini'] }));
    const refused = await authorizer(store).authorize(handshake({ credential: { kind: 'present', value: RAW, header: 'authorization' } }));
    expect(refused.refusedBy).to.equal('key_model_access');
    expect(refused.decision.kind === 'deny' && refused.decision.denial).to.include({ status: 403, type: 'key_model_access_denied' });
    const sameOverHttp = await authorizer(store).authorize(handshake({ credential: { kind: 'present', value: RAW, header: 'authorization' }, webSocket: undefined }));
    expect(sameOverHttp.decision.kind === 'deny' && sameOverHttp.decision.denial.status, 'a plain request keeps its status').to.equal(401);
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-realtime'] }));
    expect((await authorizer(store).authorize(handshake({ credential: { kind: 'present', value: RAW, header: 'authorization' } }))).decision.kind).to.equal('allow');
  });

  it('refuses a handshake without a usable key first, open proxy included', async () => {
    const noKey = handshake({ credential: { kind: 'refused', message: 'No API key provided', header: null } });
    for (const masterKey of [MASTER, null]) {
      const { decision, refusedBy } = await authorizer(new MemoryStore(), {}, masterKey).authorize(noKey);
      expect(refusedBy).to.equal('identify');
      expect(decision.kind === 'deny' && decision.denial).to.deep.include({ status: 403, type: 'auth_error', message: 'No API key provided' });
    }
  });
});

describe('Authorizer: general_settings.pass_through_endpoints', () => {
  const endpoints = passThroughEndpointsOf([{ path: '/open-svc', target: 'https://svc.example', auth: false }, { path: '/svc', target: 'https://svc.example', auth: true }]);

  it('lets a request to an endpoint with auth: false through with no key and no identity, as LiteLLM answers UserAPIKeyAuth()', async () => {
    const { decision, refusedBy } = await authorizer(new MemoryStore(), { passThroughEndpoints: endpoints }).authorize(
      aRequest({ route: '/open-svc', path: '/open-svc', model: null, body: {}, credential: { kind: 'none' } }),
    );
    expect(refusedBy).to.equal(null);
    expect(decision).to.deep.include({ kind: 'allow', identity: { model: undefined } });
  });

  it('still runs the pre-DB checks on an endpoint with auth: false, as LiteLLM does before it answers UserAPIKeyAuth()', async () => {
    const subject = authorizer(new MemoryStore(), { passThroughEndpoints: endpoints, allowedIps: ['10.9.9.9'] });
    const { refusedBy } = await subject.authorize(aRequest({ route: '/open-svc', path: '/open-svc', model: null, body: {}, credential: { kind: 'none' } }));
    expect(refusedBy).to.equal('allowed_ips');
  });

  it("treats an endpoint with auth: true as an LLM API route, as LiteLLM appends it to openai_routes", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, user_id: 'u1', max_budget: 1, spend: 5 }));
    store.users.set('u1', aUser({ user_id: 'u1', user_role: 'internal_user' }));
    const onSvc = (policy: Partial<Policy>) => authorizer(store, policy).authorize(withKey(RAW, { route: '/svc', path: '/svc', model: null, body: {} }));
    expect((await onSvc({})).refusedBy, 'unregistered: a non-LLM route, admins only').to.equal('route_rbac');
    expect((await onSvc({ passThroughEndpoints: endpoints })).refusedBy, 'registered: an LLM route, so the key budget applies').to.equal('key_budget');
    store.keys.set(HASH, aKey({ token: HASH, user_id: 'u1', allowed_routes: ['llm_api_routes'] }));
    expect((await onSvc({ passThroughEndpoints: endpoints })).decision.kind, 'and llm_api_routes admits it').to.equal('allow');
  });

  it('asks for a key on an endpoint with auth: true, and on a sub-path of one without', async () => {
    const subject = authorizer(new MemoryStore(), { passThroughEndpoints: endpoints });
    for (const route of ['/svc', '/open-svc/more']) {
      const { decision } = await subject.authorize(aRequest({ route, path: route, model: null, body: {}, credential: { kind: 'none' } }));
      expect(decision.kind === 'deny' && decision.denial.message, route).to.equal('Authentication Error, No api key passed in.');
    }
  });

  it('asks for a key on an endpoint that sets no auth, and checks it as on auth: true (newer LiteLLM defaults auth to true)', async () => {
    const unset = passThroughEndpointsOf([{ path: '/svc', target: 'https://svc.example', include_subpath: true }]);
    const store = new MemoryStore();
    const subject = authorizer(store, { passThroughEndpoints: unset });
    for (const route of ['/svc', '/svc/v1/x']) {
      const { decision } = await subject.authorize(aRequest({ route, path: route, model: null, body: {}, credential: { kind: 'none' } }));
      expect(decision.kind === 'deny' && decision.denial.message, route).to.equal('Authentication Error, No api key passed in.');
    }
    store.keys.set(HASH, aKey({ token: HASH, user_id: 'u1', max_budget: 1, spend: 5 }));
    store.users.set('u1', aUser({ user_id: 'u1', user_role: 'internal_user' }));
    for (const route of ['/svc', '/svc/v1/x']) {
      const { refusedBy } = await subject.authorize(withKey(RAW, { route, path: route, model: null, body: {} }));
      expect(refusedBy, `${route}: an LLM API route, so the key budget applies`).to.equal('key_budget');
    }
  });
});

describe('Authorizer: /user/auth', () => {
  it('is refused 403 by default, and allowed with no identity and no check under general_settings.allow_user_auth', async () => {
    const store = new MemoryStore();
    const request = withKey('sk-unknown-key', { route: '/user/auth', path: '/user/auth', model: null, body: null });
    const refused = await authorizer(store).authorize(request);
    expect(refused.decision.kind === 'deny' && refused.decision.denial.status).to.equal(403);
    const policy = buildPolicy(parseLiteLlmConfig('general_settings:\n  allow_user_auth: true\n', {}));
    const allowed = await authorizer(store, policy).authorize(request);
    expect(allowed.decision.kind).to.equal('allow');
    expect(allowed.decision.identity).to.deep.equal({ model: undefined });
    expect(store.calls, 'the key is never looked up').to.deep.equal([]);
  });
});

describe('Authorizer: a key as LiteLLM reads it through its view', () => {
  it("refuses a key over the max_budget of its linked budget row (the key's own left empty)", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, budget_id: 'kb', max_budget: null, spend: 6 }));
    store.budgets.set('kb', aBudget({ budget_id: 'kb', max_budget: 5 }));
    const { decision, refusedBy } = await authorizer(store).authorize(withKey(RAW));
    expect(refusedBy).to.equal('key_budget');
    expect(decision).to.deep.include({ kind: 'deny' });
    expect(decision.kind === 'deny' && decision.denial).to.deep.include({ status: 400, type: 'budget_exceeded', message: 'Budget has been exceeded! Current cost: 6.0, Max budget: 5.0' });
  });

  it("refuses by the budget row's per-model budget when the key has none of its own", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, budget_id: 'kb', model_max_budget: {}, model_spend: { 'gpt-4o': 2 } }));
    store.budgets.set('kb', aBudget({ budget_id: 'kb', model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } } }));
    expect((await authorizer(store).authorize(withKey(RAW))).refusedBy).to.equal('key_model_budget');
  });

  it("refuses a key whose owner is over the owner's per-model budget (400 budget_exceeded, user_model_budget)", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, user_id: 'u-owner' }));
    store.users.set('u-owner', aUser({ user_id: 'u-owner', model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1mo' } }, model_spend: { 'gpt-4o': 1.5 } }));
    const { refusedBy, decision } = await authorizer(store).authorize(withKey(RAW));
    expect(refusedBy).to.equal('user_model_budget');
    expect(decision.kind === 'deny' && decision.denial).to.deep.include({ status: 400, type: 'budget_exceeded', message: 'LiteLLM User: u-owner, exceeded budget for model=gpt-4o' });
  });

  it("allows a key whose team row is gone as a team key: the user's personal budget and model list do not apply", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, team_id: 'gone', user_id: 'u1' }));
    store.users.set('u1', aUser({ user_id: 'u1', max_budget: 1, spend: 2, models: ['other-model'] }));
    const { decision, refusedBy } = await authorizer(store).authorize(withKey(RAW));
    expect(refusedBy).to.equal(null);
    expect(decision.kind).to.equal('allow');
    expect(decision.identity.teamId).to.equal('gone');
  });
});

describe('Authorizer: a request whose model Tollgate could not read (body cut short by Envoy, or not valid JSON)', () => {
  const unread = (overrides: Partial<RequestFacts> = {}): RequestFacts =>
    withKey(RAW, { model: UNREAD_MODEL, body: null, bodyTruncated: true, bodyBytes: 1_048_576, ...overrides });

  it('refuses a key limited to some models, saying the model was not read, where a null model would have skipped the check', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-mini'] }));
    const { decision, refusedBy } = await authorizer(store).authorize(unread());
    expect(refusedBy).to.equal('key_model_access');
    expect(decision.kind === 'deny' && decision.denial).to.include({ status: 401, type: 'key_model_access_denied' });
    expect(decision.kind === 'deny' && decision.denial.message).to.include(`Tried to access ${UNREAD_MODEL}`);
    expect((await authorizer(store).authorize(unread({ model: null }))).decision.kind, 'what a null model did').to.equal('allow');
  });

  it("refuses through the team's models too", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, team_id: 't1' }));
    store.teams.set('t1', aTeam({ team_id: 't1', models: ['gpt-4o-mini'] }));
    const { refusedBy } = await authorizer(store).authorize(unread());
    expect(refusedBy).to.equal('team_model_access');
  });

  it('is served by no deployment: a "*" deployment lends it neither its access groups nor its zero price', async () => {
    const store = new MemoryStore();
    const anything = { modelList: [aDeployment({ modelName: '*', underlyingModel: 'openai/*', accessGroups: ['local'], inputCostPerToken: 0, outputCostPerToken: 0 })] };
    store.keys.set(HASH, aKey({ token: HASH, models: ['local'] }));
    expect((await authorizer(store, anything).authorize(unread())).refusedBy, 'not in the access group').to.equal('key_model_access');
    store.keys.set(HASH, aKey({ token: HASH, max_budget: 1, spend: 2 }));
    expect((await authorizer(store, anything).authorize(unread())).refusedBy, 'not free, so budgets apply').to.equal('key_budget');
  });

  it('allows a caller that may call every model (no model list, or "*"), sending no model upstream', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: [] }));
    const open = await authorizer(store).authorize(unread());
    expect(open.decision.kind).to.equal('allow');
    expect(open.decision.kind === 'allow' && open.decision.identity.model).to.equal(undefined);
    store.keys.set(HASH, aKey({ token: HASH, models: ['*'] }));
    expect((await authorizer(store).authorize(unread())).decision.kind).to.equal('allow');
  });
});

describe("Authorizer: the models LiteLLM encodes in its managed file, batch and video ids (_extract_models_from_managed_resource_id)", () => {
  const managedFile = (model: string): string =>
    Buffer.from(`litellm_proxy:application/jsonl;unified_id,u-1;target_model_names,${model};llm_output_file_id,f;llm_output_file_model_id,hash`).toString('base64url');
  const video = (modelId: string): string => `video_${Buffer.from(`litellm:custom_llm_provider:openai;model_id:${modelId};video_id:v`).toString('base64')}`;
  /** The request as Envoy sends it, parsed as the Check handler parses it, with the authorizer's router. */
  const parsed = (subject: Authorizer, http: NonNullable<Parameters<typeof aCheckRequest>[0]>): RequestFacts =>
    parseCheckRequest(aCheckRequest({ ...http, headers: { authorization: `Bearer ${RAW}`, ...http.headers } }), edgeSettings(), subject.resolveModelId);

  it("refuses a key limited to model A a managed file of model B, in the path or the body (401 key_model_access)", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['model-a'] }));
    const subject = authorizer(store);
    for (const http of [
      { method: 'GET', path: `/v1/files/${managedFile('model-b')}/content`, body: '' },
      { method: 'POST', path: '/v1/batches', body: JSON.stringify({ input_file_id: managedFile('model-b'), endpoint: '/v1/chat/completions', completion_window: '24h' }) },
    ]) {
      const { decision, refusedBy } = await subject.authorize(parsed(subject, http));
      expect(refusedBy, http.path).to.equal('key_model_access');
      expect(decision.kind === 'deny' && decision.denial.status, http.path).to.equal(401);
    }
    const own = await subject.authorize(parsed(subject, { method: 'GET', path: `/v1/files/${managedFile('model-a')}/content`, body: '' }));
    expect(own.decision.kind, 'its own model').to.equal('allow');
  });

  it("checks a managed video's deployment id as the model group the router names for it", async () => {
    const store = new MemoryStore();
    const policy = { modelList: [aDeployment({ modelName: 'sora-2', underlyingModel: 'openai/sora-2', modelId: 'dep-sora' })] };
    store.keys.set(HASH, aKey({ token: HASH, models: ['sora-2'] }));
    const subject = authorizer(store, policy);
    const allowed = await subject.authorize(parsed(subject, { method: 'GET', path: `/v1/videos/${encodeURIComponent(video('dep-sora'))}`, body: '' }));
    expect(allowed.decision.kind).to.equal('allow');
    const unknown = await subject.authorize(parsed(subject, { method: 'GET', path: `/v1/videos/${encodeURIComponent(video('dep-other'))}`, body: '' }));
    expect(unknown.refusedBy, 'an id the router does not know is checked as it is').to.equal('key_model_access');
  });
});

describe("Authorizer: the model LiteLLM's handler serves from the path or the query (a deliberate difference)", () => {
  const parsed = (subject: Authorizer, path: string, body: Record<string, unknown>): RequestFacts =>
    parseCheckRequest(
      aCheckRequest({ method: 'POST', path, body: JSON.stringify(body), headers: { authorization: `Bearer ${RAW}`, 'content-type': 'application/json' } }),
      edgeSettings(),
      subject.resolveModelId,
    );

  it("refuses a key limited to one model the other model the path or ?model= names, which LiteLLM's auth does not check and its handler serves", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-mini'] }));
    const subject = authorizer(store);
    for (const path of ['/openai/deployments/gpt-4o/chat/completions', '/engines/gpt-4o/completions', '/v1/chat/completions?model=gpt-4o', '/embeddings?model=x&model=gpt-4o']) {
      const { decision, refusedBy } = await subject.authorize(parsed(subject, path, { model: 'gpt-4o-mini', messages: [], input: 'x' }));
      expect(refusedBy, path).to.equal('key_model_access');
      // The model refused is the one served: "gpt-4o-mini" would contain "gpt-4o" too.
      expect(decision.kind === 'deny' && decision.denial.message, path).to.match(/Tried to access gpt-4o$/);
    }
  });

  it("refuses a key limited to a wildcard the served list (?model=openai/x,anthropic/y) whose other name the wildcard does not cover, as LiteLLM serves both", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['openai/*'] }));
    const subject = authorizer(store);
    for (const path of ['/v1/chat/completions?model=openai/x,anthropic/y', '/engines/openai/x,anthropic/y/chat/completions']) {
      const { refusedBy } = await subject.authorize(parsed(subject, path, { model: 'openai/x', messages: [] }));
      expect(refusedBy, path).to.equal('key_model_access');
    }
    const { decision } = await subject.authorize(parsed(subject, '/v1/chat/completions?model=openai/x,openai/y', { model: 'openai/x', messages: [] }));
    expect(decision.kind).to.equal('allow');
  });

  it('names the model the handler serves in the identity, so metering prices and logs the response by it, not by the label of both', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: [] }));
    const subject = authorizer(store);
    const prices = new PriceTable(
      parseLiteLlmConfig(
        'model_list:\n' +
          '  - model_name: gpt-4o-mini\n    litellm_params: { model: openai/gpt-4o-mini, input_cost_per_token: 0.0000001, output_cost_per_token: 0.0000001 }\n' +
          '  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.000005, output_cost_per_token: 0.00002 }\n',
        {},
      ),
    );
    for (const [path, served] of [
      ['/openai/deployments/gpt-4o/chat/completions', 'gpt-4o'],
      ['/v1/chat/completions?model=%20gpt-4o', 'gpt-4o'],
      ['/v1/chat/completions?model=gpt-4o,gpt-4o-mini', 'gpt-4o,gpt-4o-mini'],
      ['/v1/chat/completions', 'gpt-4o-mini'],
    ] as const) {
      const facts = parsed(subject, path, { model: 'gpt-4o-mini', messages: [] });
      const { decision } = await subject.authorize(facts);
      expect(decision.kind === 'allow' && decision.identity.model, path).to.equal(served);
      const attribution = attributionFromDecision(decision, facts);
      expect(attribution.model, path).to.equal(served);
    }
    const facts = parsed(subject, '/v1/chat/completions?model=gpt-4o', { model: 'gpt-4o-mini', messages: [] });
    const { decision } = await subject.authorize(facts);
    expect(prices.priceOf(attributionFromDecision(decision, facts).model, 'gpt-4o-2024-08-06')?.output, 'priced as the model served').to.equal(2e-5);
  });

  it('allows the same request when the path or the query names the body\'s model, or a route whose handler reads no ?model=', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-mini'] }));
    const subject = authorizer(store);
    for (const path of ['/openai/deployments/gpt-4o-mini/chat/completions', '/v1/chat/completions?model=gpt-4o-mini', '/v1/chat/completions?model=', '/v1/moderations?model=gpt-4o']) {
      const { decision } = await subject.authorize(parsed(subject, path, { model: 'gpt-4o-mini', messages: [], input: 'x' }));
      expect(decision.kind, path).to.equal('allow');
    }
  });
});

describe('Authorizer: general_settings.completion_model, which LiteLLM serves whatever the request names', () => {
  const parsed = (subject: Authorizer, path: string, body: Record<string, unknown>): RequestFacts =>
    parseCheckRequest(
      aCheckRequest({ method: 'POST', path, body: JSON.stringify(body), headers: { authorization: `Bearer ${RAW}`, 'content-type': 'application/json' } }),
      edgeSettings(),
      subject.resolveModelId,
      subject.completionModel,
    );

  it('refuses a key limited to gpt-4o-mini asking for gpt-4o-mini when the config serves gpt-4o, on the chat, completions, embeddings, Responses and Anthropic messages routes', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-mini'] }));
    const subject = authorizer(store, { completionModel: 'gpt-4o' });
    const paths = ['/v1/chat/completions', '/completions', '/v1/embeddings', '/openai/deployments/gpt-4o-mini/chat/completions', '/v1/chat/completions?model=gpt-4o-mini', '/v1/responses', '/v1/messages'];
    for (const path of paths) {
      const { decision, refusedBy } = await subject.authorize(parsed(subject, path, { model: 'gpt-4o-mini', messages: [], input: 'x' }));
      expect(refusedBy, path).to.equal('key_model_access');
      // The model refused is the one served: "gpt-4o-mini" would contain "gpt-4o" too.
      expect(decision.kind === 'deny' && decision.denial.message, path).to.match(/Tried to access gpt-4o$/);
    }
    const { refusedBy } = await subject.authorize(parsed(subject, '/v1/embeddings', { input: 'x' }));
    expect(refusedBy, 'a body naming no model').to.equal('key_model_access');
    const moderations = await subject.authorize(parsed(subject, '/v1/moderations', { model: 'gpt-4o-mini', input: 'x' }));
    expect(moderations.decision.kind, 'a route it does not apply to').to.equal('allow');
  });

  it("skips no budget for a request naming no model when the model served is free: LiteLLM's auth reads no model there", async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, max_budget: 1, spend: 5 }));
    const free = [aDeployment({ modelName: 'free-model', inputCostPerToken: 0, outputCostPerToken: 0 })];
    const subject = authorizer(store, { completionModel: 'free-model', modelList: free });
    expect((await subject.authorize(parsed(subject, '/v1/chat/completions', { messages: [] }))).refusedBy).to.equal('key_budget');
    const named = await subject.authorize(parsed(subject, '/v1/chat/completions', { model: 'free-model', messages: [] }));
    expect(named.decision.kind, 'the free model named in the body: skipped, as LiteLLM skips it').to.equal('allow');
  });

  it('allows the same request when the key may call the model served too, and names that model in the identity', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, models: ['gpt-4o-mini', 'gpt-4o'] }));
    const subject = authorizer(store, { completionModel: 'gpt-4o' });
    const { decision } = await subject.authorize(parsed(subject, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] }));
    expect(decision.kind).to.equal('allow');
    expect(decision.kind === 'allow' && decision.identity.model).to.equal('gpt-4o');
    const unset = authorizer(store);
    const plain = await unset.authorize(parsed(unset, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] }));
    expect(plain.decision.kind === 'allow' && plain.decision.identity.model, 'unset: the body\'s').to.equal('gpt-4o-mini');
  });
});
