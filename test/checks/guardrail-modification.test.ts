import { expect } from 'chai';
import { guardrailModification } from '../../src/checks/guardrail-modification';
import type { Json } from '../../src/domain/entities';
import { aTeam, decide } from './fixtures';

describe('guardrail modification — §4 step 8', () => {
  const body = { model: 'gpt-4o', metadata: { guardrails: ['pii'] } };
  const lockedTeam = aTeam({ metadata: { guardrails: { modify_guardrails: false } } });
  const refuses = (requestBody: Record<string, Json>): boolean =>
    decide(guardrailModification, { request: { body: requestBody }, snapshot: { team: lockedTeam } })?.status === 403;

  it('denies metadata.guardrails for a team that may not modify guardrails (403)', () => {
    expect(decide(guardrailModification, { request: { body }, snapshot: { team: lockedTeam } })).to.deep.equal({
      status: 403,
      type: 'auth_error',
      message: "{'error': 'Your team does not have permission to modify guardrails.'}",
      param: 'None',
    });
  });

  const toggles: ReadonlyArray<[string, Record<string, Json>]> = [
    ['metadata.disable_global_guardrails', { metadata: { disable_global_guardrails: true } }],
    ['metadata.disable_global_guardrail (singular)', { metadata: { disable_global_guardrail: true } }],
    ['metadata.opted_out_global_guardrails', { metadata: { opted_out_global_guardrails: ['pii'] } }],
    ['litellm_metadata.guardrails', { litellm_metadata: { guardrails: ['pii'] } }],
    ['litellm_metadata.disable_global_guardrails as a JSON string', { litellm_metadata: '{"disable_global_guardrails": true}' }],
    ['disable_global_guardrails at the body root', { disable_global_guardrails: true }],
    ['guardrails at the body root', { guardrails: ['pii'] }],
    ['a present but empty metadata.guardrails (presence, not truthiness)', { metadata: { guardrails: [] } }],
    ['a toggle set to false (presence, not value)', { metadata: { disable_global_guardrails: false } }],
  ];
  for (const [name, requestBody] of toggles) {
    it(`denies ${name} for a locked team, as newer LiteLLM does (403)`, () => {
      expect(refuses({ model: 'gpt-4o', ...requestBody })).to.equal(true);
    });
  }

  it('reads metadata sent as a JSON string, as newer LiteLLM does', () => {
    const asText = { model: 'gpt-4o', metadata: JSON.stringify({ guardrails: ['pii'] }) };
    expect(refuses(asText)).to.equal(true);
    expect(refuses({ metadata: 'not json' })).to.equal(false);
    expect(refuses({ metadata: '["guardrails"]' })).to.equal(false);
  });

  it('allows unrelated metadata and keys nested deeper than LiteLLM looks', () => {
    expect(refuses({ model: 'gpt-4o', metadata: { tags: ['a'] } })).to.equal(false);
    expect(refuses({ model: 'gpt-4o', metadata: { nested: { guardrails: ['pii'] } } })).to.equal(false);
    expect(refuses({ model: 'gpt-4o', extra: { disable_global_guardrails: true } })).to.equal(false);
  });

  it('refuses a locked team a body Envoy cut short, toggle seen or not: one past the cut would go unchecked (403, a deliberate difference)', () => {
    const denial = decide(guardrailModification, { request: { body: { model: 'gpt-4o' }, bodyTruncated: true }, snapshot: { team: lockedTeam } });
    expect(denial?.status).to.equal(403);
    expect(denial?.type).to.equal('auth_error');
    expect(denial?.message).to.contain('cut short by Envoy');
    expect(decide(guardrailModification, { request: { body, bodyTruncated: true }, snapshot: { team: lockedTeam } })?.status).to.equal(403);
  });

  it('lets a cut body through for a team that may modify guardrails, and without a team', () => {
    expect(decide(guardrailModification, { request: { body, bodyTruncated: true }, snapshot: { team: aTeam() } })).to.equal(null);
    expect(decide(guardrailModification, { request: { body, bodyTruncated: true } })).to.equal(null);
  });

  it('allows without a team and with a team that did not forbid it', () => {
    expect(decide(guardrailModification, { request: { body } })).to.equal(null);
    expect(decide(guardrailModification, { request: { body }, snapshot: { team: aTeam() } })).to.equal(null);
    const unlocked = aTeam({ metadata: { guardrails: { modify_guardrails: true } } });
    expect(decide(guardrailModification, { request: { body: { disable_global_guardrails: true } }, snapshot: { team: unlocked } })).to.equal(null);
  });
});
