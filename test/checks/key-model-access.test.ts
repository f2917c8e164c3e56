import { expect } from 'chai';
import { keyModelAccess } from '../../src/checks/key-model-access';
import type { Policy } from '../../src/config/policy';
import type { Json } from '../../src/domain/entities';
import { aDeployment, aKey, aPolicy, aTeam, accessGroupsById, anAccessGroup, decide } from './fixtures';

const policyWithModels = {
  modelList: [aDeployment({ modelName: 'gpt-4o' }), aDeployment({ modelName: 'gpt-4o-mini', underlyingModel: 'openai/gpt-4o-mini' })],
};

describe('key model access — §2.7 step 3', () => {
  it("denies a model outside the key's models (401 key_model_access_denied)", () => {
    expect(decide(keyModelAccess, { snapshot: { key: aKey({ models: ['o1'] }) } })).to.deep.equal({
      status: 401,
      type: 'key_model_access_denied',
      message: "key not allowed to access model. This key can only access models=['o1']. Tried to access gpt-4o",
      param: 'model',
    });
  });

  it('allows a model in the key\'s models', () => {
    expect(decide(keyModelAccess, { snapshot: { key: aKey({ models: ['gpt-4o'] }) } })).to.equal(null);
  });

  it('skips the key check when the key has a non-empty legacy config', () => {
    expect(decide(keyModelAccess, { snapshot: { key: aKey({ models: ['o1'], config: { model: 'x' } }) } })).to.equal(null);
  });

  it('skips the key check for "all-team-models" keys (the team check governs)', () => {
    expect(decide(keyModelAccess, { snapshot: { key: aKey({ models: ['all-team-models'] }) } })).to.equal(null);
  });

  it('passes when the request names no model (e.g. GET /v1/models)', () => {
    expect(
      decide(keyModelAccess, { request: { route: '/v1/models', method: 'GET', model: null, body: null }, snapshot: { key: aKey({ models: ['o1'] }) } }),
    ).to.equal(null);
  });

  it("allows an alias from the key's team model aliases", () => {
    expect(
      decide(keyModelAccess, {
        request: { model: 'team-alias' },
        snapshot: { key: aKey({ models: ['o1'], team_id: 'team-1' }), team: aTeam({ model_aliases: { 'team-alias': 'gpt-4o' } }) },
      }),
    ).to.equal(null);
  });

  it("allows a model granted by the key's DB access groups", () => {
    expect(
      decide(keyModelAccess, {
        snapshot: {
          key: aKey({ models: ['o1'], access_group_ids: ['ag-1'] }),
          accessGroups: accessGroupsById(anAccessGroup({ access_group_id: 'ag-1', access_model_names: ['gpt-4o'] })),
        },
      }),
    ).to.equal(null);
  });

  it('denies a client-side fallback the key may not call', () => {
    const denial = decide(keyModelAccess, {
      request: { body: { model: 'gpt-4o', fallbacks: ['gpt-4o-mini', { model: 'claude-3' }] } },
      snapshot: { key: aKey({ models: ['gpt-4o', 'gpt-4o-mini'] }) },
      policy: policyWithModels,
    });
    expect(denial?.type).to.equal('key_model_access_denied');
    expect(denial?.message).to.match(/Tried to access claude-3$/);
  });

  it('denies a fallback the proxy cannot route (is_valid_fallback_model, 400)', () => {
    expect(
      decide(keyModelAccess, {
        request: { body: { model: 'gpt-4o', fallbacks: ['unknown-model'] } },
        policy: policyWithModels,
      }),
    ).to.deep.equal({
      status: 400,
      type: 'auth_error',
      message:
        "{'error': '/chat/completions: Invalid model name passed in model=unknown-model. Call `/v1/models` to view available models for your key.'}",
      param: 'None',
    });
  });

  it("refuses a fallback target the key may not call in the router's {primary: [targets]} shape", () => {
    const denial = decide(keyModelAccess, {
      request: { body: { model: 'gpt-4o-mini', fallbacks: [{ 'gpt-4o-mini': ['gpt-4o'] }] }, model: 'gpt-4o-mini' },
      snapshot: { key: aKey({ models: ['gpt-4o-mini'] }) },
      policy: policyWithModels,
    });
    expect(denial).to.deep.include({ status: 401, type: 'key_model_access_denied' });
    expect(denial?.message).to.include('Tried to access gpt-4o');
  });

  it('allows routable fallbacks the key may call', () => {
    expect(
      decide(keyModelAccess, {
        request: { body: { model: 'gpt-4o', fallbacks: ['gpt-4o-mini'] } },
        policy: policyWithModels,
      }),
    ).to.equal(null);
  });
});

describe('fallback targets the key must be allowed to call, wherever the router takes them from', () => {
  const body = (extra: Record<string, Json>) => ({ model: 'gpt-4o-mini', ...extra });
  const smuggled: ReadonlyArray<readonly [string, Record<string, Json>]> = [
    ['context_window_fallbacks', { context_window_fallbacks: [{ 'gpt-4o-mini': ['gpt-4o'] }] }],
    ['content_policy_fallbacks', { content_policy_fallbacks: [{ 'gpt-4o-mini': ['gpt-4o'] }] }],
    ['router_settings_override.fallbacks', { router_settings_override: { fallbacks: [{ 'gpt-4o-mini': ['gpt-4o'] }] } }],
    ['router_settings_override.content_policy_fallbacks', { router_settings_override: { content_policy_fallbacks: ['gpt-4o'] } }],
    ["a target's own fallbacks", { fallbacks: [{ model: 'gpt-4o-mini', fallbacks: ['gpt-4o'] }] }],
    ['several rounds deep', { fallbacks: [{ 'gpt-4o-mini': [{ model: 'gpt-4o-mini', fallbacks: [{ 'gpt-4o-mini': ['gpt-4o'] }] }] }] }],
  ];
  for (const [where, extra] of smuggled) {
    it(`refuses a model the key may not call named in ${where}`, () => {
      const denial = decide(keyModelAccess, {
        request: { body: body(extra), model: 'gpt-4o-mini' },
        snapshot: { key: aKey({ models: ['gpt-4o-mini'] }) },
        policy: policyWithModels,
      });
      expect(denial, where).to.deep.include({ status: 401, type: 'key_model_access_denied' });
    });
  }

  it('passes over a target object without a model, and a router_settings_override without fallbacks', () => {
    const allowed = (extra: Record<string, Json>) =>
      decide(keyModelAccess, { request: { body: body(extra), model: 'gpt-4o-mini' }, snapshot: { key: aKey({ models: ['gpt-4o-mini'] }) }, policy: policyWithModels });
    expect(allowed({ fallbacks: [{ 'gpt-4o-mini': [{ api_base: 'http://attacker' }] }] })).to.equal(null);
    expect(allowed({ router_settings_override: { num_retries: 3 } })).to.equal(null);
  });
});

describe('client-side fallbacks validation — §2.7 step 3, §4.14', () => {
  const routable = aPolicy({
    modelList: [
      aDeployment({ modelName: 'gpt-4o', underlyingModel: 'openai/gpt-4o' }),
      aDeployment({ modelName: 'openai/*', underlyingModel: 'openai/*' }),
    ],
    modelGroupAlias: { fast: 'gpt-4o' },
  });
  const exactOnly = aPolicy({ modelList: [aDeployment({ modelName: 'gpt-4o', underlyingModel: 'openai/gpt-4o', modelId: 'deployment-7' })] });
  const rows: ReadonlyArray<{ why: string; fallbacks: Json; policy: Policy; refused: boolean }> = [
    { why: 'a model_list model_name routes', fallbacks: ['gpt-4o'], policy: routable, refused: false },
    { why: "a deployment's underlying model routes", fallbacks: ['openai/gpt-4o'], policy: routable, refused: false },
    { why: 'a model_group_alias routes', fallbacks: ['fast'], policy: routable, refused: false },
    { why: 'a wildcard deployment routes a matching model', fallbacks: ['openai/o3'], policy: routable, refused: false },
    { why: '{"model": …} entries are validated like strings', fallbacks: [{ model: 'nope' }], policy: exactOnly, refused: true },
    { why: 'a model the router does not know cannot be routed', fallbacks: ['claude-3'], policy: exactOnly, refused: true },
    { why: 'with any wildcard deployment every name routes (route_request hands it to the router)', fallbacks: ['claude-3'], policy: routable, refused: false },
    { why: "a deployment's model_info.id routes", fallbacks: ['deployment-7'], policy: exactOnly, refused: false },
    { why: "the router's {primary: [targets]} shape: each target is validated", fallbacks: [{ 'gpt-4o': ['gpt-4o', 'nope'] }], policy: exactOnly, refused: true },
    { why: "the router's shape with routable targets", fallbacks: [{ 'gpt-4o': ['gpt-4o', { model: 'deployment-7' }] }], policy: exactOnly, refused: false },
    { why: 'without a model_list nothing routes (LiteLLM raises ProxyModelNotFoundError without a router)', fallbacks: ['gpt-4o'], policy: aPolicy(), refused: true },
    { why: 'entries that are neither strings nor objects are ignored', fallbacks: [3, null, [4]], policy: exactOnly, refused: false },
    { why: 'a fallbacks value that is not a list is ignored', fallbacks: 'claude-3', policy: routable, refused: false },
  ];
  for (const row of rows) {
    it(`${row.refused ? 'denies (400 auth_error)' : 'allows'}: ${row.why} — §4.14`, () => {
      const denial = decide(keyModelAccess, { request: { body: { model: 'gpt-4o', fallbacks: row.fallbacks } }, policy: row.policy });
      expect(denial === null ? null : [denial.status, denial.type]).to.deep.equal(row.refused ? [400, 'auth_error'] : null);
    });
  }
});
