import { expect } from 'chai';
import { guardrailModification } from '../../src/checks/guardrail-modification';
import { aTeam, decide } from './fixtures';

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

  it('reads metadata sent as a JSON string, as newer LiteLLM does', () => {
    const asText = { model: 'gpt-4o', metadata: JSON.stringify({ guardrails: ['pii'] }) };
    expect(decide(guardrailModification, { request: { body: asText }, snapshot: { team: lockedTeam } })?.status).to.equal(403);
    expect(decide(guardrailModification, { request: { body: { metadata: 'not json' } }, snapshot: { team: lockedTeam } })).to.equal(null);
  });

  it('allows without a team, with a team that did not forbid it, and with empty guardrails', () => {
    expect(decide(guardrailModification, { request: { body } })).to.equal(null);
    expect(decide(guardrailModification, { request: { body }, snapshot: { team: aTeam() } })).to.equal(null);
    expect(decide(guardrailModification, { request: { body: { metadata: { guardrails: [] } } }, snapshot: { team: lockedTeam } })).to.equal(null);
  });
});
