import { expect } from 'chai';
import { agentSessionCapsOf, iterationsExceededMessage, sessionBudgetExceededMessage } from '../../src/ratelimit/agent-session-caps';
import type { JsonObject } from '../../src/domain/entities';
import { agentSessionIdOf } from '../../src/ratelimit/rate-limits';
import { aKey, anAgent, aRequest, aSnapshot } from '../checks/fixtures';

const SESSION = { headers: { 'x-litellm-trace-id': 'session-abc-123' } };
const capsOf = (params: JsonObject, request: Parameters<typeof aRequest>[0] = SESSION, keyAgent: string | null = 'agent-1') =>
  agentSessionCapsOf(aSnapshot({ key: aKey({ agent_id: keyAgent }), agent: anAgent({ agent_id: 'agent-1', litellm_params: params }) }), aRequest(request));

describe("agent session caps (LiteLLM's max_iterations and max_budget_per_session, agent litellm_params)", () => {
  it("reads both caps of the key's agent for the request's session (x-litellm-trace-id)", () => {
    expect(capsOf({ max_iterations: 25, max_budget_per_session: 5 })).to.deep.equal({ agentId: 'agent-1', keyHash: null, sessionId: 'session-abc-123', maxIterations: 25, maxBudget: 5 });
  });

  it('reads the session from the body when no header names one (metadata.session_id)', () => {
    expect(capsOf({ max_iterations: 3 }, { body: { model: 'gpt-4o', metadata: { session_id: 'body-session' } } })?.sessionId).to.equal('body-session');
  });

  describe("the body's own litellm_session_id (read first by the session rate limits; LiteLLM's request setup copies only a header's id into metadata, where both hooks look)", () => {
    const withOwn = (metadata: JsonObject | null) => ({ body: { model: 'gpt-4o', litellm_session_id: 'own', ...(metadata === null ? {} : { metadata }) } });

    it('is no session to the caps alone', () => {
      expect(capsOf({ max_iterations: 3, max_budget_per_session: 1 }, withOwn(null))).to.equal(null);
    });

    it('does not stand before metadata.session_id, whose calls and spend the caps count (metering charges the session the admission names for them)', () => {
      expect(capsOf({ max_iterations: 3, max_budget_per_session: 1 }, withOwn({ session_id: 'mine' }))).to.include({ sessionId: 'mine', maxIterations: 3, maxBudget: 1 });
      expect(capsOf({ max_budget_per_session: 1 }, withOwn({ session_id: 'mine' }))).to.include({ sessionId: 'mine', maxIterations: null, maxBudget: 1 });
    });

    it("leaves a header's id and a body naming one session alone: both caps, on that session", () => {
      expect(capsOf({ max_iterations: 3, max_budget_per_session: 1 }, { ...withOwn({ session_id: 'mine' }), headers: { 'x-litellm-trace-id': 'from-header' } })).to.include({
        sessionId: 'from-header',
        maxBudget: 1,
      });
      expect(capsOf({ max_iterations: 3, max_budget_per_session: 1 }, { body: { model: 'gpt-4o', litellm_session_id: 'same', metadata: { session_id: 'same' } } })).to.include({
        sessionId: 'same',
        maxBudget: 1,
      });
    });

    it('names a long metadata.session_id by its digest, as the rate limits name it', () => {
      const request = { body: { model: 'gpt-4o', metadata: { session_id: 'x'.repeat(65) } } };
      const named = capsOf({ max_iterations: 3, max_budget_per_session: 1 }, request);
      expect(named?.sessionId).to.match(/^sha256:[0-9a-f]{64}$/).and.equal(agentSessionIdOf(aRequest(request)));
      expect(named?.maxBudget).to.equal(1);
    });
  });

  describe("routes whose metadata LiteLLM keeps in litellm_metadata (thread, assistant, batches, /v1/messages, responses, files): the header's id is written there, which both hooks read after the body's metadata", () => {
    const HEADER = { 'x-litellm-trace-id': 'from-header' };
    const on = (route: string, body: JsonObject, headers: Record<string, string> = HEADER) => ({ route, headers, body: { model: 'gpt-4o', ...body } });

    it("reads the body's metadata.session_id before a header's id there, and the header's id before litellm_metadata.session_id", () => {
      for (const route of ['/v1/responses', '/v1/messages', '/v1/threads/t-1/runs', '/v1/assistants', '/v1/batches', '/v1/files']) {
        expect(capsOf({ max_iterations: 3 }, on(route, { metadata: { session_id: 'mine' } }))?.sessionId, route).to.equal('mine');
        expect(capsOf({ max_iterations: 3 }, on(route, { metadata: { session_id: '' } }))?.sessionId, `${route}: an empty id is set`).to.equal('');
        expect(capsOf({ max_iterations: 3 }, on(route, { metadata: { session_id: null }, litellm_metadata: { session_id: 'theirs' } }))?.sessionId, route).to.equal('from-header');
      }
    });

    it('reads the header first elsewhere, as before', () => {
      expect(capsOf({ max_iterations: 3 }, on('/v1/chat/completions', { metadata: { session_id: 'mine' } }))?.sessionId).to.equal('from-header');
      expect(capsOf({ max_iterations: 3 }, on('/v1/embeddings', { metadata: { session_id: '' } }))?.sessionId).to.equal('from-header');
    });

    it('leaves the session rate limits on the header', () => {
      expect(agentSessionIdOf(aRequest(on('/v1/responses', { metadata: { session_id: 'mine' } })))).to.equal('from-header');
    });

    it('misses a container sent as a JSON string, which LiteLLM parses only after writing the header: its own id stands', () => {
      expect(capsOf({ max_iterations: 3 }, on('/v1/audio/transcriptions', { metadata: '{"session_id": "in-text"}' }))?.sessionId).to.equal('in-text');
      expect(capsOf({ max_iterations: 3 }, on('/v1/files', { litellm_metadata: '{"session_id": "in-text"}' }))?.sessionId).to.equal('in-text');
      expect(capsOf({ max_iterations: 3 }, on('/v1/audio/transcriptions', { metadata: '{"user": "u"}' }))).to.equal(null);
      expect(capsOf({ max_iterations: 3 }, on('/v1/files', { metadata: '{"session_id": "in-text"}' }))?.sessionId, 'the body metadata, parsed').to.equal('in-text');
    });
  });

  describe("an empty session id, 0 or false (LiteLLM's caps test `session_id is not None`; the session rate limits read only a truthy one)", () => {
    const bodyOf = (metadata: JsonObject, litellmMetadata: JsonObject | null = null, headers: Record<string, string> = {}) => ({
      headers,
      body: { model: 'gpt-4o', metadata, ...(litellmMetadata === null ? {} : { litellm_metadata: litellmMetadata }) },
    });

    it('counts the calls of the session it names, as str() writes it', () => {
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: '' }))).to.include({ sessionId: '', maxIterations: 3 });
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: 0 }))?.sessionId).to.equal('0');
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: false }))?.sessionId).to.equal('False');
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: null }, { session_id: '' }))?.sessionId, 'litellm_metadata when metadata sets none').to.equal('');
    });

    it("wins over an id further on, as LiteLLM reads the first set, not the first truthy; a header's id wins over it", () => {
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: '' }, { session_id: 'later' }))?.sessionId).to.equal('');
      expect(capsOf({ max_iterations: 3 }, { body: { model: 'gpt-4o', litellm_session_id: 'own', metadata: { session_id: '' } } })?.sessionId).to.equal('');
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: '' }, null, { 'x-litellm-trace-id': 'from-header' }))?.sessionId).to.equal('from-header');
      expect(capsOf({ max_iterations: 3 }, bodyOf({ session_id: 'first' }, { session_id: '' }))?.sessionId, 'a truthy first id stands').to.equal('first');
    });

    it("caps the spend of such a session too, as LiteLLM's budget limiter does", () => {
      expect(capsOf({ max_iterations: 3, max_budget_per_session: 1 }, bodyOf({ session_id: '' }))).to.include({ sessionId: '', maxIterations: 3, maxBudget: 1 });
      expect(capsOf({ max_budget_per_session: 1 }, bodyOf({ session_id: 0 }))).to.include({ sessionId: '0', maxIterations: null, maxBudget: 1 });
    });
  });

  it('caps nothing without a session, without caps, for an agent the key is not, or for a key without an agent (LiteLLM reads the key\'s agent_id), when the key\'s metadata sets no max_iterations either', () => {
    expect(capsOf({ max_iterations: 3 }, {})).to.equal(null);
    expect(capsOf({ require_trace_id_on_calls_by_agent: true })).to.equal(null);
    expect(capsOf({ max_iterations: 3 }, SESSION, 'agent-2')).to.equal(null);
    expect(capsOf({ max_iterations: 3 }, SESSION, null)).to.equal(null);
  });

  describe("the key's metadata.max_iterations (LiteLLM's fallback for keys made before agents)", () => {
    const keyCapsOf = (keyMetadata: JsonObject, agentParams: JsonObject | null, keyAgent: string | null, request: Parameters<typeof aRequest>[0] = SESSION) =>
      agentSessionCapsOf(
        aSnapshot({
          key: aKey({ token: 'key-hash-1', agent_id: keyAgent, metadata: keyMetadata }),
          agent: agentParams === null ? null : anAgent({ agent_id: 'agent-1', litellm_params: agentParams }),
        }),
        aRequest(request),
      );

    it('caps a key without an agent, counted per key (LiteLLM shares the session id across keys), with no spend cap', () => {
      expect(keyCapsOf({ max_iterations: 4 }, null, null)).to.deep.equal({ agentId: null, keyHash: 'key-hash-1', sessionId: 'session-abc-123', maxIterations: 4, maxBudget: null });
    });

    it("caps an agent's key when the agent sets none (absent or null), counted per agent as the agent's own cap", () => {
      expect(keyCapsOf({ max_iterations: 4 }, { max_budget_per_session: 2 }, 'agent-1')).to.deep.equal({ agentId: 'agent-1', keyHash: null, sessionId: 'session-abc-123', maxIterations: 4, maxBudget: 2 });
      expect(keyCapsOf({ max_iterations: 4 }, { max_iterations: null }, 'agent-1')).to.include({ agentId: 'agent-1', maxIterations: 4 });
      expect(keyCapsOf({ max_iterations: 4 }, null, 'agent-gone'), 'an agent with no row: still its counter').to.include({ agentId: 'agent-gone', maxIterations: 4, maxBudget: null });
    });

    it("prefers the agent's value, even one int() cannot read (LiteLLM's hook fails on it rather than fall back)", () => {
      expect(keyCapsOf({ max_iterations: 4 }, { max_iterations: 9 }, 'agent-1')?.maxIterations).to.equal(9);
      expect(keyCapsOf({ max_iterations: 4 }, { max_iterations: 'many' }, 'agent-1')).to.equal(null);
    });

    it("reads it as int() does, and caps nothing when it is null, unreadable or without a session", () => {
      expect(keyCapsOf({ max_iterations: '6' }, null, null)?.maxIterations).to.equal(6);
      expect(keyCapsOf({ max_iterations: 2.7 }, null, null)?.maxIterations).to.equal(2);
      expect(keyCapsOf({ max_iterations: null }, null, null)).to.equal(null);
      expect(keyCapsOf({ max_iterations: 'many' }, null, null)).to.equal(null);
      expect(keyCapsOf({ max_iterations: 4 }, null, null, {})).to.equal(null);
    });

    it('reads no max_budget_per_session from the key: LiteLLM reads only the agent\'s', () => {
      expect(keyCapsOf({ max_budget_per_session: 1 }, null, null)).to.equal(null);
      expect(keyCapsOf({ max_budget_per_session: 1 }, {}, 'agent-1')).to.equal(null);
    });
  });

  it("reads the values as Python's int() and float() do: numbers and numeric texts, a fraction of iterations truncated; anything else caps nothing", () => {
    expect(capsOf({ max_iterations: '7', max_budget_per_session: '2.5' })).to.include({ maxIterations: 7, maxBudget: 2.5 });
    expect(capsOf({ max_iterations: 3.9 })).to.include({ maxIterations: 3, maxBudget: null });
    expect(capsOf({ max_iterations: 'many', max_budget_per_session: [1] })).to.equal(null);
    expect(capsOf({ max_iterations: null, max_budget_per_session: 0 })).to.include({ maxIterations: null, maxBudget: 0 });
  });

  it("reads max_budget_per_session as Python's float() does where JavaScript's Number() differs: a boolean is 1 or 0, a hexadecimal or binary text is not a number, digits may be grouped by underscores", () => {
    expect(capsOf({ max_budget_per_session: true })?.maxBudget).to.equal(1);
    expect(capsOf({ max_budget_per_session: false })?.maxBudget).to.equal(0);
    expect(capsOf({ max_budget_per_session: '0x10' })).to.equal(null);
    expect(capsOf({ max_budget_per_session: '0b1' })).to.equal(null);
    expect(capsOf({ max_budget_per_session: ' 1_000.5 ' })?.maxBudget).to.equal(1000.5);
    expect(capsOf({ max_budget_per_session: '.5e1' })?.maxBudget).to.equal(5);
    expect(capsOf({ max_iterations: '1_0' })?.maxIterations).to.equal(10);
    expect(capsOf({ max_iterations: '9'.repeat(400), max_budget_per_session: '1e999' }), 'past what a double holds: no cap').to.equal(null);
  });

  it('names a session id past 64 characters by its digest, as its rate-limit windows do (docs/budgets.md declares the 429 text shows it so)', () => {
    const long = 's'.repeat(65);
    expect(capsOf({ max_iterations: 3 }, { headers: { 'x-litellm-trace-id': long } })?.sessionId).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(capsOf({ max_iterations: 3 }, { headers: { 'x-litellm-trace-id': long.slice(1) } })?.sessionId).to.equal(long.slice(1));
  });

  it("words LiteLLM's 429 details", () => {
    expect(iterationsExceededMessage('s-1', 4, 3)).to.equal('Max iterations exceeded for session s-1. Current count: 4, max_iterations: 3.');
    expect(sessionBudgetExceededMessage('s-1', 5.00321, 5)).to.equal('Session budget exceeded for session s-1. Current spend: $5.0032, max_budget_per_session: $5.00.');
  });
});
