import { expect } from 'chai';
import { projectBlocked, projectBudget, projectModelAccess } from '../../src/checks/project-checks';
import type { Check } from '../../src/checks/types';
import type { ModelDeployment } from '../../src/config/policy';
import type { Project, VirtualKey } from '../../src/domain/entities';
import type { RequestFacts } from '../../src/domain/request';
import { aBudget, aDeployment, aKey, aProject, decide } from './fixtures';

describe('project checks — §4 step P', () => {
  it("denies a blocked project (401 auth_error, \"you're\" in this message)", () => {
    expect(decide(projectBlocked, { snapshot: { project: aProject({ blocked: true }) } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: "Authentication Error, Project=project-1 is blocked. Update via `/project/update` if you're an admin.",
      param: 'None',
    });
  });

  it("denies a model outside a non-empty project list (401 project_model_access_denied)", () => {
    expect(decide(projectModelAccess, { snapshot: { project: aProject({ models: ['o1'] }) } })?.type).to.equal(
      'project_model_access_denied',
    );
  });

  it('allows any model for a project with no models, and requests without a project', () => {
    expect(decide(projectModelAccess, { snapshot: { project: aProject({ models: [] }) } })).to.equal(null);
    expect(decide(projectModelAccess)).to.equal(null);
    expect(decide(projectBlocked)).to.equal(null);
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

/**
 * `_run_project_checks` / `_project_max_budget_check` (newest auth_checks.py): the project is the
 * key's (`valid_token.project_id`), whatever its team; `spend > max_budget` with no guard on a
 * non-positive cap (unlike the organization's `max_budget <= 0` skip); skipped budgets skip it.
 */
describe('project checks — LiteLLM edge rows', () => {
  const free = [aDeployment({ modelName: 'free', inputCostPerToken: 0, outputCostPerToken: 0 })];
  const rows: ReadonlyArray<{
    why: string;
    check: Check;
    project: Project | null;
    request?: Partial<RequestFacts>;
    key?: VirtualKey;
    modelList?: readonly ModelDeployment[];
    refusal: string | null;
  }> = [
    { why: 'a cap of 0 refuses any spend above it (no positivity guard)', check: projectBudget, project: aProject({ spend: 0.01, budget: aBudget({ max_budget: 0 }) }), refusal: 'budget_exceeded' },
    { why: 'a cap of 0 with no spend passes (strict >)', check: projectBudget, project: aProject({ spend: 0, budget: aBudget({ max_budget: 0 }) }), refusal: null },
    { why: 'a negative cap refuses even at no spend', check: projectBudget, project: aProject({ spend: 0, budget: aBudget({ max_budget: -1 }) }), refusal: 'budget_exceeded' },
    { why: 'a budget row without max_budget sets no cap', check: projectBudget, project: aProject({ spend: 99, budget: aBudget({ max_budget: null }) }), refusal: null },
    { why: 'no budget row sets no cap', check: projectBudget, project: aProject({ spend: 99, budget: null }), refusal: null },
    { why: 'a missing project row is skipped, not refused (get_project_object returns None)', check: projectBudget, project: null, refusal: null },
    { why: 'a free model skips the project budget (skip_budget_checks)', check: projectBudget, project: aProject({ spend: 9, budget: aBudget({ max_budget: 1 }) }), request: { model: 'free', body: { model: 'free' } }, modelList: free, refusal: null },
    { why: 'a key with a project and no team still has its project budget checked', check: projectBudget, project: aProject({ spend: 9, budget: aBudget({ max_budget: 1 }) }), key: aKey({ project_id: 'project-1', team_id: null }), refusal: 'budget_exceeded' },
    { why: 'a blocked project refuses on a route that names no model', check: projectBlocked, project: aProject({ blocked: true }), request: { route: '/key/info', method: 'GET', body: {}, model: null }, refusal: 'auth_error' },
    { why: 'a blocked project refuses a free model too (not a budget)', check: projectBlocked, project: aProject({ blocked: true }), request: { model: 'free', body: { model: 'free' } }, modelList: free, refusal: 'auth_error' },
    { why: 'a list of models is refused when one is outside the project list', check: projectModelAccess, project: aProject({ models: ['gpt-4o'] }), request: { model: ['gpt-4o', 'o1'], body: { model: ['gpt-4o', 'o1'] } }, refusal: 'project_model_access_denied' },
    { why: 'no requested model, no project model check (`_model` falsy)', check: projectModelAccess, project: aProject({ models: ['o1'] }), request: { route: '/key/info', method: 'GET', body: {}, model: null }, refusal: null },
  ];
  for (const row of rows) {
    it(`${row.refusal === null ? 'allows' : `denies (${row.refusal})`}: ${row.why}`, () => {
      const denial = decide(row.check, {
        request: row.request,
        snapshot: { project: row.project, ...(row.key === undefined ? {} : { key: row.key }) },
        policy: row.modelList === undefined ? {} : { modelList: row.modelList },
      });
      expect(denial?.type ?? null).to.equal(row.refusal);
    });
  }
});
