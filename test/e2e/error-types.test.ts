/**
 * End to end, every `error.type` of litellm-auth.md §1.3 that the checks can produce, through the
 * real `tollgate serve` over gRPC, on MariaDB and on the embedded SQLite store: HTTP status, type,
 * message and param as LiteLLM answers them. Also the order across the newer checks (first refusal
 * wins) and the default end-user budget (litellm_settings.max_end_user_budget_id).
 *
 * Not produced by any check, so not here: no_db_connection (a store outage is gRPC UNAVAILABLE,
 * spec README §3), org_vector_store_access_denied (LiteLLM checks key and team only),
 * org_model_access_denied (management endpoints only), and the handler-side types
 * (not_found_error, validation_error, team_member_*, internal_server_error, …).
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { CheckRequest } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { mariaDbBackend, SQLITE_BACKEND, type E2eBackend } from '../support/e2e-backends';
import { startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-errortypes-0123';
const HOUR = 3_600_000;
const MB = 1024 * 1024;

const raw = (role: string): string => `sk-${role}-${uniqueId('k')}`;
const KEYS = {
  team: raw('team'),
  narrow: raw('narrow'),
  personal: raw('personal'),
  project: raw('project'),
  expired: raw('expired'),
  blocked: raw('blocked'),
  atBudget: raw('atbudget'),
  modelBudget: raw('modelbudget'),
  scim: raw('scim'),
  scimExpired: raw('scimexp'),
  agent: raw('agent'),
  agentTeamNarrow: raw('agentnarrow'),
  keyVectors: raw('keyvs'),
  teamVectors: raw('teamvs'),
  tools: raw('tools'),
  orgMember: raw('orgmember'),
  noUser: raw('nouser'),
  guarded: raw('guarded'),
  embeddingsOnly: raw('embonly'),
};

interface Seeded {
  readonly defaultBudgetId: string;
  readonly endUserWithoutBudget: string;
  readonly scimUser: string;
}

async function seed(settings: DatabaseSettings): Promise<Seeded> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  await runMigrations(dataSource);
  const rows = new LiteLlmRows(dataSource);
  try {
    const key = (rawKey: string, row: Parameters<LiteLlmRows['aKey']>[0] = {}) => rows.aKey({ token: hashKey(rawKey), ...row });
    const team = await rows.aTeam({ models: ['gpt-4o', 'gpt-4o-mini'] });
    const narrowTeam = await rows.aTeam({ models: ['gpt-4o-mini'] });
    const teamPermission = await rows.anObjectPermission({ vector_stores: ['vs-team'] });
    const vectorTeam = await rows.aTeam({ object_permission_id: teamPermission.object_permission_id });
    const guardedTeam = await rows.aTeam({ metadata: { guardrails: { modify_guardrails: false } } });
    const keyPermission = await rows.anObjectPermission({ vector_stores: ['vs-1'] });
    const personalUser = await rows.aUser({ models: ['gpt-4o-mini'] });
    const scimUser = await rows.aUser({ metadata: { scim_active: false } });
    const org = await rows.anOrganization();
    const orgMember = await rows.aUser({ user_role: 'internal_user' });
    await rows.anOrganizationMembership({ user_id: orgMember.user_id, organization_id: org.organization_id, user_role: 'internal_user' });
    const project = await rows.aProject({ models: ['gpt-4o-mini'] });
    const agent = await rows.anAgent({ litellm_params: { require_trace_id_on_calls_by_agent: true } });
    const defaultBudget = await rows.aBudget({ max_budget: 2 });
    const endUser = await rows.anEndUser({ spend: 3 });

    const past = new Date(Date.now() - HOUR);
    await key(KEYS.team, { team_id: team.team_id });
    await key(KEYS.narrow, { team_id: team.team_id, models: ['gpt-4o-mini'] });
    await key(KEYS.personal, { user_id: personalUser.user_id });
    await key(KEYS.project, { project_id: project.project_id });
    await key(KEYS.expired, { expires: past });
    await key(KEYS.blocked, { blocked: true });
    await key(KEYS.atBudget, { max_budget: 5, spend: 5 });
    await key(KEYS.modelBudget, { model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } }, model_spend: { 'gpt-4o': 1.5 } });
    await key(KEYS.scim, { user_id: scimUser.user_id });
    await key(KEYS.scimExpired, { user_id: scimUser.user_id, expires: past });
    await key(KEYS.agent, { agent_id: agent.agent_id });
    await key(KEYS.agentTeamNarrow, { agent_id: agent.agent_id, team_id: narrowTeam.team_id });
    await key(KEYS.keyVectors, { object_permission_id: keyPermission.object_permission_id });
    await key(KEYS.teamVectors, { team_id: vectorTeam.team_id });
    await key(KEYS.tools, { metadata: { allowed_tools: ['ls'] } });
    await key(KEYS.orgMember, { user_id: orgMember.user_id });
    await key(KEYS.noUser, {});
    await key(KEYS.guarded, { team_id: guardedTeam.team_id });
    await key(KEYS.embeddingsOnly, { allowed_routes: ['/embeddings'] });
    return { defaultBudgetId: defaultBudget.budget_id, endUserWithoutBudget: endUser.user_id, scimUser: scimUser.user_id };
  } finally {
    await dataSource.destroy();
  }
}

function configYaml(defaultBudgetId: string): string {
  return [
    'general_settings:',
    '  master_key: os.environ/E2E_MASTER',
    '  max_request_size_mb: 1',
    '  reject_clientside_metadata_tags: true',
    'litellm_settings:',
    `  max_end_user_budget_id: ${defaultBudgetId}`,
    'model_list:',
    '  - model_name: gpt-4o',
    '    litellm_params:',
    '      model: openai/gpt-4o',
    '  - model_name: gpt-4o-mini',
    '    litellm_params:',
    '      model: openai/gpt-4o-mini',
    '      configurable_clientside_auth_params: ["api_base"]',
    '',
  ].join('\n');
}

const BACKENDS: E2eBackend[] = [mariaDbBackend(false), SQLITE_BACKEND];

interface DenialRow {
  readonly name: string;
  readonly request: () => CheckRequest;
  readonly status: number;
  readonly type: string;
  /** Exact text, a pattern, or (for ids seeded in `before`) a function returning the text. */
  readonly message: string | RegExp | (() => string);
  readonly param: string | null;
}

const last4 = (rawKey: string): string => rawKey.slice(-4);
const withTool = (name: string) => chat('gpt-4o', { tools: [{ type: 'function', function: { name, parameters: {} } }] });

for (const backend of BACKENDS) {
  describe(`every error type the checks produce, end to end on ${backend.name} — litellm-auth.md §1.3`, function () {
    this.timeout(60_000);
    let server: ServerProcess;
    let client: Checker;
    let config: TempConfig;
    let seeded: Seeded = { defaultBudgetId: '', endUserWithoutBudget: '', scimUser: '' };
    let cleanup: () => Promise<void> = async () => undefined;

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      seeded = await seed(opened.settings);
      config = writeConfig(configYaml(seeded.defaultBudgetId));
      server = await startServer({ env: { ...opened.env, TOLLGATE_CONFIG: config.path, E2E_MASTER: MASTER_KEY } });
      client = connect(server.address);
    });

    after(async function () {
      client?.close();
      const code = await server?.stop();
      config?.cleanup();
      await cleanup();
      expect(code, 'exit code after SIGTERM').to.equal(0);
    });

    const denials: DenialRow[] = [
      {
        name: 'an unknown key',
        request: () => anEnvoyCheck({ key: 'sk-never-issued-9876', body: chat('gpt-4o') }),
        status: 401,
        type: 'token_not_found_in_db',
        message: new RegExp(
          `^Authentication Error, Invalid proxy server token passed\\. Received API Key = sk-\\.\\.\\.9876, Key Hash \\(Token\\) =${hashKey('sk-never-issued-9876')}\\. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\`$`,
        ),
        param: 'key',
      },
      {
        name: 'an expired key',
        request: () => anEnvoyCheck({ key: KEYS.expired, body: chat('gpt-4o') }),
        status: 401,
        type: 'expired_key',
        message: /^Authentication Error - Expired Key\. Key Expiry time \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00 and current time \d{4}-/,
        param: `sk-...${last4(KEYS.expired)}`,
      },
      {
        name: 'a blocked key',
        request: () => anEnvoyCheck({ key: KEYS.blocked, body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
        param: 'None',
      },
      {
        name: 'a model outside the key allowlist',
        request: () => anEnvoyCheck({ key: KEYS.narrow, body: chat('gpt-4o') }),
        status: 401,
        type: 'key_model_access_denied',
        message: "key not allowed to access model. This key can only access models=['gpt-4o-mini']. Tried to access gpt-4o",
        param: 'model',
      },
      {
        name: 'a model outside the team allowlist',
        request: () => anEnvoyCheck({ key: KEYS.team, body: chat('claude-3-opus') }),
        status: 401,
        type: 'team_model_access_denied',
        message: "team not allowed to access model. This team can only access models=['gpt-4o', 'gpt-4o-mini']. Tried to access claude-3-opus",
        param: 'model',
      },
      {
        name: 'a model outside the personal key user allowlist',
        request: () => anEnvoyCheck({ key: KEYS.personal, body: chat('gpt-4o') }),
        status: 401,
        type: 'user_model_access_denied',
        message: "user not allowed to access model. This user can only access models=['gpt-4o-mini']. Tried to access gpt-4o",
        param: 'model',
      },
      {
        name: 'a model outside the project allowlist',
        request: () => anEnvoyCheck({ key: KEYS.project, body: chat('gpt-4o') }),
        status: 401,
        type: 'project_model_access_denied',
        message: "project not allowed to access model. This project can only access models=['gpt-4o-mini']. Tried to access gpt-4o",
        param: 'model',
      },
      {
        name: 'a key at its max_budget',
        request: () => anEnvoyCheck({ key: KEYS.atBudget, body: chat('gpt-4o') }),
        status: 400,
        type: 'budget_exceeded',
        message: 'Budget has been exceeded! Current cost: 5.0, Max budget: 5.0',
        param: null,
      },
      {
        name: 'a key over its per-model budget (model_max_budget against model_spend)',
        request: () => anEnvoyCheck({ key: KEYS.modelBudget, body: chat('gpt-4o') }),
        status: 400,
        type: 'budget_exceeded',
        message: `LiteLLM Virtual Key: ${hashKey(KEYS.modelBudget)}, key_alias: None, exceeded budget for model=gpt-4o`,
        param: null,
      },
      {
        name: 'an end user over the default budget (max_end_user_budget_id)',
        request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o', { user: seeded.endUserWithoutBudget }) }),
        status: 400,
        type: 'budget_exceeded',
        message: () => `ExceededBudget: End User=${seeded.endUserWithoutBudget} over budget. Spend=3.0, Budget=2.0`,
        param: null,
      },
      {
        name: 'the key of a SCIM-deactivated user',
        request: () => anEnvoyCheck({ key: KEYS.scim, body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: () => `User=${seeded.scimUser} has been deactivated via SCIM. Keys owned by this user cannot be used.`,
        param: 'user_id',
      },
      {
        name: "an agent's key without a trace id",
        request: () => anEnvoyCheck({ key: KEYS.agent, body: chat('gpt-4o') }),
        status: 400,
        type: 'bad_request_error',
        message: "Requests made with this agent's key must include the x-litellm-trace-id header.",
        param: null,
      },
      {
        name: 'a content-length above max_request_size_mb',
        request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o'), headers: { 'content-length': String(2 * MB) } }),
        status: 400,
        type: 'bad_request_error',
        message: 'Request size is too large. Request size is 2.0 MB. Max size is 1 MB',
        param: 'content-length',
      },
      {
        name: 'a body above max_request_size_mb sent without content-length (measured)',
        request: () =>
          anEnvoyCheck({
            key: KEYS.team,
            body: chat('gpt-4o', { messages: [{ role: 'user', content: 'x'.repeat(1.5 * MB) }] }),
            headers: { 'content-length': '' },
          }),
        status: 400,
        type: 'bad_request_error',
        message: /^Request size is too large\. Request size is 1\.5000\d+ MB\. Max size is 1 MB$/,
        param: 'content-length',
      },
      {
        name: 'client-side metadata.tags with reject_clientside_metadata_tags',
        request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o', { metadata: { tags: ['free-tier'] } }) }),
        status: 400,
        type: 'bad_request_error',
        message: "Client-side 'metadata.tags' not allowed in request. 'reject_clientside_metadata_tags'=True. Tags can only be set via API key metadata.",
        param: 'metadata.tags',
      },
      {
        name: 'a vector store outside the key allowlist',
        request: () => anEnvoyCheck({ key: KEYS.keyVectors, body: chat('gpt-4o', { vector_store_ids: ['vs-2'] }) }),
        status: 401,
        type: 'key_vector_store_access_denied',
        message: "User not allowed to access vector store. Tried to access vs-2. Only allowed to access ['vs-1']",
        param: 'vector_store',
      },
      {
        name: 'a file_search vector store outside the team allowlist',
        request: () =>
          anEnvoyCheck({ key: KEYS.teamVectors, path: '/v1/responses', body: { model: 'gpt-4o', input: 'hi', tools: [{ type: 'file_search', vector_store_ids: ['vs-other'] }] } }),
        status: 401,
        type: 'team_vector_store_access_denied',
        message: "User not allowed to access vector store. Tried to access vs-other. Only allowed to access ['vs-team']",
        param: 'vector_store',
      },
      {
        name: 'a tool outside the key allowed_tools',
        request: () => anEnvoyCheck({ key: KEYS.tools, body: withTool('rm_rf') }),
        status: 403,
        type: 'tool_access_denied',
        message: "Tool(s) ['rm_rf'] are not in the allowed tools list for this key/team.",
        param: 'tools',
      },
      {
        name: 'a body padded past the cut with its tools after the prompt, for a key with allowed_tools',
        request: () =>
          anEnvoyCheck({
            key: KEYS.tools,
            body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(50_000) }], tools: [{ type: 'function', function: { name: 'rm_rf' } }] },
            truncateTo: 4096,
          }),
        status: 403,
        type: 'tool_access_denied',
        message:
          'Tool(s) unread: request body cut short by Envoy (over max_request_bytes), so the allowed tools list for this key/team cannot be checked. Send a smaller body.',
        param: 'tools',
      },
      {
        name: 'a body padded past the cut with a file_search store after the prompt, for a key restricted to some stores',
        request: () =>
          anEnvoyCheck({
            key: KEYS.keyVectors,
            path: '/v1/responses',
            body: { model: 'gpt-4o', input: 'x'.repeat(50_000), tools: [{ type: 'file_search', vector_store_ids: ['vs-secret'] }] },
            truncateTo: 4096,
          }),
        status: 401,
        type: 'key_vector_store_access_denied',
        message:
          "User not allowed to access vector store. Vector store(s) unread: request body cut short by Envoy (over max_request_bytes). Only allowed to access ['vs-1']",
        param: 'vector_store',
      },
      {
        name: 'a body padded past the cut with a guardrail toggle after the prompt, for a team that may not modify guardrails',
        request: () =>
          anEnvoyCheck({
            key: KEYS.guarded,
            body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(50_000) }], metadata: { disable_global_guardrails: true } },
            truncateTo: 4096,
          }),
        status: 403,
        type: 'auth_error',
        message: /cut short by Envoy \(over max_request_bytes\), so it cannot be checked for guardrail changes/,
        param: 'None',
      },
      {
        name: 'a banned api_base for a model without the opt-in',
        request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o', { api_base: 'https://attacker.example' }) }),
        status: 401,
        type: 'auth_error',
        message: /^Authentication Error, Rejected Request: api_base is not allowed in request body\. Clientside passthrough requires explicit admin opt-in/,
        param: 'None',
      },
      {
        name: 'a client-side fallback the router cannot route',
        request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o', { fallbacks: ['no-such-model'] }) }),
        status: 400,
        type: 'auth_error',
        message: "{'error': '/chat/completions: Invalid model name passed in model=no-such-model. Call `/v1/models` to view available models for your key.'}",
        param: 'None',
      },
      {
        name: 'an org-admin-only route without organization_id (organization RBAC)',
        request: () => anEnvoyCheck({ key: KEYS.orgMember, method: 'GET', path: '/organization/info' }),
        status: 401,
        type: 'auth_error',
        message: 'Passed organization_id is None, please pass an organization_id in your request',
        param: 'organization_id',
      },
      {
        name: 'a management route for a key without a user (route RBAC)',
        request: () => anEnvoyCheck({ key: KEYS.noUser, path: '/key/generate', body: {} }),
        status: 401,
        type: 'auth_error',
        message: /^Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys\/users\/teams\. Route=\/key\/generate\. Your role=unknown\./,
        param: 'None',
      },
      {
        name: 'a guardrail change by a team that may not',
        request: () => anEnvoyCheck({ key: KEYS.guarded, body: chat('gpt-4o', { metadata: { guardrails: ['pii'] } }) }),
        status: 403,
        type: 'auth_error',
        message: "{'error': 'Your team does not have permission to modify guardrails.'}",
        param: 'None',
      },
      {
        name: 'a route outside the key allowed_routes',
        request: () => anEnvoyCheck({ key: KEYS.embeddingsOnly, body: chat('gpt-4o') }),
        status: 403,
        type: 'auth_error',
        message: "Virtual key is not allowed to call this route. Only allowed to call routes: ['/embeddings']. Tried to call route: /v1/chat/completions",
        param: 'None',
      },
      {
        name: 'a master-key-only route with a virtual key',
        request: () => anEnvoyCheck({ key: KEYS.team, path: '/global/spend/reset', body: {} }),
        status: 401,
        type: 'auth_error',
        message: 'Authentication Error, Tried to access route=/global/spend/reset, which is only for MASTER KEY',
        param: 'None',
      },
      {
        name: 'no credential at all',
        request: () => anEnvoyCheck({ body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: 'Authentication Error, No api key passed in.',
        param: 'None',
      },
      // First refusal in LiteLLM's order wins (§2.7, §4), across the newer checks.
      {
        name: 'an expired key of a SCIM-deactivated user (SCIM, step 4, before expiry, step 7)',
        request: () => anEnvoyCheck({ key: KEYS.scimExpired, body: chat('gpt-4o') }),
        status: 401,
        type: 'auth_error',
        message: /has been deactivated via SCIM/,
        param: 'user_id',
      },
      {
        name: 'an agent key without trace id whose team cannot call the model (team model access, step 2, before 2a)',
        request: () => anEnvoyCheck({ key: KEYS.agentTeamNarrow, body: chat('gpt-4o') }),
        status: 401,
        type: 'team_model_access_denied',
        message: /^team not allowed to access model/,
        param: 'model',
      },
      {
        name: 'an oversized body that also names a forbidden vector store (request size, §2.2, first)',
        request: () => anEnvoyCheck({ key: KEYS.keyVectors, body: chat('gpt-4o', { vector_store_ids: ['vs-2'] }), headers: { 'content-length': String(2 * MB) } }),
        status: 400,
        type: 'bad_request_error',
        message: /^Request size is too large/,
        param: 'content-length',
      },
    ];

    for (const row of denials) {
      it(`denies ${row.name} (${row.status} ${row.type})`, async () => {
        const denial = denialOf(await client.check(row.request()));
        expect(denial.type, denial.message).to.equal(row.type);
        expect(denial.code).to.equal(String(row.status));
        expect(Number(denial.httpStatus) || httpStatusByName(denial.httpStatus)).to.equal(row.status);
        expect(denial.grpcCode).to.equal(row.status === 401 ? 16 : 7);
        if (row.message instanceof RegExp) expect(denial.message).to.match(row.message);
        else expect(denial.message).to.equal(typeof row.message === 'string' ? row.message : row.message());
        expect(denial.param).to.equal(row.param);
        expect(denial.contentType).to.equal('application/json');
      });
    }

    const allowed: Array<{ name: string; request: () => CheckRequest }> = [
      { name: "an agent's key sending x-litellm-trace-id", request: () => anEnvoyCheck({ key: KEYS.agent, body: chat('gpt-4o'), headers: { 'x-litellm-trace-id': 'trace-123' } }) },
      { name: 'a vector store in the key allowlist', request: () => anEnvoyCheck({ key: KEYS.keyVectors, body: chat('gpt-4o', { vector_store_ids: ['vs-1'] }) }) },
      { name: 'an allowed tool', request: () => anEnvoyCheck({ key: KEYS.tools, body: withTool('ls') }) },
      { name: 'api_base for a deployment that opts in (configurable_clientside_auth_params)', request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o-mini', { api_base: 'https://my-azure.example' }) }) },
      { name: 'a routable client-side fallback', request: () => anEnvoyCheck({ key: KEYS.team, body: chat('gpt-4o', { fallbacks: ['gpt-4o-mini'] }) }) },
      { name: 'a per-model budget that another model does not share', request: () => anEnvoyCheck({ key: KEYS.modelBudget, body: chat('gpt-4o-mini') }) },
      { name: 'the master key, whatever the body', request: () => anEnvoyCheck({ key: MASTER_KEY, body: chat('gpt-4o', { vector_store_ids: ['vs-2'] }) }) },
    ];
    for (const row of allowed) {
      it(`allows ${row.name}`, async () => {
        const response = await client.check(row.request());
        expect(isAllowed(response), response.denied_response?.body).to.equal(true);
      });
    }
  });
}

function httpStatusByName(name: string | number | undefined): number | undefined {
  const byName: Record<string, number> = { BadRequest: 400, Unauthorized: 401, Forbidden: 403 };
  return typeof name === 'string' ? byName[name] : undefined;
}
