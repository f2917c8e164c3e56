import { expect } from 'chai';
import { projectBlocked, projectBudget, projectModelAccess } from '../../src/checks/project-checks';
import { aBudget, aProject, decide } from './fixtures';

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
