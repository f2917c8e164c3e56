import { expect } from 'chai';
import { organizationRbac } from '../../src/checks/organization-rbac';
import type { Json, OrganizationMembershipRow } from '../../src/domain/entities';
import { aUser, decide } from './fixtures';

const member = (organization_id: string, user_role: string | null): OrganizationMembershipRow => ({
  user_id: 'user-1',
  organization_id,
  user_role,
});

describe('organization RBAC — §4 step 10, §4.10', () => {
  const rows: ReadonlyArray<{
    why: string;
    route: string;
    role: string | null;
    memberships: OrganizationMembershipRow[];
    body: Record<string, Json>;
    message: string | null;
    param?: string;
  }> = [
    { why: 'only proxy admins create organizations', route: '/organization/new', role: 'internal_user', memberships: [], body: {}, message: 'Only proxy admins can create new organizations. You are internal_user', param: 'user_role' },
    { why: 'an org admin may not create organizations either', route: '/organization/new', role: 'org_admin', memberships: [member('o1', 'org_admin')], body: {}, message: 'Only proxy admins can create new organizations. You are org_admin', param: 'user_role' },
    { why: 'a user row without a role prints None', route: '/organization/new', role: null, memberships: [], body: {}, message: 'Only proxy admins can create new organizations. You are None', param: 'user_role' },
    { why: 'a proxy admin creates organizations', route: '/organization/new', role: 'proxy_admin', memberships: [], body: {}, message: null },
    { why: 'a proxy admin skips every other org rule', route: '/organization/delete', role: 'proxy_admin', memberships: [], body: {}, message: null },
    { why: 'an org-admin-only route needs organization_id', route: '/organization/info', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: {}, message: 'Passed organization_id is None, please pass an organization_id in your request', param: 'organization_id' },
    { why: 'a null organization_id counts as none', route: '/organization/info', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: null }, message: 'Passed organization_id is None, please pass an organization_id in your request', param: 'organization_id' },
    { why: 'a user without memberships gets the missing-organization refusal (the None branch is unreachable)', route: '/organization/member_add', role: 'internal_user', memberships: [], body: {}, message: 'Passed organization_id is None, please pass an organization_id in your request', param: 'organization_id' },
    { why: 'an org-admin-only route in an org the user is not in', route: '/organization/member_add', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: 'o2' }, message: 'You do not have a role within the selected organization. Passed organization_id: o2. Please contact the organization admin to request access.', param: 'organization_id' },
    { why: 'a membership without a role is no role', route: '/organization/member_add', role: 'internal_user', memberships: [member('o2', null)], body: { organization_id: 'o2' }, message: 'You do not have a role within the selected organization. Passed organization_id: o2. Please contact the organization admin to request access.', param: 'organization_id' },
    { why: 'an org-admin-only route as a plain member', route: '/organization/member_update', role: 'internal_user', memberships: [member('o1', 'internal_user')], body: { organization_id: 'o1' }, message: 'You do not have the required role to perform /organization/member_update in Organization o1. Your role is internal_user in Organization o1', param: 'user_role' },
    { why: 'an org admin of that org passes', route: '/organization/member_delete', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: 'o1' }, message: null },
    { why: 'org-admin-only routes match exactly (a sub-route is not one)', route: '/organization/info/x', role: 'internal_user', memberships: [], body: {}, message: null },
    { why: '/team/new by a user in organizations needs organization_id', route: '/team/new', role: 'internal_user', memberships: [member('o1', 'org_admin'), member('o2', 'internal_user')], body: {}, message: "Passed organization_id is None, please specify the organization_id in your request. You are part of multiple organizations: ['o1', 'o2']", param: 'organization_id' },
    { why: '/team/new in an org where the user is not org admin', route: '/team/new', role: 'internal_user', memberships: [member('o1', 'internal_user')], body: { organization_id: 'o1' }, message: 'You do not have the required role to call /team/new. Your role is internal_user in Organization o1', param: 'user_role' },
    { why: '/team/new in an org the user is not in prints role None', route: '/team/new', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: 'o9' }, message: 'You do not have the required role to call /team/new. Your role is None in Organization o9', param: 'user_role' },
    { why: '/team/new as org admin of the org passes', route: '/team/new', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: 'o1' }, message: null },
    { why: 'a numeric organization_id finds no role in the org of that name (LiteLLM looks the raw value up)', route: '/team/new', role: 'internal_user', memberships: [member('42', 'org_admin')], body: { organization_id: 42 }, message: 'You do not have the required role to call /team/new. Your role is None in Organization 42', param: 'user_role' },
    { why: 'nor on an org-admin-only route', route: '/organization/member_add', role: 'internal_user', memberships: [member('42', 'org_admin')], body: { organization_id: 42 }, message: 'You do not have a role within the selected organization. Passed organization_id: 42. Please contact the organization admin to request access.', param: 'organization_id' },
    { why: "a boolean prints as Python's str()", route: '/team/new', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: true }, message: 'You do not have the required role to call /team/new. Your role is None in Organization True', param: 'user_role' },
    { why: "a list cannot be looked up: Python's TypeError, reported as an exception", route: '/team/new', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: ['o1'] }, message: "Authentication Error, unhashable type: 'list'", param: 'None' },
    { why: 'nor an object', route: '/organization/member_add', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: { id: 'o1' } }, message: "Authentication Error, unhashable type: 'dict'", param: 'None' },
    { why: 'a proxy admin viewer may not create organizations', route: '/organization/new', role: 'proxy_admin_viewer', memberships: [], body: {}, message: 'Only proxy admins can create new organizations. You are proxy_admin_viewer', param: 'user_role' },
    { why: "an org admin passing another organization's id has no role there", route: '/organization/delete', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: 'o2' }, message: 'You do not have a role within the selected organization. Passed organization_id: o2. Please contact the organization admin to request access.', param: 'organization_id' },
    { why: 'an empty organization_id is passed, not None (LiteLLM tests `is None`)', route: '/organization/info', role: 'internal_user', memberships: [member('o1', 'org_admin')], body: { organization_id: '' }, message: 'You do not have a role within the selected organization. Passed organization_id: . Please contact the organization admin to request access.', param: 'organization_id' },
    { why: "an org admin creating a team in another organization", route: '/team/new', role: 'internal_user', memberships: [member('o1', 'org_admin'), member('o2', 'internal_user')], body: { organization_id: 'o2' }, message: 'You do not have the required role to call /team/new. Your role is internal_user in Organization o2', param: 'user_role' },
    { why: '/team/new by a user in no organization is not checked here', route: '/team/new', role: 'internal_user', memberships: [], body: {}, message: null },
    { why: 'other routes are not checked here', route: '/chat/completions', role: 'internal_user', memberships: [], body: { model: 'gpt-4o' }, message: null },
  ];
  for (const row of rows) {
    it(`${row.message === null ? 'allows' : 'denies (401 auth_error)'}: ${row.why} — §4.10`, () => {
      const denial = decide(organizationRbac, {
        request: { route: row.route, path: row.route, body: row.body, model: null },
        snapshot: { user: aUser({ user_role: row.role, organization_memberships: row.memberships }) },
      });
      if (row.message === null) {
        expect(denial).to.equal(null);
      } else {
        expect(denial).to.deep.equal({ status: 401, type: 'auth_error', message: row.message, param: row.param });
      }
    });
  }

  it('does not take organization_id from a body Envoy cut short: a later duplicate past the cut would win in LiteLLM', () => {
    const user = aUser({ user_role: 'internal_user', organization_memberships: [member('o1', 'org_admin')] });
    const onInfo = (bodyTruncated: boolean) =>
      decide(organizationRbac, { request: { route: '/organization/info', path: '/organization/info', body: { organization_id: 'o1' }, bodyTruncated, model: null }, snapshot: { user } });
    expect(onInfo(false)).to.equal(null);
    expect(onInfo(true)?.message).to.equal('Passed organization_id is None, please pass an organization_id in your request');
  });

  it('checks nothing without a user row (user_object None)', () => {
    expect(decide(organizationRbac, { request: { route: '/organization/new', path: '/organization/new' }, snapshot: { user: null } })).to.equal(null);
  });
});
