import { expect } from 'chai';
import {
  COMMON_CHECKS,
  KEY_CHECKS,
  PRE_DB_CHECKS,
  PRE_KEY_CHECKS,
  ROUTE_PERMISSION_CHECKS,
  VIRTUAL_KEY_PIPELINE,
} from '../../src/checks/order';
import { runChecks } from '../../src/checks/engine';
import { aBudget, aKey, aProject, aTag, aTeam, aUser, aContext, anAgent, anEndUser, anObjectPermission, permissionsById } from './fixtures';

describe('the ordered check list — §2.2 → §2.5 → §2.7 → §4 → §6.4', () => {
  it("lists the checks in LiteLLM's order", () => {
    expect(VIRTUAL_KEY_PIPELINE.map((c) => c.name)).to.deep.equal([
      'request_size',
      'multipart_form', // Tollgate's own
      'request_body_safety',
      'request_tag_count', // Tollgate's own
      'allowed_ips',
      'proxy_allowed_routes',
      'disabled_routes', // §2.7 step 14's enterprise hook, moved before the credential (every caller)
      'end_user_budget_before_key_lookup',
      'master_key_only_route',
      'virtual_key_format',
      'key_found',
      'key_blocked',
      'key_model_access',
      'user_scim_deactivated',
      'team_member_budget_key_path',
      'key_expired',
      'key_budget',
      'key_model_budget',
      'user_model_budget',
      'team_model_budget',
      'end_user_model_budget',
      'team_blocked',
      'team_model_access',
      'team_member_model_access',
      'agent_trace_id',
      'user_model_access',
      'project_blocked',
      'project_model_access',
      'project_budget',
      'team_budget',
      'team_window_budgets',
      'key_window_budgets',
      'organization_budget',
      'tag_budget',
      'personal_user_budget',
      'user_window_budgets',
      'team_member_budget',
      'team_member_model_budget', // 4.3 [newer]
      'end_user_budget',
      'end_user_window_budgets',
      'enforce_user_param',
      'reject_clientside_metadata_tags',
      'global_proxy_budget',
      'guardrail_modification',
      'organization_rbac',
      'route_rbac',
      'vector_store_access',
      'tool_allowlist',
      'key_allowed_routes',
      'invalid_json_body', // newer LiteLLM: raised after every other check
    ]);
  });

  it('is the concatenation of the phase lists', () => {
    expect(VIRTUAL_KEY_PIPELINE).to.deep.equal([
      ...PRE_DB_CHECKS,
      ...PRE_KEY_CHECKS,
      ...KEY_CHECKS,
      ...COMMON_CHECKS,
      ...ROUTE_PERMISSION_CHECKS,
    ]);
  });

  it('gives every check a unique snake_case name, a spec reference, and its statuses and error types', () => {
    const names = VIRTUAL_KEY_PIPELINE.map((c) => c.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const check of VIRTUAL_KEY_PIPELINE) {
      expect(check.name).to.match(/^[a-z][a-z0-9_]*$/);
      expect(check.spec).to.match(/§/);
      expect(check.statuses?.length ?? 0, check.name).to.be.greaterThan(0);
      expect(check.errorTypes?.length ?? 0, check.name).to.be.greaterThan(0);
    }
  });

  it('keeps the key-only checks out of COMMON_CHECKS (reusable by identities without a key)', () => {
    const common = COMMON_CHECKS.map((c) => c.name);
    for (const keyOnly of KEY_CHECKS.map((c) => c.name)) expect(common).to.not.include(keyOnly);
  });

  it('cannot be mutated', () => {
    expect(Object.isFrozen(VIRTUAL_KEY_PIPELINE)).to.equal(true);
    expect(Object.isFrozen(COMMON_CHECKS)).to.equal(true);
  });
});

describe('first refusal in LiteLLM order wins — §2.7, §4', () => {
  const run = (parts: Parameters<typeof aContext>[0]) => runChecks(aContext(parts), VIRTUAL_KEY_PIPELINE)?.check ?? null;

  it('a blocked, expired key reports "blocked" (expiry is checked after blocked) — §2.7 step 7', () => {
    expect(run({ snapshot: { key: aKey({ blocked: true, expires: new Date('2020-01-01T00:00:00Z') }) } })).to.equal('key_blocked');
  });

  it('an expired key without model access reports the model refusal (expiry after model) — §2.7 step 7', () => {
    expect(run({ snapshot: { key: aKey({ models: ['o1'], expires: new Date('2020-01-01T00:00:00Z') }) } })).to.equal('key_model_access');
  });

  it('an end user over budget is refused before the key is even looked up — §2.5', () => {
    expect(run({ snapshot: { key: null, endUser: anEndUser({ spend: 5, budget: aBudget({ max_budget: 1 }) }) } })).to.equal(
      'end_user_budget_before_key_lookup',
    );
  });

  it('an over-budget key of a blocked team reports the key budget (key checks precede common_checks)', () => {
    const key = aKey({ team_id: 'team-1', spend: 10, max_budget: 10 });
    expect(run({ snapshot: { key, team: aTeam({ blocked: true }) } })).to.equal('key_budget');
  });

  it('a blocked team over budget reports "blocked" — §4 steps 1 and 3', () => {
    const key = aKey({ team_id: 'team-1' });
    expect(run({ snapshot: { key, team: aTeam({ blocked: true, spend: 11, max_budget: 10 }) } })).to.equal('team_blocked');
  });

  it('a team without model access and over budget reports the model refusal — §4 steps 2 and 3', () => {
    const key = aKey({ team_id: 'team-1' });
    expect(run({ snapshot: { key, team: aTeam({ models: ['o1'], spend: 11, max_budget: 10 }) } })).to.equal('team_model_access');
  });

  it('a personal key over its user budget with a tag over budget reports the tag — §4 steps 3.2 and 4.1', () => {
    const key = aKey({ user_id: 'user-1' });
    expect(
      run({
        request: { body: { model: 'gpt-4o', tags: ['prod'] } },
        snapshot: {
          key,
          user: aUser({ spend: 30, max_budget: 20 }),
          tags: [aTag({ tag_name: 'prod', spend: 2, budget: aBudget({ max_budget: 1 }) })],
        },
      }),
    ).to.equal('tag_budget');
  });

  it('a key outside its allowed_routes on an over-budget team reports the budget (allowed_routes runs last) — §6.4', () => {
    const key = aKey({ team_id: 'team-1', allowed_routes: ['/embeddings'] });
    expect(run({ snapshot: { key, team: aTeam({ spend: 11, max_budget: 10 }) } })).to.equal('team_budget');
  });

  it('a deactivated user’s expired key reports SCIM (step 4 precedes expiry, step 7) — §2.7', () => {
    const key = aKey({ user_id: 'user-1', expires: new Date('2020-01-01T00:00:00Z') });
    expect(run({ snapshot: { key, user: aUser({ metadata: { scim_active: false } }) } })).to.equal('user_scim_deactivated');
  });

  it('a deactivated user’s key without model access reports the model refusal (step 3 before step 4) — §2.7', () => {
    const key = aKey({ user_id: 'user-1', models: ['o1'] });
    expect(run({ snapshot: { key, user: aUser({ metadata: { scim_active: false } }) } })).to.equal('key_model_access');
  });

  it('a key over max_budget and over a model budget reports the key budget (max before per-model) — §2.7 step 8', () => {
    const key = aKey({ spend: 10, max_budget: 10, model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } }, model_spend: { 'gpt-4o': 2 } });
    expect(run({ snapshot: { key } })).to.equal('key_budget');
  });

  it('a key over its model budget in a blocked team reports the model budget (key checks first) — §2.7 step 8, §4 step 1', () => {
    const key = aKey({ team_id: 'team-1', model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } }, model_spend: { 'gpt-4o': 2 } });
    expect(run({ snapshot: { key, team: aTeam({ blocked: true }) } })).to.equal('key_model_budget');
  });

  it('per-model budgets report the key, then the user, then the team, then the end user, all before a blocked team — §2.7 step 8, §4 step 1', () => {
    const daily = { 'gpt-4o': { max_budget: 0, budget_duration: '1d' } };
    const key = aKey({ user_id: 'user-1', team_id: 'team-1', model_max_budget: daily });
    const user = aUser({ model_max_budget: daily });
    const endUser = anEndUser({ budget: aBudget({ model_max_budget: daily }) });
    const team = aTeam({ blocked: true, model_max_budget: daily });
    const plainKey = aKey({ user_id: 'user-1', team_id: 'team-1' });
    expect(run({ snapshot: { key, user, endUser, team } })).to.equal('key_model_budget');
    expect(run({ snapshot: { key: plainKey, user, endUser, team } })).to.equal('user_model_budget');
    expect(run({ snapshot: { key: plainKey, user: aUser(), endUser, team } })).to.equal('team_model_budget');
    expect(run({ snapshot: { key: plainKey, user: aUser(), endUser, team: aTeam({ blocked: true }) } })).to.equal('end_user_model_budget');
  });

  it('an agent key without trace id whose team cannot call the model reports the team model refusal — §4 steps 2 and 2a', () => {
    const key = aKey({ team_id: 'team-1', agent_id: 'agent-1' });
    const agent = anAgent({ litellm_params: { require_trace_id_on_calls_by_agent: true } });
    expect(run({ snapshot: { key, agent, team: aTeam({ models: ['o1'] }) } })).to.equal('team_model_access');
  });

  it('an agent key without trace id on a blocked project reports the trace id — §4 steps 2a and P', () => {
    const key = aKey({ agent_id: 'agent-1', project_id: 'project-1' });
    const agent = anAgent({ litellm_params: { require_trace_id_on_calls_by_agent: true } });
    expect(run({ snapshot: { key, agent, project: aProject({ blocked: true }) } })).to.equal('agent_trace_id');
  });

  it('a non-admin on /organization/info without organization_id, outside its routes, reports org RBAC — §4 steps 10 and route RBAC', () => {
    expect(
      run({
        request: { route: '/organization/info', path: '/organization/info', body: {}, model: null },
        snapshot: { key: aKey({ user_id: 'user-1' }), user: aUser({ user_role: 'internal_user' }) },
      }),
    ).to.equal('organization_rbac');
  });

  it('a guardrail change by a team that may not, on /organization/new, reports the guardrail — §4 steps 8 and 10', () => {
    expect(
      run({
        request: { route: '/organization/new', path: '/organization/new', body: { metadata: { guardrails: ['pii'] } }, model: null },
        snapshot: {
          key: aKey({ team_id: 'team-1', user_id: 'user-1' }),
          team: aTeam({ metadata: { guardrails: { modify_guardrails: false } } }),
          user: aUser(),
        },
      }),
    ).to.equal('guardrail_modification');
  });

  it('a forbidden vector store and a forbidden tool report the vector store — §4 steps 11 and 12', () => {
    const key = aKey({ object_permission_id: 'p-key', metadata: { allowed_tools: ['ls'] } });
    expect(
      run({
        request: { body: { model: 'gpt-4o', vector_store_ids: ['vs-2'], tools: [{ type: 'function', function: { name: 'rm' } }] } },
        snapshot: { key, objectPermissions: permissionsById(anObjectPermission({ object_permission_id: 'p-key', vector_stores: ['vs-1'] })) },
      }),
    ).to.equal('vector_store_access');
  });

  it('a forbidden vector store on a route the key may not call reports the route RBAC first — §6.3 before §4 step 11', () => {
    const key = aKey({ object_permission_id: 'p-key' });
    expect(
      run({
        request: { route: '/team/new', path: '/team/new', body: { vector_store_ids: ['vs-2'] }, model: null },
        snapshot: { key, objectPermissions: permissionsById(anObjectPermission({ object_permission_id: 'p-key', vector_stores: ['vs-1'] })) },
      }),
    ).to.equal('route_rbac');
  });

  it('an oversized body with a banned param reports the size (§2.2 step 1 before step 2)', () => {
    expect(
      run({ request: { bodyBytes: 3 * 1024 * 1024, body: { model: 'gpt-4o', api_base: 'x' } }, policy: { maxRequestSizeMb: 1 } }),
    ).to.equal('request_size');
  });

  it('allows a request nothing refuses', () => {
    expect(run({})).to.equal(null);
  });
});
