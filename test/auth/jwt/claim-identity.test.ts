import { expect } from 'chai';
import { claimIdentityOf, type ClaimIdentity } from '../../../src/auth/jwt/claim-identity';
import type { Claims } from '../../../src/auth/jwt/claims';
import { markWrittenFloats } from '../../../src/auth/jwt/written-floats';
import type { JsonObject } from '../../../src/domain/entities';
import { jwtSettings, type JwtConfigParts } from './fixtures';

function identityOf(claims: Claims, parts: JwtConfigParts = {}): ClaimIdentity {
  const identity = claimIdentityOf(claims, jwtSettings(parts));
  if ('status' in identity) throw new Error(identity.message);
  return identity;
}

describe('claims → identity (litellm-auth.md §3.3 steps 2 and 5)', () => {
  describe('RBAC role (get_rbac_role), first match wins', () => {
    const fields = { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub', user_roles_jwt_field: 'roles', user_allowed_roles: ['llm-user'] };

    it('admin scope (admin_jwt_scope) → proxy_admin, before anything else', () => {
      expect(identityOf({ scope: 'openid litellm_proxy_admin', tid: 't', sub: 'u' }, { jwtauth: fields })).to.include({ isAdmin: true, rbacRole: 'proxy_admin' });
      expect(identityOf({ scope: 'llm-admin' }, { jwtauth: { admin_jwt_scope: 'llm-admin' } })).to.include({ rbacRole: 'proxy_admin' });
    });

    it('a team id → team; then a user id → internal_user', () => {
      expect(identityOf({ tid: 't', sub: 'u' }, { jwtauth: fields }).rbacRole).to.equal('team');
      expect(identityOf({ sub: 'u' }, { jwtauth: fields }).rbacRole).to.equal('internal_user');
    });

    it("any user claim but null makes a user token, one naming no user included, as get_rbac_role's get_user_id(…) is not None", () => {
      for (const sub of ['', false, true, {}, [], 0]) {
        expect(identityOf({ sub, roles: ['x'] }, { jwtauth: fields }).rbacRole, JSON.stringify(sub)).to.equal('internal_user');
      }
      expect(identityOf({ sub: null, roles: ['x'] }, { jwtauth: fields }).rbacRole).to.equal(null);
      // So its object id names its user, where a role mapping would otherwise make it a team token.
      const jwtauth = { user_id_jwt_field: 'sub', object_id_jwt_field: 'oid', roles_jwt_field: 'groups', role_mappings: [{ role: 'eng', internal_role: 'team' }] };
      expect(identityOf({ sub: '', groups: ['eng'], oid: 'o-1' }, { jwtauth })).to.include({ rbacRole: 'internal_user', userId: 'o-1', objectTeamId: null });
      expect(identityOf({ groups: ['eng'], oid: 'o-1' }, { jwtauth })).to.include({ rbacRole: 'team', objectTeamId: 'o-1' });
    });

    it('team_id_default makes every token a team token', () => {
      expect(identityOf({}, { jwtauth: { team_id_default: 'fallback' } })).to.include({ rbacRole: 'team', specificTeamId: 'fallback', specificTeamIdIsDefault: true });
    });

    it('a user role in user_allowed_roles → internal_user; other roles → none', () => {
      expect(identityOf({ roles: ['x', 'llm-user'] }, { jwtauth: fields }).rbacRole).to.equal('internal_user');
      expect(identityOf({ roles: ['x'] }, { jwtauth: fields }).rbacRole).to.equal(null);
    });

    it('role_mappings: the first mapping (config order) whose role the token carries', () => {
      const jwtauth = {
        roles_jwt_field: 'resource_access.litellm.roles',
        role_mappings: [
          { role: 'llm-team', internal_role: 'team' },
          { role: 'llm-admin', internal_role: 'proxy_admin' },
        ],
      };
      expect(identityOf({ resource_access: { litellm: { roles: ['llm-admin', 'llm-team'] } } }, { jwtauth }).rbacRole).to.equal('team');
      expect(identityOf({ resource_access: { litellm: { roles: ['llm-admin'] } } }, { jwtauth }).rbacRole).to.equal('proxy_admin');
      expect(identityOf({ resource_access: { litellm: { roles: ['other'] } } }, { jwtauth }).rbacRole).to.equal(null);
    });

    it('a mapped proxy_admin role is no admin scope: only the scope makes an admin token', () => {
      const jwtauth = { roles_jwt_field: 'roles', role_mappings: [{ role: 'boss', internal_role: 'proxy_admin' }] };
      expect(identityOf({ roles: ['boss'] }, { jwtauth })).to.include({ rbacRole: 'proxy_admin', isAdmin: false });
    });
  });

  describe('ids', () => {
    it('user id from user_id_jwt_field, else the email claim', () => {
      const jwtauth = { user_id_jwt_field: 'sub', user_email_jwt_field: 'email' };
      expect(identityOf({ sub: 'u1', email: 'a@x.io' }, { jwtauth })).to.include({ userId: 'u1', userEmail: 'a@x.io' });
      expect(identityOf({ email: 'a@x.io' }, { jwtauth })).to.include({ userId: 'a@x.io' });
      expect(identityOf({ sub: 'u1' }, {}).userId, 'no field configured → no user').to.equal(null);
    });

    it("a user id claim that is not a string gives way to the email (LiteLLM's get_user_id defaults to it and keeps only its type)", () => {
      const jwtauth = { user_id_jwt_field: 'uid', user_email_jwt_field: 'email' };
      expect(identityOf({ uid: 12345, email: 'a@b.com' }, { jwtauth }).userId).to.equal('a@b.com');
      expect(identityOf({ uid: ['x', 'y'], email: 'a@b.com' }, { jwtauth }).userId).to.equal('a@b.com');
      expect(identityOf({ uid: 12345 }, { jwtauth }).userId, 'without an email, any id').to.equal('12345');
    });

    it('user_allowed_email_domain: other domains and a missing email are invalid (no upsert)', () => {
      const jwtauth = { user_email_jwt_field: 'email', user_allowed_email_domain: 'example.com' };
      expect(identityOf({ email: 'a@example.com' }, { jwtauth }).validUserEmail).to.equal(true);
      expect(identityOf({ email: 'a@evil.com' }, { jwtauth }).validUserEmail).to.equal(false);
      expect(identityOf({}, { jwtauth }).validUserEmail).to.equal(false);
      expect(identityOf({ email: 'a@evil.com' }, { jwtauth: { user_email_jwt_field: 'email' } }).validUserEmail).to.equal(null);
    });

    it('org id, org alias, end user id by their fields (dot paths, metadata. prefix)', () => {
      const jwtauth = { org_id_jwt_field: 'org.id', org_alias_jwt_field: 'org.name', end_user_id_jwt_field: 'metadata.customer' };
      expect(identityOf({ org: { id: 'o1', name: 'Acme' }, customer: 'c9' }, { jwtauth })).to.include({ orgId: 'o1', orgAlias: 'Acme', endUserId: 'c9' });
    });

    it('object_id_jwt_field names the team of a TEAM token and the user of an INTERNAL_USER token', () => {
      const jwtauth = { object_id_jwt_field: 'oid', role_mappings: [], team_id_jwt_field: 'tid', user_id_jwt_field: 'sub' };
      expect(identityOf({ oid: 'obj', tid: 't' }, { jwtauth })).to.include({ objectTeamId: 'obj', specificTeamId: 't' });
      expect(identityOf({ oid: 'obj', sub: 'u' }, { jwtauth })).to.include({ objectTeamId: null, userId: 'obj' });
    });

    it('team id: a missing claim takes team_id_default, a present null does not', () => {
      const jwtauth = { team_id_jwt_field: 'tid', team_id_default: 'dflt' };
      expect(identityOf({}, { jwtauth })).to.include({ specificTeamId: 'dflt', specificTeamIdIsDefault: true });
      expect(identityOf({ tid: null }, { jwtauth })).to.include({ specificTeamId: null, specificTeamIdIsDefault: false });
      expect(identityOf({ tid: ['first', 'second'] }, { jwtauth }).specificTeamId, 'a list: its first element').to.equal('first');
    });

    it("a team claim LiteLLM's lookup fails on (a float, true, an object, a list) is named for its 404 as Python prints it, and makes the token a team token", () => {
      const jwtauth = { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub', team_id_default: 'dflt' };
      const floatClaims = JSON.parse('{"tid":1.0,"sub":"u"}') as JsonObject;
      markWrittenFloats(floatClaims, `e30.${Buffer.from('{"tid":1.0,"sub":"u"}').toString('base64url')}.sig`);
      const cases: [Claims, string][] = [
        [floatClaims, '1.0'],
        [{ tid: 2.5, sub: 'u' }, '2.5'],
        [{ tid: true, sub: 'u' }, 'True'],
        [{ tid: { id: 'eng', n: 1 }, sub: 'u' }, "{'id': 'eng', 'n': 1}"],
        [{ tid: [['eng']], sub: 'u' }, "['eng']"],
        [{ tid: [true, 'eng'], sub: 'u' }, 'True'],
      ];
      for (const [claims, shown] of cases) {
        expect(identityOf(claims, { jwtauth }), shown).to.deep.include({ unreadableTeamId: shown, specificTeamId: null, rbacRole: 'team', allowedTeamIds: [] });
      }
      expect(identityOf({ tid: 42, sub: 'u' }, { jwtauth })).to.include({ unreadableTeamId: null, specificTeamId: '42' });
    });

    it('a float the token wrote beyond 2^53 (1e20) is read as Python prints it, not refused as an integer too large to read exactly', () => {
      const jwtauth = { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub', org_id_jwt_field: 'org' };
      const text = '{"tid":1e20,"sub":2.0e16,"org":[1E300]}';
      const claims = JSON.parse(text) as JsonObject;
      markWrittenFloats(claims, `e30.${Buffer.from(text).toString('base64url')}.sig`);
      expect(identityOf(claims, { jwtauth })).to.deep.include({ unreadableTeamId: '1e+20', userId: '2e+16', orgId: '1e+300' });
      // Unmarked, they may be integers JSON.parse rounded: refused.
      expect(claimIdentityOf({ sub: 2e16 }, jwtSettings({ jwtauth }))).to.deep.include({ status: 401, message: "Authentication Error, JWT claim 'sub' holds an integer too large to read exactly" });
    });

    it('a falsy team claim (false, 0, {}, [], "") names no team, without team_id_default, yet makes the token a team token as LiteLLM\'s get_rbac_role does', () => {
      const jwtauth = { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub', team_id_default: 'dflt' };
      for (const tid of [false, 0, {}, '']) {
        expect(identityOf({ tid, sub: 'u' }, { jwtauth }), JSON.stringify(tid)).to.include({ specificTeamId: null, unreadableTeamId: null, specificTeamIdIsDefault: false, rbacRole: 'team' });
      }
      // An empty list is get_team_id's default, None: no team, and the user id decides the role.
      expect(identityOf({ tid: [], sub: 'u' }, { jwtauth })).to.include({ specificTeamId: null, rbacRole: 'internal_user' });
    });

    it('the teams an x-litellm-team-id header may name: group teams plus the specific team', () => {
      const jwtauth = { team_id_jwt_field: 'tid', team_ids_jwt_field: 'groups' };
      expect(identityOf({ tid: 't0', groups: ['t1', 't2', 't0'] }, { jwtauth })).to.deep.include({ groupTeamIds: ['t1', 't2', 't0'], allowedTeamIds: ['t1', 't2', 't0'] });
      expect(identityOf({ tid: 't0', groups: ['t1'] }, { jwtauth }).allowedTeamIds).to.deep.equal(['t1', 't0']);
    });

    it('a team ids claim that is not a list names no team (LiteLLM reads it with a list default)', () => {
      const jwtauth = { team_ids_jwt_field: 'groups' };
      expect(identityOf({ groups: 'team-a' }, { jwtauth })).to.deep.include({ groupTeamIds: [], allowedTeamIds: [] });
      expect(identityOf({ groups: { a: 1 } }, { jwtauth }).groupTeamIds).to.deep.equal([]);
      expect(identityOf({ groups: ['team-a', 7] }, { jwtauth }).groupTeamIds).to.deep.equal(['team-a']);
    });
  });

  it('a scope claim of the wrong type is refused', () => {
    expect(claimIdentityOf({ scope: 1 }, jwtSettings())).to.include({ status: 401 });
  });
});
