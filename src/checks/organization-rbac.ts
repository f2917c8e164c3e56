/**
 * common_checks step 10 (`auth_checks_organization.organization_role_based_access_check`, the
 * newer text with "You are <role>"): who may create organizations and call the org-admin-only
 * routes, and which organization `/team/new` lands in. Proxy admins pass; a caller without a user
 * row is not checked. Every refusal is a ProxyException: 401 auth_error, message as is.
 *
 * LiteLLM loads the user with its organization memberships, so the list is never None there
 * either: its "not a member of any organization" branch cannot be reached, and a user without
 * memberships gets the "organization_id is None" / "no role" refusals instead.
 */
import type { Json, User } from '../domain/entities';
import { LITELLM_ROUTES } from '../routes/route-groups';
import type { Check, Denial } from './types';
import { deny } from './types';
import { wholeRequestBody } from './context';
import { pyList, pyStr } from './python-format';
import { authErrorFromException } from './errors';

function refuse(message: string, param: 'user_role' | 'organization_id'): Denial {
  return deny(401, 'auth_error', message, param);
}

/** Python `str()` of a role that may be None. */
function roleText(role: string | null | undefined): string {
  return role ?? 'None';
}

/** `get_user_organization_info`: the user's org ids and org id → role. */
function organizationRoles(user: User): ReadonlyMap<string, string | null> {
  return new Map(user.organization_memberships.map((m) => [m.organization_id, m.user_role]));
}

/**
 * `request_body.get("organization_id")` as LiteLLM uses it: the raw value looks the role up, so
 * only a string can match a membership (`42` finds no role in org `"42"`), and its `str()` is what
 * the messages print. Null when absent or JSON null.
 */
interface PassedOrganizationId {
  readonly lookup: string | null;
  readonly text: string;
  /** A list or object: Python's dict lookup raises TypeError on it. */
  readonly unhashable: 'list' | 'dict' | null;
}

function passedOrganizationId(body: Readonly<Record<string, Json>>): PassedOrganizationId | null {
  const value = body['organization_id'];
  if (value === undefined || value === null) return null;
  const unhashable = Array.isArray(value) ? 'list' : typeof value === 'object' ? 'dict' : null;
  return { lookup: typeof value === 'string' ? value : null, text: pyStr(value), unhashable };
}

/** The role lookup: a TypeError for a list or object, reported as LiteLLM reports an exception. */
function roleLookupError(orgId: PassedOrganizationId): Denial | null {
  return orgId.unhashable === null ? null : authErrorFromException(`unhashable type: '${orgId.unhashable}'`);
}

function roleIn(roles: ReadonlyMap<string, string | null>, orgId: PassedOrganizationId): string | null | undefined {
  return orgId.lookup === null ? undefined : roles.get(orgId.lookup);
}

function orgAdminOnlyRefusal(user: User, route: string, orgId: PassedOrganizationId | null): Denial | null {
  if (orgId === null) {
    return refuse('Passed organization_id is None, please pass an organization_id in your request', 'organization_id');
  }
  const lookupError = roleLookupError(orgId);
  if (lookupError !== null) return lookupError;
  const role = roleIn(organizationRoles(user), orgId) ?? null;
  if (role === null) {
    return refuse(
      `You do not have a role within the selected organization. Passed organization_id: ${orgId.text}. Please contact the organization admin to request access.`,
      'organization_id',
    );
  }
  if (role === 'org_admin') return null;
  return refuse(
    `You do not have the required role to perform ${route} in Organization ${orgId.text}. Your role is ${role} in Organization ${orgId.text}`,
    'user_role',
  );
}

function newTeamRefusal(user: User, route: string, orgId: PassedOrganizationId | null): Denial | null {
  if (user.organization_memberships.length === 0) return null;
  const roles = organizationRoles(user);
  if (orgId === null) {
    return refuse(
      `Passed organization_id is None, please specify the organization_id in your request. You are part of multiple organizations: ${pyList([...roles.keys()])}`,
      'organization_id',
    );
  }
  const lookupError = roleLookupError(orgId);
  if (lookupError !== null) return lookupError;
  const role = roleIn(roles, orgId);
  if (role === 'org_admin') return null;
  return refuse(
    `You do not have the required role to call ${route}. Your role is ${roleText(role)} in Organization ${orgId.text}`,
    'user_role',
  );
}

export const organizationRbac: Check = {
  name: 'organization_rbac',
  spec: 'litellm-auth.md §4 step 10, §4.10',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const user = ctx.snapshot.user;
    if (user === null) return null;
    const route = ctx.request.route;
    if (route === '/organization/new' && user.user_role !== 'proxy_admin') {
      return refuse(`Only proxy admins can create new organizations. You are ${roleText(user.user_role)}`, 'user_role');
    }
    if (user.user_role === 'proxy_admin') return null;
    const orgId = passedOrganizationId(wholeRequestBody(ctx));
    if ((LITELLM_ROUTES.org_admin_only_routes as readonly string[]).includes(route)) return orgAdminOnlyRefusal(user, route, orgId);
    if (route === '/team/new') return newTeamRefusal(user, route, orgId);
    return null;
  },
};
