import { expect } from 'chai';
import { maskUserId, routeRbac } from '../../src/checks/route-rbac';
import { aKey, aTeam, aUser, decide } from './fixtures';

const onRoute = (route: string, method = 'POST') => ({ route, path: route, method, model: null });

describe('route RBAC — §6.3', () => {
  it('allows a proxy_admin user on any route', () => {
    expect(decide(routeRbac, { request: onRoute('/user/new'), snapshot: { user: aUser({ user_role: 'proxy_admin' }) } })).to.equal(null);
  });

  it('treats a key without a user as non-admin: management routes are refused (401 auth_error)', () => {
    expect(decide(routeRbac, { request: onRoute('/user/new') })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message:
        'Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/user/new. Your role=unknown. Your user_id=*******',
      param: 'None',
    });
  });

  it("masks the user id to 6 + 2 characters in the refusal", () => {
    const denial = decide(routeRbac, {
      request: onRoute('/user/new'),
      snapshot: { key: aKey({ user_id: 'user-12345678' }), user: aUser({ user_id: 'user-12345678', user_role: 'internal_user' }) },
    });
    expect(denial?.message).to.match(/Your role=internal_user\. Your user_id=user-1\*{5}78$/);
    expect(maskUserId('abcd')).to.equal('***');
    // SensitiveDataMasker masks whole any value no longer than prefix + suffix (6 + 2).
    expect(maskUserId('user123')).to.equal('*******');
    expect(maskUserId('user1234')).to.equal('********');
    expect(maskUserId('user12345')).to.equal('user12*45');
    expect(maskUserId('ü😀ser12345')).to.equal('ü😀ser1**45');
  });

  const allowedRows: readonly (readonly [string, string, Parameters<typeof decide>[1]])[] = [
    ['LLM routes for anyone', '/chat/completions', {}],
    ['info routes', '/key/info', {}],
    ['self-managed routes', '/team/member_add', {}],
    ['MCP management sub-routes', '/v1/mcp/server/abc', {}],
    ['internal_user routes for internal users', '/key/generate', { snapshot: { user: aUser({ user_role: 'internal_user' }) } }],
    ['an unknown role string counts as internal_user', '/key/generate', { snapshot: { user: aUser({ user_role: 'wizard' }) } }],
    ['view-only routes for internal_user_viewer', '/spend/logs', { snapshot: { user: aUser({ user_role: 'internal_user_viewer' }) } }],
    [
      'global spend routes with the get_spend_routes permission',
      '/global/spend/keys',
      { snapshot: { key: aKey({ permissions: { get_spend_routes: true } }) } },
    ],
    [
      'org-admin routes for an org admin of the body organization',
      '/team/new',
      {
        request: { body: { organization_id: 'org-1' } },
        snapshot: {
          user: aUser({ user_role: 'internal_user', organization_memberships: [{ user_id: 'user-1', organization_id: 'org-1', user_role: 'org_admin' }] }),
        },
      },
    ],
    ['key allowed_passthrough_routes', '/custom-pass/x', { snapshot: { key: aKey({ metadata: { allowed_passthrough_routes: ['/custom-pass'] } }) } }],
    [
      'team allowed_passthrough_routes',
      '/custom-pass/x',
      { snapshot: { key: aKey({ team_id: 'team-1' }), team: aTeam({ metadata: { allowed_passthrough_routes: ['/custom-pass'] } }) } },
    ],
    ['key allowed_routes entries (exact, prefix, wildcard)', '/spend/tags', { snapshot: { key: aKey({ allowed_routes: ['/spend*'] }) } }],
  ];
  for (const [why, route, parts] of allowedRows) {
    it(`allows ${why} (${route})`, () => {
      expect(decide(routeRbac, { ...parts, request: { ...onRoute(route), ...(parts?.request ?? {}) } })).to.equal(null);
    });
  }

  it('refuses /user/info for another user (403)', () => {
    expect(
      decide(routeRbac, {
        request: { route: '/user/info', path: '/user/info?user_id=bob', method: 'GET', model: null },
        snapshot: { key: aKey({ user_id: 'alice' }) },
      }),
    ).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: "key not allowed to access this user's info. user_id=bob, key's user_id=alice",
      param: 'None',
    });
  });

  it('allows /user/info for oneself', () => {
    expect(
      decide(routeRbac, {
        request: { route: '/user/info', path: '/user/info?user_id=alice', method: 'GET', model: null },
        snapshot: { key: aKey({ user_id: 'alice' }) },
      }),
    ).to.equal(null);
  });

  it('grants org-admin routes from a whole body only, never from a cut one', () => {
    const user = aUser({ user_role: 'internal_user', organization_memberships: [{ user_id: 'user-1', organization_id: 'org-1', user_role: 'org_admin' }] });
    const onTeamNew = (bodyTruncated: boolean) =>
      decide(routeRbac, { request: { route: '/team/new', path: '/team/new', body: { organization_id: 'org-1' }, bodyTruncated, model: null }, snapshot: { user } });
    expect(onTeamNew(false)).to.equal(null);
    expect(onTeamNew(true)?.status).to.equal(401);
  });

  it('reads the last user_id of a repeated one, as Starlette and the handler do', () => {
    const onUserInfo = (path: string) =>
      decide(routeRbac, { request: { route: '/user/info', path, method: 'GET', model: null }, snapshot: { key: aKey({ user_id: 'alice' }) } });
    expect(onUserInfo('/user/info?user_id=alice&user_id=bob')?.message).to.equal("key not allowed to access this user's info. user_id=bob, key's user_id=alice");
    expect(onUserInfo('/user/info?user_id=bob&user_id=alice')).to.equal(null);
    expect(onUserInfo('/user/info?user_id=bob&user_id='), 'an empty last value asks for no one').to.equal(null);
  });

  it('refuses admin_only_routes before anything else, even LLM routes (403)', () => {
    expect(decide(routeRbac, { policy: { adminOnlyRoutes: ['/chat/completions'] } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: 'user not allowed to access this route. Route=/chat/completions is an admin only route',
      param: 'None',
    });
  });

  describe('proxy_admin_viewer', () => {
    const viewer = { user: aUser({ user_role: 'proxy_admin_viewer' }) };

    it('may GET management routes', () => {
      expect(decide(routeRbac, { request: onRoute('/team/list', 'GET'), snapshot: viewer })).to.equal(null);
    });

    it('may not call blocked writes, whatever the method (403)', () => {
      expect(decide(routeRbac, { request: onRoute('/key/generate', 'GET'), snapshot: viewer })).to.deep.equal({
        status: 403,
        type: 'auth_error',
        message: 'user not allowed to access this route, role= proxy_admin_viewer. Trying to access: /key/generate',
        param: 'None',
      });
      expect(decide(routeRbac, { request: onRoute('/key/abc/regenerate'), snapshot: viewer })?.status).to.equal(403);
    });

    it('may POST read-like routes in admin_viewer_routes', () => {
      expect(decide(routeRbac, { request: onRoute('/spend/calculate'), snapshot: viewer })).to.equal(null);
    });

    it('may update only user_email and password on /user/update', () => {
      expect(decide(routeRbac, { request: { ...onRoute('/user/update'), body: { user_email: 'a@b' } }, snapshot: viewer })).to.equal(null);
      expect(decide(routeRbac, { request: { ...onRoute('/user/update'), body: { user_role: 'proxy_admin' } }, snapshot: viewer })?.message).to.equal(
        'user not allowed to access this route, role= proxy_admin_viewer. Trying to access: /user/update and updating invalid param: user_role. only user_email and password can be updated',
      );
    });

    it('may not POST other management routes', () => {
      expect(decide(routeRbac, { request: onRoute('/organization/new'), snapshot: viewer })?.status).to.equal(403);
    });
  });
});
