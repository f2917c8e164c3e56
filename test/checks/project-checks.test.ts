import { expect } from 'chai';
import { projectBlocked, projectModelAccess } from '../../src/checks/project-checks';
import { aProject, decide } from './fixtures';

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
