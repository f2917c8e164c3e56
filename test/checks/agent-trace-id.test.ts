import { expect } from 'chai';
import { agentTraceId, chainIdFromHeaders } from '../../src/checks/agent-trace-id';
import type { Json } from '../../src/domain/entities';
import { aKey, anAgent, decide } from './fixtures';

describe('agent trace-id requirement — §4 step 2a', () => {
  const requiring = anAgent({ agent_id: 'agent-1', litellm_params: { require_trace_id_on_calls_by_agent: true } });
  const agentKey = aKey({ agent_id: 'agent-1' });

  it("denies an agent's key without a trace id (400 bad_request_error, param null)", () => {
    expect(decide(agentTraceId, { snapshot: { key: agentKey, agent: requiring } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message: "Requests made with this agent's key must include the x-litellm-trace-id header.",
      param: null,
    });
  });

  const headerRows: ReadonlyArray<[string, Record<string, string>, boolean]> = [
    ['x-litellm-trace-id', { 'x-litellm-trace-id': 't' }, true],
    ['x-litellm-session-id', { 'x-litellm-session-id': 's' }, true],
    ['an empty x-litellm-trace-id does not count', { 'x-litellm-trace-id': '' }, false],
    ['a vendor session header with an id-like value (newer LiteLLM)', { 'x-claude-code-session-id': 'e96634a3-fa28-4083' }, true],
    ['a vendor session header with a short value', { 'x-claude-code-session-id': 'abc' }, false],
    ['a vendor session header with other characters', { 'x-vendor-session-id': 'abc def ghi' }, false],
    ['an unrelated header', { 'x-request-id': 'abcdefghijkl' }, false],
  ];
  for (const [why, headers, sends] of headerRows) {
    it(`${sends ? 'allows' : 'denies'} with ${why} — §4 step 2a`, () => {
      expect(chainIdFromHeaders(headers) !== null).to.equal(sends);
      const denial = decide(agentTraceId, { request: { headers }, snapshot: { key: agentKey, agent: requiring } });
      expect(denial === null).to.equal(sends);
    });
  }

  const settingRows: ReadonlyArray<[string, Json | undefined, boolean]> = [
    ['setting absent', undefined, false],
    ['setting false', false, false],
    ['setting true', true, true],
    ['setting truthy ("yes")', 'yes', true],
    ['setting 0', 0, false],
  ];
  for (const [why, value, required] of settingRows) {
    it(`${required ? 'requires' : 'does not require'} a trace id with ${why}`, () => {
      const agent = anAgent({ agent_id: 'agent-1', litellm_params: value === undefined ? {} : { require_trace_id_on_calls_by_agent: value } });
      expect(decide(agentTraceId, { snapshot: { key: agentKey, agent } }) !== null).to.equal(required);
    });
  }

  it('allows a key without agent_id, and a key whose agent is unknown', () => {
    expect(decide(agentTraceId, { snapshot: { key: aKey(), agent: requiring } })).to.equal(null);
    expect(decide(agentTraceId, { snapshot: { key: agentKey, agent: null } })).to.equal(null);
  });
});
