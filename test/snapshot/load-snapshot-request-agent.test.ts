/**
 * The agent a request names (`x-litellm-agent-id`, `metadata.agent_id`) is loaded for a key without
 * an agent of its own, through the same cached lookup as the key's agent, once the key is known:
 * an unauthenticated caller's ids cause no lookup, and an id no row can hold none at all.
 */
import { expect } from 'chai';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import { agentTraceId } from '../../src/checks/agent-trace-id';
import { loadSnapshot } from '../../src/snapshot/load-snapshot';
import { isPromise } from '../../src/util/maybe-promise';
import { aContext, aKey, anAgent, aPolicy, aRequest, KEY_HASH } from '../checks/fixtures';
import { MapSharedCache } from '../support/map-shared-cache';
import { MemoryStore } from '../support/memory-store';

const POLICY = aCachePolicy({ negativeTtlMs: 60_000, sharedPrefix: 'ra:' });

describe('loadSnapshot: the agent the request names', () => {
  const naming = (agentId: string) => aRequest({ route: '/v1/chat/completions', headers: { 'x-litellm-agent-id': agentId } });
  const agentLookups = (store: MemoryStore): string[] => store.calls.filter((call) => call.startsWith('findAgent:'));

  it('looks the named agent up only once the key is known: an unknown key causes no agent lookup', async () => {
    const store = new MemoryStore();
    store.agents.set('agent-h', anAgent({ agent_id: 'agent-h', rpm_limit: 1 }));
    const unknown = await loadSnapshot(store, naming('agent-h'), KEY_HASH, aPolicy());
    expect(unknown).to.include({ key: null, agent: null });
    expect(agentLookups(store), 'unknown key').to.deep.equal([]);

    store.keys.set(KEY_HASH, aKey());
    const known = await loadSnapshot(store, naming('agent-h'), KEY_HASH, aPolicy());
    expect(known.agent?.agent_id).to.equal('agent-h');
    expect(agentLookups(store)).to.deep.equal(['findAgent:agent-h']);
  });

  it("loads the one the body's metadata names, and the key's own agent over the request's", async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    store.agents.set('agent-b', anAgent({ agent_id: 'agent-b' }));
    const fromBody = await loadSnapshot(store, aRequest({ body: { model: 'gpt-4o', metadata: { agent_id: 'agent-b' } } }), KEY_HASH, aPolicy());
    expect(fromBody.agent?.agent_id).to.equal('agent-b');

    store.keys.set(KEY_HASH, aKey({ agent_id: 'agent-k' }));
    store.calls.length = 0;
    await loadSnapshot(store, naming('agent-h'), KEY_HASH, aPolicy());
    expect(agentLookups(store)).to.deep.equal(['findAgent:agent-k']);
  });

  it('looks up no id a row cannot hold (over 255 code points, half a surrogate pair), nor anything for a request naming none', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    await loadSnapshot(store, naming('a'.repeat(256)), KEY_HASH, aPolicy());
    await loadSnapshot(store, aRequest({ body: { metadata: { agent_id: 'agent\udc00' } } }), KEY_HASH, aPolicy());
    await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(agentLookups(store)).to.deep.equal([]);
  });

  it('answers a warm Check from memory, a found agent and an unknown one alike (negative-cached): no new lookup, synchronous', async () => {
    const database = new MemoryStore();
    database.keys.set(KEY_HASH, aKey());
    database.agents.set('agent-h', anAgent({ agent_id: 'agent-h' }));
    const cached = new CachedAuthStore(database, POLICY, new MapSharedCache());
    for (const agentId of ['agent-h', 'agent-unknown']) {
      const cold = await loadSnapshot(cached, naming(agentId), KEY_HASH, aPolicy());
      const warm = loadSnapshot(cached, naming(agentId), KEY_HASH, aPolicy());
      expect(isPromise(warm), `${agentId}: answered from memory`).to.equal(false);
      expect(warm).to.deep.equal(cold);
    }
    expect(agentLookups(database)).to.deep.equal(['findAgent:agent-h', 'findAgent:agent-unknown']);
  });

  it("leaves the trace-id requirement to the key's agent: LiteLLM's common_checks reads valid_token.agent_id only", async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    store.agents.set('agent-h', anAgent({ agent_id: 'agent-h', litellm_params: { require_trace_id_on_calls_by_agent: true } }));
    const request = naming('agent-h');
    const snapshot = await loadSnapshot(store, request, KEY_HASH, aPolicy());
    expect(snapshot.agent?.agent_id).to.equal('agent-h');
    expect(agentTraceId.decide(aContext({ request, snapshot }))).to.equal(null);
  });
});
