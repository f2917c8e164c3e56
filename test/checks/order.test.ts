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
import { aBudget, aKey, aTag, aTeam, aUser, aContext, anEndUser } from './fixtures';

describe('the ordered check list — §2.2 → §2.5 → §2.7 → §4 → §6.4', () => {
  it("lists the checks in LiteLLM's order", () => {
    expect(VIRTUAL_KEY_PIPELINE.map((c) => c.name)).to.deep.equal([
      'request_size',
      'request_body_safety',
      'allowed_ips',
      'proxy_allowed_routes',
      'end_user_budget_before_key_lookup',
      'master_key_only_route',
      'virtual_key_format',
      'key_found',
      'key_blocked',
      'key_model_access',
      'team_member_budget_key_path',
      'key_expired',
      'key_budget',
      'team_blocked',
      'team_model_access',
      'user_model_access',
      'project_blocked',
      'project_model_access',
      'project_budget',
      'team_budget',
      'organization_budget',
      'tag_budget',
      'personal_user_budget',
      'team_member_budget',
      'end_user_budget',
      'enforce_user_param',
      'reject_clientside_metadata_tags',
      'global_proxy_budget',
      'guardrail_modification',
      'route_rbac',
      'tool_allowlist',
      'key_allowed_routes',
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

  it('gives every check a unique snake_case name and a spec reference', () => {
    const names = VIRTUAL_KEY_PIPELINE.map((c) => c.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const check of VIRTUAL_KEY_PIPELINE) {
      expect(check.name).to.match(/^[a-z][a-z0-9_]*$/);
      expect(check.spec).to.match(/§/);
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

  it('allows a request nothing refuses', () => {
    expect(run({})).to.equal(null);
  });
});
