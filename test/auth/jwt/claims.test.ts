import { expect } from 'chai';
import { claimAt, idAt, MISSING, scopesOf, stringsAt } from '../../../src/auth/jwt/claims';

const claims = {
  sub: 'alice',
  numeric_id: 42,
  empty: '',
  nothing: null,
  groups: ['team-a', 'team-b', 7],
  realm_access: { roles: ['llm-user', 'offline_access'] },
  'kubernetes.io': { namespace: 'prod' },
  resource_access: { litellm: { roles: 'admin' } },
};

describe('claims (LiteLLM get_nested_value, get_scopes)', () => {
  describe('claimAt', () => {
    it('reads a top-level claim and a dot path', () => {
      expect(claimAt(claims, 'sub')).to.equal('alice');
      expect(claimAt(claims, 'realm_access.roles')).to.deep.equal(['llm-user', 'offline_access']);
    });

    it('drops a leading "metadata." (test_metadata_prefix_handling_in_nested_fields)', () => {
      expect(claimAt(claims, 'metadata.realm_access.roles')).to.deep.equal(['llm-user', 'offline_access']);
    });

    it('reads keys containing dots when escaped with a backslash', () => {
      expect(claimAt(claims, 'kubernetes\\.io.namespace')).to.equal('prod');
    });

    it('is MISSING for absent paths, paths through lists or strings, and an empty path', () => {
      expect(claimAt(claims, 'nope')).to.equal(MISSING);
      expect(claimAt(claims, 'groups.0')).to.equal(MISSING);
      expect(claimAt(claims, 'sub.length')).to.equal(MISSING);
      expect(claimAt(claims, '')).to.equal(MISSING);
      expect(claimAt(claims, null)).to.equal(MISSING);
    });

    it('tells a present null from a missing claim', () => {
      expect(claimAt(claims, 'nothing')).to.equal(null);
    });

    it('does not walk into the prototype', () => {
      expect(claimAt(claims, 'constructor')).to.equal(MISSING);
      expect(claimAt(claims, '__proto__')).to.equal(MISSING);
    });
  });

  describe('idAt', () => {
    it('takes strings, numbers (as Python str()), and the first element of a list', () => {
      expect(idAt(claims, 'sub')).to.equal('alice');
      expect(idAt(claims, 'numeric_id')).to.equal('42');
      expect(idAt(claims, 'groups')).to.equal('team-a');
    });

    it('is null for empty, null, objects and missing claims', () => {
      for (const path of ['empty', 'nothing', 'realm_access', 'missing']) expect(idAt(claims, path), path).to.equal(null);
    });
  });

  describe('stringsAt', () => {
    it('keeps the strings of a list, and makes a lone string a one-element list', () => {
      expect(stringsAt(claims, 'groups')).to.deep.equal(['team-a', 'team-b']);
      expect(stringsAt(claims, 'resource_access.litellm.roles')).to.deep.equal(['admin']);
    });

    it('is null when missing, null, or neither a string nor a list', () => {
      expect(stringsAt(claims, 'missing')).to.equal(null);
      expect(stringsAt(claims, 'nothing')).to.equal(null);
      expect(stringsAt(claims, 'realm_access')).to.equal(null);
    });
  });

  describe('scopesOf', () => {
    it('splits a space-separated scope string; takes a list as is; none when absent', () => {
      expect(scopesOf({ scope: 'openid  email litellm_proxy_admin' })).to.deep.equal(['openid', 'email', 'litellm_proxy_admin']);
      expect(scopesOf({ scope: ['a', 'b'] })).to.deep.equal(['a', 'b']);
      expect(scopesOf({})).to.deep.equal([]);
    });

    it("refuses any other type with LiteLLM's message (401)", () => {
      expect(scopesOf({ scope: 3 })).to.deep.equal({
        status: 401,
        type: 'auth_error',
        message: "Authentication Error, Unmapped scope type - <class 'int'>. Supported types - list, str.",
        param: 'None',
      });
      expect(scopesOf({ scope: { a: 1 } })).to.have.property('message').that.includes("<class 'dict'>");
    });
  });
});
