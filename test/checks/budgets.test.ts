import { expect } from 'chai';
import { organizationBudget } from '../../src/checks/org-budget';
import { personalUserBudget } from '../../src/checks/user-budget';
import { teamMemberBudget, teamMemberBudgetOnKeyPath } from '../../src/checks/team-member-budget';
import { endUserBudget, endUserBudgetBeforeKeyLookup } from '../../src/checks/end-user-budget';
import { globalProxyBudget } from '../../src/checks/global-budget';
import { projectBudget } from '../../src/checks/project-checks';
import { tagBudget } from '../../src/checks/tag-budget';
import {
  aBudget,
  aDeployment,
  aKey,
  aMembership,
  aProject,
  aTag,
  aTeam,
  aUser,
  anEndUser,
  anOrg,
  decide,
} from './fixtures';

const freeGpt4o = { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] };

describe('organization budget — §4 step 3.1', () => {
  const orgKey = aKey({ organization_id: 'org-1' });
  const org = (spend: number, max: number | null) => anOrg({ spend, budget: aBudget({ max_budget: max }) });

  it('denies at org spend == max_budget (400, LiteLLM: >= for orgs)', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(50, 50) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Organization=org-1 Current cost: 50.0, Max budget: 50.0',
      param: null,
    });
  });

  it('allows below max_budget', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(49.9, 50) } })).to.equal(null);
  });

  it('skips a max_budget of 0 or none', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(5, 0) } })).to.equal(null);
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: org(5, null) } })).to.equal(null);
  });

  it("uses the team's organization when the key has none", () => {
    expect(
      decide(organizationBudget, {
        snapshot: { key: aKey({ team_id: 'team-1' }), team: aTeam({ organization_id: 'org-1' }), organization: org(60, 50) },
      })?.type,
    ).to.equal('budget_exceeded');
  });

  it('skips when the organization row is missing', () => {
    expect(decide(organizationBudget, { snapshot: { key: orgKey, organization: null } })).to.equal(null);
  });

  it('README §4.1: exempts info routes', () => {
    expect(
      decide(organizationBudget, { request: { route: '/v1/models', model: null }, snapshot: { key: orgKey, organization: org(60, 50) } }),
    ).to.equal(null);
  });
});

describe('personal user budget — §4 step 4.1', () => {
  const personalKey = aKey({ user_id: 'user-1' });

  it('denies a personal key when user spend > max_budget (400, ExceededBudget message)', () => {
    expect(decide(personalUserBudget, { snapshot: { key: personalKey, user: aUser({ spend: 20.5, max_budget: 20 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: User=user-1 over budget. Spend=20.5, Budget=20.0',
      param: null,
    });
  });

  it('allows at user spend == max_budget (strict >, seed behaviour)', () => {
    expect(decide(personalUserBudget, { snapshot: { key: personalKey, user: aUser({ spend: 20, max_budget: 20 }) } })).to.equal(null);
  });

  it('does not apply to team keys', () => {
    expect(
      decide(personalUserBudget, {
        snapshot: { key: aKey({ user_id: 'user-1', team_id: 'team-1' }), team: aTeam(), user: aUser({ spend: 30, max_budget: 20 }) },
      }),
    ).to.equal(null);
  });
});

describe('team-member budget — §2.7 step 6 and §4 step 4.2 (§12: two different rules)', () => {
  const key = aKey({ user_id: 'user-1', team_id: 'team-1' });
  const base = { key, team: aTeam(), user: aUser() };
  const member = (spend: number, max: number | null) => aMembership({ spend, budget: aBudget({ max_budget: max }) });

  it('key path: denies at member spend > max_budget with the default message', () => {
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...base, membership: member(5.5, 5) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Current cost: 5.5, Max budget: 5.0',
      param: null,
    });
  });

  it('key path: allows at member spend == max_budget (strict >)', () => {
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...base, membership: member(5, 5) } })).to.equal(null);
  });

  it('key path: ignores a max_budget of 0', () => {
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot: { ...base, membership: member(1, 0) } })).to.equal(null);
  });

  it('common_checks: denies at member spend == max_budget (>=) with the User/Team message', () => {
    expect(decide(teamMemberBudget, { snapshot: { ...base, membership: member(5, 5) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! User=user-1 in Team=team-1 Current cost: 5.0, Max budget: 5.0',
      param: null,
    });
  });

  it('common_checks: denies at max_budget == 0 even with no spend', () => {
    expect(decide(teamMemberBudget, { snapshot: { ...base, membership: member(0, 0) } })?.type).to.equal('budget_exceeded');
  });

  it('common_checks: needs the user row (no user → not checked)', () => {
    expect(decide(teamMemberBudget, { snapshot: { ...base, user: null, membership: member(9, 5) } })).to.equal(null);
  });

  it('both: skipped for free models and info routes', () => {
    const snapshot = { ...base, membership: member(9, 5) };
    expect(decide(teamMemberBudget, { snapshot, policy: freeGpt4o })).to.equal(null);
    expect(decide(teamMemberBudgetOnKeyPath, { snapshot, request: { route: '/key/info', model: null } })).to.equal(null);
  });
});

describe('end-user budget — §2.5 and §4 step 5', () => {
  const customer = (spend: number, max: number | null) =>
    anEndUser({ user_id: 'customer-1', spend, budget: aBudget({ max_budget: max }) });

  it('before the key lookup: denies at end-user spend > max_budget (400, ExceededBudget message)', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: customer(3.5, 3) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: End User=customer-1 over budget. Spend=3.5, Budget=3.0',
      param: null,
    });
  });

  it('before the key lookup: allows at spend == max_budget (strict >)', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: customer(3, 3) } })).to.equal(null);
  });

  it('before the key lookup: skipped on info routes', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { request: { route: '/v1/models', model: null }, snapshot: { endUser: customer(9, 3) } })).to.equal(null);
  });

  it('before the key lookup: not skipped for free models (LiteLLM decides that later)', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: customer(9, 3) }, policy: freeGpt4o })?.type).to.equal(
      'budget_exceeded',
    );
  });

  it('an unknown end user, or one without a budget, passes', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: null } })).to.equal(null);
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: anEndUser({ spend: 100 }) } })).to.equal(null);
  });

  it('common_checks step 5: same comparison, skipped for free models', () => {
    expect(decide(endUserBudget, { snapshot: { endUser: customer(9, 3) } })?.type).to.equal('budget_exceeded');
    expect(decide(endUserBudget, { snapshot: { endUser: customer(9, 3) }, policy: freeGpt4o })).to.equal(null);
  });
});

describe('global proxy budget — §4 step 7', () => {
  it('denies an LLM route when global spend > litellm_settings.max_budget (default message, YAML int kept)', () => {
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: 150.5 }, policy: { maxBudget: 100 } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Current cost: 150.5, Max budget: 100',
      param: null,
    });
  });

  it('allows at global spend == max_budget (strict >)', () => {
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: 100 }, policy: { maxBudget: 100 } })).to.equal(null);
  });

  for (const route of ['/models', '/v1/models', '/key/generate']) {
    it(`does not apply to ${route}`, () => {
      expect(decide(globalProxyBudget, { request: { route, model: null }, snapshot: { globalSpend: 500 }, policy: { maxBudget: 100 } })).to.equal(null);
    });
  }

  it('needs a positive max_budget and a known spend', () => {
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: 500 }, policy: { maxBudget: 0 } })).to.equal(null);
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: null }, policy: { maxBudget: 100 } })).to.equal(null);
  });
});

describe('project budget — §4 step P', () => {
  it('denies at project spend > max_budget (strict)', () => {
    const project = aProject({ spend: 7.25, budget: aBudget({ max_budget: 7 }) });
    expect(decide(projectBudget, { snapshot: { project } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Project=project-1 Current cost: 7.25, Max budget: 7.0',
      param: null,
    });
  });

  it('allows at spend == max_budget', () => {
    expect(decide(projectBudget, { snapshot: { project: aProject({ spend: 7, budget: aBudget({ max_budget: 7 }) }) } })).to.equal(null);
  });
});

describe('tag budgets — §4 step 3.2', () => {
  const overBudgetTag = aTag({ tag_name: 'prod', spend: 2, budget: aBudget({ max_budget: 1 }) });

  it('denies a request tagged with a tag over budget (strict >)', () => {
    expect(
      decide(tagBudget, { request: { body: { model: 'gpt-4o', metadata: { tags: ['prod'] } } }, snapshot: { tags: [overBudgetTag] } }),
    ).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Tag=prod Current cost: 2.0, Max budget: 1.0',
      param: null,
    });
  });

  it('reads top-level tags and litellm_metadata.tags (litellm_metadata wins over metadata when present)', () => {
    expect(decide(tagBudget, { request: { body: { tags: ['prod'] } }, snapshot: { tags: [overBudgetTag] } })?.type).to.equal('budget_exceeded');
    expect(
      decide(tagBudget, {
        request: { body: { litellm_metadata: { tags: ['prod'] }, metadata: { tags: [] } } },
        snapshot: { tags: [overBudgetTag] },
      })?.type,
    ).to.equal('budget_exceeded');
    expect(
      decide(tagBudget, { request: { body: { litellm_metadata: {}, metadata: { tags: ['prod'] } } }, snapshot: { tags: [overBudgetTag] } }),
    ).to.equal(null);
  });

  it('allows a tag at spend == max_budget and ignores unknown tags', () => {
    const atLimit = aTag({ tag_name: 'prod', spend: 1, budget: aBudget({ max_budget: 1 }) });
    expect(decide(tagBudget, { request: { body: { tags: ['prod', 'unknown'] } }, snapshot: { tags: [atLimit] } })).to.equal(null);
  });
});
