import { expect } from 'chai';
import { enforceUserParam } from '../../src/checks/enforce-user-param';
import { rejectClientsideMetadataTags } from '../../src/checks/clientside-metadata-tags';
import { guardrailModification } from '../../src/checks/guardrail-modification';
import { masterKeyOnlyRoute } from '../../src/checks/master-key-only-route';
import { aTeam, decide } from './fixtures';

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

  it('is case-insensitive on the method', () => {
    expect(decide(enforceUserParam, { policy, request: { method: 'post' } })?.type).to.equal('auth_error');
  });
});

describe('reject_clientside_metadata_tags — §4 step 6b', () => {
  const policy = { rejectClientsideMetadataTags: true };

  it('denies metadata.tags on an LLM route (400 bad_request_error, param metadata.tags)', () => {
    expect(decide(rejectClientsideMetadataTags, { policy, request: { body: { metadata: { tags: ['a'] } } } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message:
        "Client-side 'metadata.tags' not allowed in request. 'reject_clientside_metadata_tags'=True. Tags can only be set via API key metadata.",
      param: 'metadata.tags',
    });
  });

  it('allows top-level tags and metadata without tags', () => {
    expect(decide(rejectClientsideMetadataTags, { policy, request: { body: { tags: ['a'] } } })).to.equal(null);
    expect(decide(rejectClientsideMetadataTags, { policy, request: { body: { metadata: {} } } })).to.equal(null);
  });
});

describe('guardrail modification — §4 step 8', () => {
  const body = { model: 'gpt-4o', metadata: { guardrails: ['pii'] } };
  const lockedTeam = aTeam({ metadata: { guardrails: { modify_guardrails: false } } });

  it('denies metadata.guardrails for a team that may not modify guardrails (403)', () => {
    expect(decide(guardrailModification, { request: { body }, snapshot: { team: lockedTeam } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: "{'error': 'Your team does not have permission to modify guardrails.'}",
      param: 'None',
    });
  });

  it('allows without a team, with a team that did not forbid it, and with empty guardrails', () => {
    expect(decide(guardrailModification, { request: { body } })).to.equal(null);
    expect(decide(guardrailModification, { request: { body }, snapshot: { team: aTeam() } })).to.equal(null);
    expect(decide(guardrailModification, { request: { body: { metadata: { guardrails: [] } } }, snapshot: { team: lockedTeam } })).to.equal(null);
  });
});

describe('master-key-only routes — §2.6 step 6', () => {
  it('denies a virtual key on /global/spend/reset (401 auth_error)', () => {
    expect(decide(masterKeyOnlyRoute, { request: { route: '/global/spend/reset', model: null } })).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: 'Authentication Error, Tried to access route=/global/spend/reset, which is only for MASTER KEY',
      param: 'None',
    });
  });

  it('allows other routes', () => {
    expect(decide(masterKeyOnlyRoute)).to.equal(null);
  });
});
