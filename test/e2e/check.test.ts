/**
 * End to end: the real `tollgate serve` process, Envoy's CheckRequest messages over gRPC,
 * LiteLLM rows in a real database. Runs on MariaDB + Redis and on the embedded SQLite store.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed, metadataOf, upstreamHeaders } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { mariaDbBackend, SQLITE_BACKEND, type E2eBackend } from '../support/e2e-backends';
import { tempSqlitePath } from '../support/mysql';
import { startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-e2e-0123456789';
const HOUR = 3_600_000;

/** Raw keys by role in the scenario; each row stores only sha256(key). */
const KEYS = {
  ok: `sk-ok-${uniqueId('k')}`,
  narrowModels: `sk-narrow-${uniqueId('k')}`,
  wildcard: `sk-wild-${uniqueId('k')}`,
  blocked: `sk-blocked-${uniqueId('k')}`,
  expired: `sk-expired-${uniqueId('k')}`,
  blockedAndExpired: `sk-bexp-${uniqueId('k')}`,
  keyAtBudget: `sk-atbudget-${uniqueId('k')}`,
  tempIncrease: `sk-temp-${uniqueId('k')}`,
  teamBlocked: `sk-tblocked-${uniqueId('k')}`,
  teamOver: `sk-tover-${uniqueId('k')}`,
  teamAtBudget: `sk-tequal-${uniqueId('k')}`,
  orgAtBudget: `sk-org-${uniqueId('k')}`,
  personalOver: `sk-personal-${uniqueId('k')}`,
  personalOk: `sk-personal-ok-${uniqueId('k')}`,
};

async function seed(settings: DatabaseSettings): Promise<{ teamId: string; orgId: string; endUserOver: string }> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  await runMigrations(dataSource);
  const rows = new LiteLlmRows(dataSource);
  try {
    const org = await rows.anOrganization({ budget_id: (await rows.aBudget({ max_budget: 100 })).budget_id, spend: 1 });
    const orgFull = await rows.anOrganization({ budget_id: (await rows.aBudget({ max_budget: 5 })).budget_id, spend: 5 });
    const team = await rows.aTeam({ models: ['gpt-4o', 'gpt-4o-mini'], max_budget: 10, spend: 1, organization_id: org.organization_id });
    const blockedTeam = await rows.aTeam({ blocked: true });
    const overTeam = await rows.aTeam({ max_budget: 10, spend: 10.5 });
    const equalTeam = await rows.aTeam({ max_budget: 10, spend: 10 });
    const orgTeam = await rows.aTeam({ organization_id: orgFull.organization_id });
    const spender = await rows.aUser({ max_budget: 3, spend: 4 });
    const saver = await rows.aUser({ max_budget: 3, spend: 1, user_role: 'internal_user' });
    const endUserBudget = await rows.aBudget({ max_budget: 1 });
    const endUser = await rows.anEndUser({ budget_id: endUserBudget.budget_id, spend: 2 });

    const key = (raw: string, row: Parameters<LiteLlmRows['aKey']>[0] = {}) => rows.aKey({ token: hashKey(raw), ...row });
    const future = new Date(Date.now() + 24 * HOUR);
    await key(KEYS.ok, { team_id: team.team_id, key_alias: 'ok-key', user_id: saver.user_id });
    await key(KEYS.narrowModels, { team_id: team.team_id, models: ['gpt-4o-mini'] });
    await key(KEYS.wildcard, { models: ['gpt-4o*'] });
    await key(KEYS.blocked, { team_id: team.team_id, blocked: true });
    await key(KEYS.expired, { team_id: team.team_id, expires: new Date(Date.now() - HOUR) });
    await key(KEYS.blockedAndExpired, { blocked: true, expires: new Date(Date.now() - HOUR) });
    await key(KEYS.keyAtBudget, { max_budget: 5, spend: 5 });
    await key(KEYS.tempIncrease, {
      max_budget: 5,
      spend: 6,
      metadata: { temp_budget_increase: 2, temp_budget_expiry: future.toISOString() },
    });
    await key(KEYS.teamBlocked, { team_id: blockedTeam.team_id });
    await key(KEYS.teamOver, { team_id: overTeam.team_id });
    await key(KEYS.teamAtBudget, { team_id: equalTeam.team_id });
    await key(KEYS.orgAtBudget, { team_id: orgTeam.team_id });
    await key(KEYS.personalOver, { user_id: spender.user_id });
    await key(KEYS.personalOk, { user_id: saver.user_id });
    return { teamId: team.team_id, orgId: org.organization_id, endUserOver: endUser.user_id };
  } finally {
    await dataSource.destroy();
  }
}

const BACKENDS: E2eBackend[] = [mariaDbBackend(true), SQLITE_BACKEND];

for (const backend of BACKENDS) {
  describe(`Authorization/Check end to end on ${backend.name}`, function () {
    this.timeout(60_000);
    let server: ServerProcess;
    let client: Checker;
    let cleanup: () => Promise<void> = async () => undefined;
    let ids: { teamId: string; orgId: string; endUserOver: string };

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      ids = await seed(opened.settings);
      server = await startServer({ env: { ...opened.env, LITELLM_MASTER_KEY: MASTER_KEY } });
      client = connect(server.address);
    });

    after(async function () {
      client?.close();
      const code = await server?.stop();
      await cleanup();
      expect(code, 'exit code after SIGTERM').to.equal(0);
    });

    it('reports SERVING on grpc.health.v1 once the store answers', async () => {
      expect(await client.health()).to.equal('SERVING');
      expect(await client.health('envoy.service.auth.v3.Authorization')).to.equal('SERVING');
    });

    it('allows a team key for a team model and tells Envoy who the caller is', async () => {
      const response = await client.check(
        anEnvoyCheck({
          key: KEYS.ok,
          body: chat('gpt-4o'),
          headers: { 'x-tollgate-team-id': 'spoofed', 'x-tollgate-admin': 'yes' },
        }),
      );
      expect(isAllowed(response)).to.equal(true);
      const headers = upstreamHeaders(response);
      expect(headers['x-tollgate-key-hash']).to.equal(hashKey(KEYS.ok));
      expect(headers['x-tollgate-team-id']).to.equal(ids.teamId);
      expect(headers['x-tollgate-org-id']).to.equal(ids.orgId);
      expect(headers['x-tollgate-key-alias']).to.equal('ok-key');
      expect(headers['x-tollgate-model']).to.equal('gpt-4o');
      for (const option of response.ok_response?.headers ?? []) {
        expect(option.append_action).to.equal('OVERWRITE_IF_EXISTS_OR_ADD');
      }
      expect(response.ok_response?.headers_to_remove).to.include.members(['authorization', 'x-tollgate-admin']);
      expect(metadataOf(response)).to.include({ team_id: ids.teamId, key_hash: hashKey(KEYS.ok), model: 'gpt-4o' });
      expect(JSON.stringify(response)).not.to.include(KEYS.ok);
    });

    it('reads the body from raw_body bytes and headers from header_map', async () => {
      const response = await client.check(
        anEnvoyCheck({ key: KEYS.narrowModels, body: chat('gpt-4o'), asRawBody: true, rawHeaders: true }),
      );
      expect(denialOf(response).type).to.equal('key_model_access_denied');
    });

    it('decides on a long-context body as on a short one (its prompt is not decoded)', async () => {
      const messages = Array.from({ length: 200 }, (_, i) => ({ role: 'user', content: `${i} ${'long context '.repeat(200)}` }));
      const denied = await client.check(anEnvoyCheck({ key: KEYS.narrowModels, body: chat('gpt-4o', { messages }), asRawBody: true }));
      expect(denialOf(denied).type).to.equal('key_model_access_denied');
      const allowed = await client.check(anEnvoyCheck({ key: KEYS.ok, body: chat('gpt-4o', { messages }), asRawBody: true }));
      expect(isAllowed(allowed)).to.equal(true);
      expect(upstreamHeaders(allowed)['x-tollgate-model']).to.equal('gpt-4o');
    });

    it('reads the model from a truncated (partial) body', async () => {
      const long = chat('gpt-4o', { messages: [{ role: 'user', content: 'x'.repeat(50_000) }] });
      const response = await client.check(anEnvoyCheck({ key: KEYS.narrowModels, body: long, truncateTo: 4096 }));
      expect(denialOf(response).type).to.equal('key_model_access_denied');
    });

    it('refuses a whole body that is not JSON with 400 invalid_request_error once the key passes (no crash), as newer LiteLLM does', async () => {
      const body = '{"model": "gpt-4o", oops';
      for (const key of [KEYS.personalOk, KEYS.ok]) {
        const denial = denialOf(await client.check(anEnvoyCheck({ key, body })));
        expect(denial).to.include({ type: 'invalid_request_error', param: 'request_body', code: '400' });
        expect(denial.message).to.match(/^Invalid JSON payload: /);
      }
      expect(denialOf(await client.check(anEnvoyCheck({ key: KEYS.blocked, body }))).type, 'a blocked key keeps its own refusal').to.equal('auth_error');
    });

    const denials: Array<{ name: string; request: () => Parameters<Checker['check']>[0]; status: number; type: string; message: RegExp }> = [
      { name: 'no credential', request: () => anEnvoyCheck({ body: chat('gpt-4o') }), status: 401, type: 'auth_error', message: /^Authentication Error, No api key passed in\.$/ },
      {
        name: 'an Authorization header without Bearer',
        request: () => anEnvoyCheck({ headers: { authorization: KEYS.ok }, body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: /Malformed API Key passed in\. Ensure Key has `Bearer ` prefix\./,
      },
      {
        name: 'an unknown key',
        request: () => anEnvoyCheck({ key: 'sk-does-not-exist-1234', body: chat('gpt-4o') }),
        status: 401,
        type: 'token_not_found_in_db',
        message: /Received API Key = sk-\.\.\.1234, Key Hash \(Token\) =[0-9a-f]{64}/,
      },
      {
        name: 'a key that does not start with sk-',
        request: () => anEnvoyCheck({ key: hashKey(KEYS.ok), body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: /LiteLLM Virtual Key expected\. Received=.{4}\*\*\*\*.{4}, expected to start with 'sk-'\./,
      },
      { name: 'a blocked key', request: () => anEnvoyCheck({ key: KEYS.blocked, body: chat('gpt-4o') }), status: 401, type: 'auth_error', message: /Key is blocked/ },
      { name: 'an expired key', request: () => anEnvoyCheck({ key: KEYS.expired, body: chat('gpt-4o') }), status: 401, type: 'expired_key', message: /Expired Key/ },
      {
        name: 'a blocked and expired key (blocked is checked first)',
        request: () => anEnvoyCheck({ key: KEYS.blockedAndExpired, body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: /Key is blocked/,
      },
      {
        name: 'a key model outside the key allowlist',
        request: () => anEnvoyCheck({ key: KEYS.narrowModels, body: chat('gpt-4o') }),
        status: 401,
        type: 'key_model_access_denied',
        message: /key not allowed to access model/,
      },
      {
        name: 'a model the wildcard does not cover',
        request: () => anEnvoyCheck({ key: KEYS.wildcard, body: chat('claude-3-opus') }),
        status: 401,
        type: 'key_model_access_denied',
        message: /Tried to access claude-3-opus/,
      },
      {
        name: 'a team model outside the team allowlist',
        request: () => anEnvoyCheck({ key: KEYS.ok, body: chat('claude-3-opus') }),
        status: 401,
        type: 'team_model_access_denied',
        message: /team not allowed to access model/,
      },
      {
        name: 'key spend == max_budget on an LLM route',
        request: () => anEnvoyCheck({ key: KEYS.keyAtBudget, body: chat('gpt-4o') }),
        status: 400,
        type: 'budget_exceeded',
        message: /Budget has been exceeded! Current cost: 5/,
      },
      { name: 'a blocked team', request: () => anEnvoyCheck({ key: KEYS.teamBlocked, body: chat('gpt-4o') }), status: 401, type: 'auth_error', message: /is blocked\. Update via `\/team\/unblock`/ },
      { name: 'team spend > max_budget', request: () => anEnvoyCheck({ key: KEYS.teamOver, body: chat('gpt-4o') }), status: 400, type: 'budget_exceeded', message: /Team=.* Current cost: 10\.5, Max budget: 10/ },
      { name: 'organization spend == its budget', request: () => anEnvoyCheck({ key: KEYS.orgAtBudget, body: chat('gpt-4o') }), status: 400, type: 'budget_exceeded', message: /Organization=/ },
      { name: 'a personal key over its user budget', request: () => anEnvoyCheck({ key: KEYS.personalOver, body: chat('gpt-4o') }), status: 400, type: 'budget_exceeded', message: /ExceededBudget: User=.* over budget/ },
      {
        name: 'an end user over budget named by header',
        request: () => anEnvoyCheck({ key: KEYS.ok, body: chat('gpt-4o'), headers: { 'x-litellm-end-user-id': ids.endUserOver } }),
        status: 400,
        type: 'budget_exceeded',
        message: /ExceededBudget: End User=.* over budget\. Spend=2/,
      },
      {
        name: 'an end user over budget named by body.user',
        request: () => anEnvoyCheck({ key: KEYS.ok, body: chat('gpt-4o', { user: ids.endUserOver }) }),
        status: 400,
        type: 'budget_exceeded',
        message: /End User=/,
      },
    ];

    const realtime = (model: string, headers: Record<string, string>) =>
      anEnvoyCheck({ method: 'GET', path: `/v1/realtime?model=${model}`, headers: { upgrade: 'websocket', connection: 'Upgrade', ...headers } });
    denials.push(
      {
        name: 'a Realtime WebSocket handshake for a model outside the key allowlist (the query names it; any refusal there is 403)',
        request: () => realtime('gpt-4o', { authorization: `Bearer ${KEYS.narrowModels}` }),
        status: 403,
        type: 'key_model_access_denied',
        message: /key not allowed to access model/,
      },
      {
        name: 'a Realtime WebSocket handshake with its key in a header LiteLLM does not read there',
        request: () => realtime('gpt-4o-mini', { 'x-litellm-api-key': KEYS.narrowModels }),
        status: 403,
        type: 'auth_error',
        message: /^No API key provided$/,
      },
    );

    for (const row of denials) {
      it(`denies ${row.name} (${row.status} ${row.type})`, async () => {
        const denial = denialOf(await client.check(row.request()));
        expect(denial.code).to.equal(String(row.status));
        expect(denial.type).to.equal(row.type);
        expect(denial.message).to.match(row.message);
        expect(denial.grpcCode).to.equal(row.status === 401 ? 16 : 7);
        expect(Number(denial.httpStatus) || statusName(denial.httpStatus)).to.equal(row.status);
        expect(denial.contentType).to.equal('application/json');
      });
    }

    const allowed: Array<{ name: string; request: () => Parameters<Checker['check']>[0] }> = [
      { name: 'team spend == max_budget (team budgets are strict >)', request: () => anEnvoyCheck({ key: KEYS.teamAtBudget, body: chat('gpt-4o') }) },
      { name: 'a key at budget on an info route (/v1/models)', request: () => anEnvoyCheck({ key: KEYS.keyAtBudget, method: 'GET', path: '/v1/models' }) },
      { name: 'a team over budget on an info route (deliberate difference §4.1)', request: () => anEnvoyCheck({ key: KEYS.teamOver, method: 'GET', path: '/v1/models' }) },
      { name: 'a key over max_budget within its temporary increase', request: () => anEnvoyCheck({ key: KEYS.tempIncrease, body: chat('gpt-4o') }) },
      { name: 'a wildcard model pattern', request: () => anEnvoyCheck({ key: KEYS.wildcard, body: chat('gpt-4o-mini') }) },
      { name: 'a personal key under its user budget', request: () => anEnvoyCheck({ key: KEYS.personalOk, body: chat('gpt-4o') }) },
      { name: 'the master key, for anything', request: () => anEnvoyCheck({ key: MASTER_KEY, body: chat('any-model-at-all') }) },
      { name: 'a public route without a key', request: () => anEnvoyCheck({ method: 'GET', path: '/health/liveliness' }) },
      {
        name: 'a Realtime WebSocket handshake for an allowed model, the key in api-key',
        request: () => anEnvoyCheck({ method: 'GET', path: '/v1/realtime?model=gpt-4o-mini', headers: { upgrade: 'websocket', 'api-key': KEYS.narrowModels } }),
      },
    ];
    for (const row of allowed) {
      it(`allows ${row.name}`, async () => {
        const response = await client.check(row.request());
        expect(isAllowed(response), response.denied_response?.body).to.equal(true);
      });
    }

    it('identifies the master key as the proxy admin without echoing it', async () => {
      const response = await client.check(anEnvoyCheck({ key: MASTER_KEY, body: chat('gpt-4o') }));
      expect(upstreamHeaders(response)['x-tollgate-user-role']).to.equal('proxy_admin');
      expect(JSON.stringify(response)).not.to.include(MASTER_KEY);
      expect(server.output()).not.to.include(MASTER_KEY);
    });

    it('never writes a raw key to its logs', () => {
      for (const raw of Object.values(KEYS)) expect(server.output()).not.to.include(raw);
    });
  });
}

function statusName(name: string | number | undefined): number | undefined {
  const byName: Record<string, number> = { BadRequest: 400, Unauthorized: 401, Forbidden: 403, TooManyRequests: 429 };
  return typeof name === 'string' ? byName[name] : undefined;
}

describe('global proxy budget end to end (litellm_settings.max_budget)', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let client: Checker;
  let config: TempConfig;
  const file = tempSqlitePath();
  const key = `sk-global-${uniqueId('k')}`;

  before(async () => {
    requireBuild();
    const settings: DatabaseSettings = { databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 };
    const dataSource = createDataSource(settings);
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    await rows.aKey({ token: hashKey(key) });
    await rows.aSpendLog({ spend: 30, startTime: new Date(Date.now() - 2 * 24 * HOUR) });
    await rows.aSpendLog({ spend: 30, startTime: new Date(Date.now() - HOUR) });
    await rows.aSpendLog({ spend: 500, startTime: new Date(Date.now() - 40 * 24 * HOUR) }); // outside the 30-day window
    await dataSource.destroy();
    config = writeConfig('litellm_settings:\n  max_budget: 50\ngeneral_settings:\n  master_key: os.environ/E2E_MASTER\n');
    server = await startServer({ env: { TOLLGATE_SQLITE_PATH: file.path, TOLLGATE_CONFIG: config.path, E2E_MASTER: MASTER_KEY } });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    config?.cleanup();
    file.cleanup();
  });

  it('denies LLM routes once the last 30 days of spend exceed max_budget (400 budget_exceeded)', async () => {
    const denial = denialOf(await client.check(anEnvoyCheck({ key, body: chat('gpt-4o') })));
    expect(denial.type).to.equal('budget_exceeded');
    expect(denial.message).to.match(/Current cost: 60/);
  });

  it('still allows /v1/models', async () => {
    expect(isAllowed(await client.check(anEnvoyCheck({ key, method: 'GET', path: '/v1/models' })))).to.equal(true);
  });
});
