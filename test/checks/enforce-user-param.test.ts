import { expect } from 'chai';
import { enforceUserParam } from '../../src/checks/enforce-user-param';
import { decide } from './fixtures';

describe("enforce_user_param — §4 step 6", () => {
  const policy = { enforceUserParam: true };

  it("denies a POST to an LLM route without 'user' (401 auth_error)", () => {
    expect(decide(enforceUserParam, { policy })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: "Authentication Error, 'user' param not passed in. 'enforce_user_param'=True",
      param: 'None',
    });
  });

  it("allows a body with 'user', even null", () => {
    expect(decide(enforceUserParam, { policy, request: { body: { model: 'gpt-4o', user: null } } })).to.equal(null);
  });

  it('does not apply to GET, MCP routes, non-LLM routes, or when the setting is off', () => {
    expect(decide(enforceUserParam, { policy, request: { method: 'GET' } })).to.equal(null);
    expect(decide(enforceUserParam, { policy, request: { method: 'post', route: '/mcp/tools/call' } })).to.equal(null);
    expect(decide(enforceUserParam, { policy, request: { route: '/key/generate' } })).to.equal(null);
    expect(decide(enforceUserParam)).to.equal(null);
  });

  it('does not refuse a body Envoy cut short: `user` usually follows the prompt, past the prefix', () => {
    expect(decide(enforceUserParam, { policy, request: { body: null, bodyTruncated: true } })).to.equal(null);
    expect(decide(enforceUserParam, { policy, request: { body: null, bodyInvalid: true } })?.type, 'a whole body that is not JSON has no user').to.equal('auth_error');
  });

  it('is case-insensitive on the method', () => {
    expect(decide(enforceUserParam, { policy, request: { method: 'post' } })?.type).to.equal('auth_error');
  });
});
