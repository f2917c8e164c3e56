/**
 * An agent's `max_iterations` and `max_budget_per_session` (ratelimit/agent-session-caps.ts) at
 * admission, on a real Redis (own key prefix, removed afterwards): counted and checked in the one
 * ADMIT script with the rate limits and budget reservations, so concurrent calls of one session
 * cannot all pass a cap (BerriAI/litellm#34732), and charged by the metering's RECORD_SPEND.
 */
import { expect } from 'chai';
import type { JsonObject } from '../../src/domain/entities';
import type { Snapshot } from '../../src/checks/types';
import { toStruct } from '../../src/envoy/messages';
import { attributionFromDecision, attributionFromMetadata } from '../../src/metering/admitted-identity';
import { RedisAdmitter, type Admission, type AdmissionOptions } from '../../src/spend/admission';
import { SpendKeys } from '../../src/spend/redis-keys';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import { aContext, aKey, anAgent, aRequest, aSnapshot } from '../checks/fixtures';
import { requireRedis, type TestRedis } from '../support/redis';
import { aRedisAdmitter, aRedisRecorder, aSpendEvent, openRedisClient, type TestRedisClient } from '../support/spend';

const TTLS = { iterationsMs: 600_000, budgetMs: 900_000 };

describe('spend: agent session caps at admission on Redis', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let keys: SpendKeys;
  let recorder: RedisSpendRecorder;
  let errors: unknown[];
  let n = 0;
  const unique = (label: string): string => `${label}-${(n += 1)}`;

  before(async function () {
    redis = await requireRedis(this);
    client = await openRedisClient();
    keys = new SpendKeys(redis.prefix);
    recorder = aRedisRecorder(client, redis.prefix, { timeoutMs: 2000, onFallback: (error) => errors.push(error), agentSessionBudgetTtlMs: TTLS.budgetMs });
  });

  beforeEach(() => {
    errors = [];
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  const admitter = (options: Partial<AdmissionOptions> = {}, admissionIds: () => string = () => unique('admission')): RedisAdmitter =>
    aRedisAdmitter(client, redis.prefix, { newAdmissionId: admissionIds, agentSessionTtls: TTLS, onError: (error) => errors.push(error), ...options });

  /** A key acting for its agent, whose litellm_params hold `params`. */
  const agentSnapshot = (agentId: string, params: JsonObject, key: Partial<Parameters<typeof aKey>[0]> = {}): Snapshot =>
    aSnapshot({ key: aKey({ token: `key-of-${agentId}`, agent_id: agentId, ...key }), agent: anAgent({ agent_id: agentId, litellm_params: params }) });
  /** A chat call of `session` whose estimate is 100 output tokens at 0.002: 0.2. */
  const callOf = (session: string | null) =>
    aRequest({
      route: '/v1/chat/completions',
      model: 'gpt-4o',
      headers: session === null ? {} : { 'x-litellm-trace-id': session },
      body: { model: 'gpt-4o', messages: [], max_tokens: 100 },
    });
  const admit = (snapshot: Snapshot, session: string | null, by = admitter()): Promise<Admission> =>
    Promise.resolve(by.admit(aContext({ snapshot, request: callOf(session), keyHash: snapshot.key?.token ?? null, now: new Date() })));
  const denialOf = (admission: Admission) => (admission.kind === 'deny' ? { check: admission.check, ...admission.denial } : null);
  const charge = async (agentId: string, session: string, cost: number, reservationId?: string): Promise<void> => {
    const chargeId = unique('charge');
    const base = aSpendEvent({ chargeId, requestId: chargeId });
    const attribution = { ...base.attribution, keyHash: `key-of-${agentId}`, agentId, agentSessionId: session, agentSessionBudget: true };
    expect(await recorder.record({ ...base, ...(reservationId === undefined ? {} : { reservationId }), cost, startTime: Date.now(), attribution })).to.equal(true);
  };

  it("admits max_iterations calls of a session, then answers LiteLLM's 429; another session, and another agent's session of that id, count apart", async () => {
    const [agent, other] = [unique('agent'), unique('agent')];
    const snapshot = agentSnapshot(agent, { max_iterations: 3 });
    for (let i = 0; i < 3; i += 1) expect((await admit(snapshot, 's-1')).kind, `call ${i + 1}`).to.equal('admit');
    expect(denialOf(await admit(snapshot, 's-1'))).to.deep.equal({
      check: 'agent_session_iterations',
      status: 429,
      type: 'None',
      param: 'None',
      message: 'Max iterations exceeded for session s-1. Current count: 4, max_iterations: 3.',
    });
    expect((await admit(snapshot, 's-2')).kind).to.equal('admit');
    expect((await admit(agentSnapshot(other, { max_iterations: 3 }), 's-1')).kind, "another agent's session of that id").to.equal('admit');
    const ttl = await client.pTTL(keys.sessionIterations(agent, 's-1'));
    expect(ttl).to.be.within(TTLS.iterationsMs - 5000, TTLS.iterationsMs);
    expect(await client.get(keys.sessionIterations(agent, 's-1')), 'a refused call takes no iteration').to.equal('3');
    expect(errors).to.deep.equal([]);
  });

  it("caps a key without an agent by its metadata.max_iterations (LiteLLM's fallback), counted per key: another key naming the session does not spend it", async () => {
    const [mine, theirs] = [unique('key'), unique('key')];
    const keyOf = (token: string, metadata: JsonObject): Snapshot => aSnapshot({ key: aKey({ token, metadata }) });
    for (let i = 0; i < 2; i += 1) expect((await admit(keyOf(theirs, { max_iterations: 100 }), 'shared')).kind, "the other tenant's call").to.equal('admit');
    for (let i = 0; i < 2; i += 1) expect((await admit(keyOf(mine, { max_iterations: 2 }), 'shared')).kind, `call ${i + 1}`).to.equal('admit');
    expect(denialOf(await admit(keyOf(mine, { max_iterations: 2 }), 'shared'))?.message).to.equal('Max iterations exceeded for session shared. Current count: 3, max_iterations: 2.');
    expect(await client.get(keys.keySessionIterations(mine, 'shared'))).to.equal('2');
    expect(await client.pTTL(keys.keySessionIterations(mine, 'shared'))).to.be.within(TTLS.iterationsMs - 5000, TTLS.iterationsMs);
    expect((await admit(keyOf(unique('key'), { max_budget_per_session: 0 }), 'shared')).kind, 'no spend cap from a key').to.equal('admit');
    expect(errors).to.deep.equal([]);
  });

  it("caps an agent's key by the key's metadata.max_iterations when the agent sets none, on the agent's session count", async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_iterations: null }, { metadata: { max_iterations: 1 } });
    expect((await admit(snapshot, 's')).kind).to.equal('admit');
    expect(denialOf(await admit(snapshot, 's'))?.check).to.equal('agent_session_iterations');
    expect(await client.get(keys.sessionIterations(agent, 's'))).to.equal('1');
  });

  it("counts the calls of an empty session id (LiteLLM's caps test `is not None`), which its agent's session rate limits do not see", async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_iterations: 1 });
    const emptySession = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [], metadata: { session_id: '' } } });
    const admitEmpty = (): Promise<Admission> => Promise.resolve(admitter().admit(aContext({ snapshot, request: emptySession, keyHash: snapshot.key?.token ?? null, now: new Date() })));
    expect((await admitEmpty()).kind).to.equal('admit');
    expect(denialOf(await admitEmpty())?.message).to.equal('Max iterations exceeded for session . Current count: 2, max_iterations: 1.');
    expect(await client.get(keys.sessionIterations(agent, ''))).to.equal('1');
  });

  it('admits exactly max_iterations of many concurrent calls of one session', async () => {
    const snapshot = agentSnapshot(unique('agent'), { max_iterations: 3 });
    const verdicts = await Promise.all(Array.from({ length: 12 }, () => admit(snapshot, 'burst')));
    expect(verdicts.filter((v) => v.kind === 'admit')).to.have.length(3);
  });

  it('takes no iteration for a call another limit refuses (the key over its rpm_limit), and caps nothing without a session', async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_iterations: 5 }, { rpm_limit: 1 });
    expect((await admit(snapshot, 's')).kind).to.equal('admit');
    expect(denialOf(await admit(snapshot, 's'))?.check).to.equal('rate_limit');
    expect(await client.get(keys.sessionIterations(agent, 's'))).to.equal('1');
    const unlimited = agentSnapshot(unique('agent'), { max_iterations: 0 });
    expect((await admit(unlimited, null)).kind).to.equal('admit');
    expect(denialOf(await admit(unlimited, 'x'))?.check).to.equal('agent_session_iterations');
  });

  it("refuses a session once the spend metering charged it reaches max_budget_per_session (LiteLLM's >=), counting no other session's", async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_budget_per_session: 0.5 });
    const admitted = await admit(snapshot, 'spender');
    expect(admitted.kind === 'admit' && admitted.metadata).to.deep.include({ agent_id: agent, agent_session_id: 'spender', agent_session_budget: true });
    await charge(agent, 'spender', 0);
    expect(await client.exists(keys.sessionBudget(agent, 'spender')), "a response that cost nothing starts no session spend (LiteLLM's response_cost <= 0)").to.equal(0);
    await charge(agent, 'spender', 0.3);
    await charge(agent, 'other-session', 5);
    expect((await admit(snapshot, 'spender')).kind).to.equal('admit');
    await charge(agent, 'spender', 0.2);
    expect(denialOf(await admit(snapshot, 'spender'))).to.deep.equal({
      check: 'agent_session_budget',
      status: 429,
      type: 'None',
      param: 'None',
      message: 'Session budget exceeded for session spender. Current spend: $0.5000, max_budget_per_session: $0.50.',
    });
    const ttl = await client.pTTL(keys.sessionBudget(agent, 'spender'));
    expect(ttl, 'from its first charge').to.be.within(TTLS.budgetMs - 5000, TTLS.budgetMs);
    expect(errors).to.deep.equal([]);
  });

  it('with budget_reservation holds what calls in flight may spend against the session, and gives it back when they are charged', async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_budget_per_session: 0.5 });
    const ids: string[] = [];
    const reserving = admitter({ reservation: { ttlMs: 60_000, defaultOutputTokens: 4096 } }, () => {
      const id = unique('admission');
      ids.push(id);
      return id;
    });
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => admit(snapshot, 'reserved', reserving)));
    expect(verdicts.filter((v) => v.kind === 'admit'), '0.2 each against 0.5').to.have.length(2);
    const refused = verdicts.find((v) => v.kind === 'deny');
    expect(refused === undefined ? null : denialOf(refused)?.message).to.equal(
      'Session budget exceeded for session reserved. Current spend: $0.0000, max_budget_per_session: $0.50. (reserved for requests in flight 0.4, estimated cost of this request 0.2)',
    );
    const budget = keys.sessionBudget(agent, 'reserved');
    expect(Number(await client.hGet(budget, 'r'))).to.be.closeTo(0.4, 1e-9);
    expect(await client.pTTL(budget)).to.be.within(TTLS.budgetMs - 5000, TTLS.budgetMs);
    const admittedIds = ids.filter((_, i) => verdicts[i]?.kind === 'admit');
    for (const id of admittedIds) await charge(agent, 'reserved', 0.05, id);
    expect(Number(await client.hGet(budget, 'r'))).to.equal(0);
    expect(Number(await client.hGet(budget, 's'))).to.be.closeTo(0.1, 1e-9);
    expect((await admit(snapshot, 'reserved', reserving)).kind).to.equal('admit');
  });

  describe("a session the caps read apart from the session rate limits (an empty id; a body metadata.session_id before the header's on a litellm_metadata route): its spend is charged and capped", () => {
    const RESERVING = { reservation: { ttlMs: 60_000, defaultOutputTokens: 4096 } };
    const emptySession = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [], max_tokens: 100, metadata: { session_id: '' } } });
    const bodyBeforeHeader = aRequest({
      route: '/v1/responses',
      model: 'gpt-4o',
      headers: { 'x-litellm-trace-id': 'from-header' },
      body: { model: 'gpt-4o', input: 'hi', max_output_tokens: 100, metadata: { session_id: 'from-body' } },
    });
    const admitRequest = (snapshot: Snapshot, request: ReturnType<typeof aRequest>, by: RedisAdmitter): Promise<Admission> =>
      Promise.resolve(by.admit(aContext({ snapshot, request, keyHash: snapshot.key?.token ?? null, now: new Date() })));
    /** The response of an admitted call, charged as metering charges it: through the ext_authz metadata Envoy forwards, or this replica's decision. */
    const chargeAdmitted = async (admission: Admission, request: ReturnType<typeof aRequest>, cost: number, forwarded: boolean): Promise<void> => {
      if (admission.kind !== 'admit') throw new Error('refused');
      const keyHash = 'charged-key';
      const attribution = forwarded
        ? attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: keyHash, ...admission.metadata }) })
        : attributionFromDecision({ kind: 'allow', identity: { keyHash }, credentialHeader: null, metadata: admission.metadata }, request);
      if (attribution === null) throw new Error('no attribution');
      const chargeId = unique('charge');
      const base = aSpendEvent({ chargeId, requestId: chargeId });
      const reservationId = String(admission.metadata.admission_id);
      expect(await recorder.record({ ...base, reservationId, cost, startTime: Date.now(), attribution: { ...attribution, tags: [...attribution.tags] } })).to.equal(true);
    };

    for (const [label, options] of [['without budget_reservation', {}], ['with budget_reservation', RESERVING]] as const) {
      it(`refuses an empty session once what metering charged it reaches max_budget_per_session, ${label}`, async () => {
        const agent = unique('agent');
        const snapshot = agentSnapshot(agent, { max_budget_per_session: 0.5 });
        const first = await admitRequest(snapshot, emptySession, admitter(options));
        expect(first.kind === 'admit' && first.metadata).to.deep.include({ agent_id: agent, agent_budget_session_id: '' });
        expect(first.kind === 'admit' && first.metadata, 'no session for the rate limits, nor for an earlier version\'s metering').to.not.have.any.keys('agent_session_id', 'agent_session_budget');
        await chargeAdmitted(first, emptySession, 0.3, true);
        const second = await admitRequest(snapshot, emptySession, admitter(options));
        await chargeAdmitted(second, emptySession, 0.2, false);
        expect(Number(await client.hGet(keys.sessionBudget(agent, ''), 's'))).to.be.closeTo(0.5, 1e-9);
        expect(Number((await client.hGet(keys.sessionBudget(agent, ''), 'r')) ?? '0'), 'what the calls held is given back').to.equal(0);
        expect(denialOf(await admitRequest(snapshot, emptySession, admitter(options)))?.message).to.equal(
          'Session budget exceeded for session . Current spend: $0.5000, max_budget_per_session: $0.50.',
        );
        expect(errors).to.deep.equal([]);
      });
    }

    it("with budget_reservation holds a call's estimate on the empty session: calls in flight cannot all pass the cap", async () => {
      const snapshot = agentSnapshot(unique('agent'), { max_budget_per_session: 0.5 });
      const verdicts = await Promise.all(Array.from({ length: 5 }, () => admitRequest(snapshot, emptySession, admitter(RESERVING))));
      expect(verdicts.filter((v) => v.kind === 'admit'), '0.2 each against 0.5').to.have.length(2);
    });

    it("charges and caps the body's session, not the header's, on a litellm_metadata route; the earlier version's flag is left off, as it would charge the header's", async () => {
      const agent = unique('agent');
      const snapshot = agentSnapshot(agent, { max_budget_per_session: 0.5 });
      const admitted = await admitRequest(snapshot, bodyBeforeHeader, admitter());
      expect(admitted.kind === 'admit' && admitted.metadata).to.deep.include({ agent_session_id: 'from-header', agent_budget_session_id: 'from-body' });
      expect(admitted.kind === 'admit' && admitted.metadata).to.not.have.any.keys('agent_session_budget');
      await chargeAdmitted(admitted, bodyBeforeHeader, 0.5, true);
      expect(await client.exists(keys.sessionBudget(agent, 'from-header'))).to.equal(0);
      expect(denialOf(await admitRequest(snapshot, bodyBeforeHeader, admitter()))?.message).to.match(/^Session budget exceeded for session from-body\./);
    });

    it("still charges the session an earlier version's admission named by its flag alone (a rolling upgrade)", async () => {
      const agent = unique('agent');
      const earlier = { admission_id: unique('admission'), agent_id: agent, agent_session_id: 'older', agent_session_budget: true };
      await chargeAdmitted({ kind: 'admit', metadata: earlier }, callOf('older'), 0.5, true);
      expect(denialOf(await admit(agentSnapshot(agent, { max_budget_per_session: 0.5 }), 'older'))?.check).to.equal('agent_session_budget');
    });
  });

  it("rebuilds what calls in flight hold on a session whose spend expired before them, so that neither a purge nor a release leaves it negative or without its TTL", async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_budget_per_session: 5 });
    const ids: string[] = [];
    const reserving = (ttlMs: number): RedisAdmitter =>
      admitter({ reservation: { ttlMs, defaultOutputTokens: 4096 } }, () => {
        const id = unique('admission');
        ids.push(id);
        return id;
      });
    const budget = keys.sessionBudget(agent, 'lost');
    // A call in flight holds 0.2; the session's spend then reaches its TTL (here: is evicted).
    expect((await admit(snapshot, 'lost', reserving(60_000))).kind).to.equal('admit');
    await client.del(budget);
    expect((await admit(snapshot, 'lost', reserving(60_000))).kind).to.equal('admit');
    expect(Number(await client.hGet(budget, 'r')), 'both calls in flight held').to.be.closeTo(0.4, 1e-9);
    await charge(agent, 'lost', 0.1, ids[0]);
    expect(Number(await client.hGet(budget, 'r')), 'the second call still holds its estimate').to.be.closeTo(0.2, 1e-9);

    // A reservation that expired unsettled, on a session whose spend is gone, purged by the next call.
    const stale = unique('agent');
    const staleBudget = keys.sessionBudget(stale, 'lost');
    expect((await admit(agentSnapshot(stale, { max_budget_per_session: 5 }), 'lost', reserving(1))).kind).to.equal('admit');
    await client.del(staleBudget);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await admit(agentSnapshot(stale, { max_budget_per_session: 5 }), 'lost')).kind).to.equal('admit');
    await charge(stale, 'lost', 0.1);
    expect(Number((await client.hGet(staleBudget, 'r')) ?? '0'), 'no negative reserved total').to.be.at.least(0);
    expect(await client.pTTL(staleBudget), 'the session spend keeps a TTL').to.be.within(1, TTLS.budgetMs);

    // Two calls in flight on a session whose spend is gone, started again by another call's charge.
    const charged = unique('agent');
    const chargedBudget = keys.sessionBudget(charged, 'lost');
    const held = ids.length;
    for (let i = 0; i < 2; i += 1) expect((await admit(agentSnapshot(charged, { max_budget_per_session: 5 }), 'lost', reserving(60_000))).kind).to.equal('admit');
    await client.del(chargedBudget);
    await charge(charged, 'lost', 0.1);
    await charge(charged, 'lost', 0.1, ids[held]);
    expect(Number(await client.hGet(chargedBudget, 'r')), 'the other call still holds its estimate').to.be.closeTo(0.2, 1e-9);
    expect(errors).to.deep.equal([]);
  });

  it("leaves a request without an agent as it was when neither rate limits nor their metadata are on: its route is not even classified, and it is admitted at once", () => {
    const ctx = aContext({ snapshot: aSnapshot({ key: aKey({ token: 'key-without-agent' }) }), request: callOf('s'), now: new Date() });
    let reads = 0;
    const policy = new Proxy(ctx.policy, {
      get(target, property, receiver) {
        if (property === 'passThroughEndpoints') reads += 1;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const admission = admitter({ enforceRateLimits: false }).admit({ ...ctx, policy });
    expect(admission).to.not.be.instanceOf(Promise);
    expect(reads).to.equal(0);
  });

  it('caps no spend without metering (nothing counts it), but still the calls', async () => {
    const agent = unique('agent');
    const snapshot = agentSnapshot(agent, { max_iterations: 1, max_budget_per_session: 0 });
    const unmetered = admitter({ metering: false });
    expect((await admit(snapshot, 's', unmetered)).kind).to.equal('admit');
    expect(denialOf(await admit(snapshot, 's', unmetered))?.check).to.equal('agent_session_iterations');
    expect(denialOf(await admit(snapshot, 's2'))?.check, 'metered: a budget of 0 refuses at once').to.equal('agent_session_budget');
  });
});
