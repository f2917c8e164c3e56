import { expect } from 'chai';
import { claimIdentityOf, type ClaimIdentity } from '../../../src/auth/jwt/claim-identity';
import type { Claims } from '../../../src/auth/jwt/claims';
import { adminRouteRefusal, objectIdRefusal, rbacRefusal, requestDataModel, scopeRefusal } from '../../../src/auth/jwt/role-policy';
import { aRequest } from '../../checks/fixtures';
import { jwtSettings, type JwtConfigParts } from './fixtures';

function setup(claims: Claims, parts: JwtConfigParts): { identity: ClaimIdentity; settings: ReturnType<typeof jwtSettings> } {
  const settings = jwtSettings(parts);
  const identity = claimIdentityOf(claims, settings);
  if ('status' in identity) throw new Error(identity.message);
  return { identity, settings };
}

const chat = (model: string | null, route = '/chat/completions') =>
  aRequest({ route, path: route, body: model === null ? { messages: [] } : { model, messages: [] }, model });

describe('JWT role policy (litellm-auth.md §3.3 steps 3, 4, 6, 10)', () => {
  describe('enforce_rbac with general_settings.role_permissions', () => {
    const parts = {
      jwtauth: { enforce_rbac: true, team_id_jwt_field: 'tid', user_id_jwt_field: 'sub' },
      general: { role_permissions: [{ role: 'team', models: ['gpt-4o'], routes: ['openai_routes', '/v1/models'] }, { role: 'internal_user' }] },
    };

    it('is off by default: an unmatched token passes', () => {
      const { identity, settings } = setup({}, { jwtauth: {} });
      expect(rbacRefusal(identity, settings, chat('gpt-4o'))).to.equal(null);
    });

    it('refuses a token that matches no role (403)', () => {
      const { identity, settings } = setup({ foo: 1 }, parts);
      expect(rbacRefusal(identity, settings, chat('gpt-4o'))).to.deep.equal({
        status: 403,
        type: 'auth_error',
        message: 'Unmatched token passed in. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.',
        param: 'None',
      });
    });

    it("refuses a model outside the role's models (403), allows one inside", () => {
      const { identity, settings } = setup({ tid: 't1' }, parts);
      expect(rbacRefusal(identity, settings, chat('gpt-4o'))).to.equal(null);
      expect(rbacRefusal(identity, settings, chat('claude-3'))?.message).to.equal(
        "Role=team not allowed to call model=claude-3. Allowed models=['gpt-4o']",
      );
    });

    it('passes a request without a model', () => {
      const { identity, settings } = setup({ tid: 't1' }, parts);
      expect(rbacRefusal(identity, settings, chat(null))).to.equal(null);
    });

    it("refuses the model LiteLLM's handler serves (the path's or ?model=) outside the role's models, though the body names one inside", () => {
      const { identity, settings } = setup({ tid: 't1', sub: 'u1' }, parts);
      for (const route of ['/openai/deployments/o3/chat/completions', '/chat/completions?model=o3']) {
        const request = aRequest({ route: route.split('?')[0], path: route, body: { model: 'gpt-4o', messages: [] }, model: ['gpt-4o', 'o3'] });
        expect(rbacRefusal(identity, settings, request)?.message, route).to.equal(
          "Role=team not allowed to call model=o3. Allowed models=['gpt-4o']",
        );
      }
      const same = aRequest({ route: '/chat/completions', path: '/chat/completions?model=gpt-4o', body: { model: 'gpt-4o', messages: [] } });
      expect(rbacRefusal(identity, settings, same), 'the same model').to.equal(null);
    });

    it("refuses a route outside the role's routes (group names or literal routes)", () => {
      const { identity, settings } = setup({ tid: 't1' }, parts);
      expect(rbacRefusal(identity, settings, aRequest({ route: '/v1/models', path: '/v1/models', body: null, model: null }))).to.equal(null);
      expect(rbacRefusal(identity, settings, aRequest({ route: '/key/generate', path: '/key/generate', body: null, model: null }))?.message).to.equal(
        "Role=team not allowed to call route=/key/generate. Allowed routes=['openai_routes', '/v1/models']",
      );
    });

    it('a role without a role_permissions entry (or with null lists) is not limited', () => {
      const { identity, settings } = setup({ sub: 'u1' }, parts);
      expect(rbacRefusal(identity, settings, chat('anything', '/key/generate'))).to.equal(null);
    });
  });

  describe('enforce_scope_based_access with scope_mappings', () => {
    const jwtauth = {
      enforce_scope_based_access: true,
      scope_mappings: [
        { scope: 'llm:gpt', models: ['gpt-4o', 'gpt-4o-mini'] },
        { scope: 'llm:claude', models: ['claude-3'] },
      ],
    };

    it('allows a model granted by one of the token scopes', () => {
      const { identity, settings } = setup({ scope: 'openid llm:gpt' }, { jwtauth });
      expect(scopeRefusal(identity, settings, chat('gpt-4o-mini'))).to.equal(null);
    });

    it('refuses any other model (403, the {"error": …} detail)', () => {
      const { identity, settings } = setup({ scope: 'llm:gpt' }, { jwtauth });
      expect(scopeRefusal(identity, settings, chat('claude-3'))).to.deep.equal({
        status: 403,
        type: 'auth_error',
        message: "{'error': \"model=claude-3 not allowed. Allowed_models=['gpt-4o', 'gpt-4o-mini']\"}",
        param: 'None',
      });
    });

    it("refuses the model LiteLLM's handler serves outside the token's scopes, though the body names one inside", () => {
      const { identity, settings } = setup({ scope: 'llm:gpt' }, { jwtauth });
      const request = aRequest({ route: '/v1/chat/completions', path: '/v1/chat/completions?model=claude-3', body: { model: 'gpt-4o', messages: [] } });
      expect(scopeRefusal(identity, settings, request)?.message).to.include("model=claude-3 not allowed. Allowed_models=['gpt-4o', 'gpt-4o-mini']");
      const inside = aRequest({ route: '/v1/chat/completions', path: '/v1/chat/completions?model=gpt-4o-mini', body: { model: 'gpt-4o', messages: [] } });
      expect(scopeRefusal(identity, settings, inside)).to.equal(null);
    });

    it('passes requests without a model (scope_mappings without enforce_scope_based_access does not start: settings.test.ts)', () => {
      const on = setup({ scope: '' }, { jwtauth });
      expect(scopeRefusal(on.identity, on.settings, chat(null))).to.equal(null);
    });
  });

  describe('admin_allowed_routes', () => {
    it('admits the default groups (management, spend tracking, global spend, info)', () => {
      const settings = jwtSettings();
      for (const route of ['/key/generate', '/team/new', '/spend/logs', '/global/spend', '/model/info']) {
        expect(adminRouteRefusal(settings, route), route).to.equal(null);
      }
    });

    it('refuses other routes with a plain exception (401), listing the expanded routes', () => {
      const settings = jwtSettings({ jwtauth: { admin_allowed_routes: ['/key/generate', 'master_key_only_routes'] } });
      expect(adminRouteRefusal(settings, '/chat/completions')).to.deep.equal({
        status: 401,
        type: 'auth_error',
        message:
          "Authentication Error, Admin not allowed to access this route. Route=/chat/completions, Allowed Routes=['/key/generate', '/global/spend/reset', '/memory-usage-in-mem-cache', '/memory-usage-in-mem-cache-items']",
        param: 'None',
      });
    });
  });

  describe('validate_object_id (general_settings.enforce_rbac)', () => {
    it('refuses a non-admin token with neither user nor team (403)', () => {
      const settings = jwtSettings({ general: { enforce_rbac: true } });
      expect(objectIdRefusal(settings, null, null)?.status).to.equal(403);
      expect(objectIdRefusal(settings, 'u', null)).to.equal(null);
      expect(objectIdRefusal(settings, null, 't')).to.equal(null);
    });

    it('reads general_settings.enforce_rbac, not litellm_jwtauth.enforce_rbac (as LiteLLM)', () => {
      expect(objectIdRefusal(jwtSettings({ jwtauth: { enforce_rbac: true } }), null, null)).to.equal(null);
    });
  });

  it("requestDataModel: the body's model as sent, else the parsed model", () => {
    expect(requestDataModel(aRequest({ body: { model: 'a,b' }, model: ['a', 'b'] }))).to.equal('a,b');
    expect(requestDataModel(aRequest({ body: null, model: 'from-path' }))).to.equal('from-path');
    expect(requestDataModel(aRequest({ body: {}, model: null }))).to.equal(null);
  });
});
