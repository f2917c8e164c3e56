/**
 * Agent rate limits through the admission against the real Redis (own key prefix, removed
 * afterwards): the key's agent, or for a key without one the agent its request names
 * (LiteLLM_AgentsTable rpm_limit / tpm_limit), and one session of it
 * (session_rpm_limit / session_tpm_limit, the session named by the trace-id header) are counted
 * in the one ADMIT call a limited Check already makes, and the response's tokens feed both
 * windows, as v3's `agent` and `agent_session` descriptors.
 */
import { expect } from 'chai';
import { createRedisClient, type RedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import type { Snapshot } from '../../src/checks/types';
import { toStruct } from '../../src/envoy/messages';
import { attributionFromDecision, attributionFromMetadata } from '../../src/metering/admitted-identity';
import { PriceTable } from '../../src/metering/prices';
import { RedisAdmitter, type Admission } from '../../src/spend/admission';
import { SpendKeys } from '../../src/spend/redis-keys';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import { aContext, aKey, anAgent, aRequest, aSnapshot, KEY_HASH } from '../checks/fixtures';
import { requireRedis, type TestRedis } from '../support/redis';
import { aRedisRecorder, aSpendEvent } from '../support/spend';

describe('spend: agent and agent-session rate limits on Redis', function () {
  let redis: TestRedis;
  let client: RedisClient;
  let admitter: RedisAdmitter;
  let scripts = 0;
  // Mid-minute, so that every call of a test falls in one bucket.
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
  const minute = Math.floor(now.getTime() / 60_000);

  before(async function () {
    redis = await requireRedis(this);
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'evalSha' || property === 'eval') scripts += 1;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const prices = new PriceTable(parseLiteLlmConfig('model_list: []\n', {}));
    admitter = new RedisAdmitter(counting, new SpendKeys(redis.prefix), prices, {
      prefix: redis.prefix,
      enforceRateLimits: true,
      reservation: null,
      rateLimitMetadata: false,
      metering: false,
      timeoutMs: 1000,
      idleCounterMs: 60_000,
      admitWhenReservationUnavailable: false,
      onError: (error) => {
        throw error;
      },
    });
    // Loads ADMIT into Redis, so that the counts below are per Check (a first EVALSHA gets NOSCRIPT).
    await admitter.admit(aContext({ snapshot: aSnapshot({ key: aKey({ token: `${KEY_HASH}-load`, rpm_limit: 1 }) }), keyHash: `${KEY_HASH}-load`, now }));
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  /** Each test has its own agent, so that its windows start empty. */
  const agentSnapshot = (agentId: string, keyHash: string, limits: Parameters<typeof anAgent>[0]): Snapshot =>
    aSnapshot({ key: aKey({ token: keyHash, agent_id: agentId }), agent: anAgent({ agent_id: agentId, ...limits }) });

  const admit = (snapshot: Snapshot, headers: Record<string, string> = {}): Promise<Admission> =>
    Promise.resolve(
      admitter.admit(
        aContext({
          snapshot,
          keyHash: snapshot.key?.token ?? null,
          now,
          request: aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', headers, body: { model: 'gpt-4o', messages: [] } }),
        }),
      ),
    );

  const refusalOf = (admission: Admission): string => {
    if (admission.kind !== 'deny') throw new Error('admitted past the limit');
    expect(admission.denial.status).to.equal(429);
    return admission.denial.message;
  };

  it("refuses the agent's (n+1)th request of the minute whichever of its keys sends it (429 agent), one script call per Check", async () => {
    const agentId = `agent-rpm-${redis.prefix}`;
    const first = agentSnapshot(agentId, `${KEY_HASH}-agent-a`, { rpm_limit: 2 });
    const second = agentSnapshot(agentId, `${KEY_HASH}-agent-b`, { rpm_limit: 2 });
    scripts = 0;
    expect((await admit(first)).kind).to.equal('admit');
    expect((await admit(second)).kind).to.equal('admit');
    expect(refusalOf(await admit(first))).to.match(/^LiteLLM Rate Limit Handler for rate limit type = agent\. .*current rpm: 2, rpm limit: 2,/);
    expect(scripts, 'one ADMIT per Check').to.equal(3);
    expect(await client.get(`${redis.prefix}rl:agent:${encodeURIComponent(agentId)}:rpm:${minute}`)).to.equal('2');
  });

  it('limits a key without an agent by the agent its request names in x-litellm-agent-id (429 agent), whichever such key sends it, and names that agent for the response', async () => {
    const agentId = `agent-named-${redis.prefix}`;
    const agent = anAgent({ agent_id: agentId, rpm_limit: 2 });
    // Keys without agent_id; the snapshot holds the agent the loader found for the header's id.
    const first = aSnapshot({ key: aKey({ token: `${KEY_HASH}-named-a`, tpm_limit: 1_000_000 }), agent });
    const second = aSnapshot({ key: aKey({ token: `${KEY_HASH}-named-b` }), agent });
    const named = { 'x-litellm-agent-id': agentId };
    const admitted = await admit(first, named);
    if (admitted.kind !== 'admit') throw new Error('refused under its limit');
    expect(admitted.metadata).to.include({ agent_id: agentId });
    expect((await admit(second, named)).kind).to.equal('admit');
    expect(refusalOf(await admit(first, named))).to.match(/^LiteLLM Rate Limit Handler for rate limit type = agent\. .*current rpm: 2, rpm limit: 2,/);
    expect((await admit(first)).kind, 'the same key naming no agent').to.equal('admit');
    expect(await client.get(`${redis.prefix}rl:agent:${encodeURIComponent(agentId)}:rpm:${minute}`)).to.equal('2');
  });

  it('limits each session of the agent apart (429 agent_session), the agent-wide limit over them all, and a request naming no session by the latter only', async () => {
    const agentId = `agent-session-${redis.prefix}`;
    const snapshot = agentSnapshot(agentId, `${KEY_HASH}-session`, { rpm_limit: 4, session_rpm_limit: 1 });
    expect((await admit(snapshot, { 'x-litellm-trace-id': 'run-1' })).kind).to.equal('admit');
    expect(refusalOf(await admit(snapshot, { 'x-litellm-trace-id': 'run-1' }))).to.include('rate limit type = agent_session.').and.include('current rpm: 1, rpm limit: 1,');
    expect((await admit(snapshot, { 'x-litellm-session-id': 'run-2' })).kind).to.equal('admit');
    expect((await admit(snapshot)).kind, 'no session: agent-wide only').to.equal('admit');
    expect((await admit(snapshot)).kind).to.equal('admit');
    expect(refusalOf(await admit(snapshot, { 'x-litellm-trace-id': 'run-3' })), 'the agent has used its 4').to.include('rate limit type = agent.');
    expect(await client.get(`${redis.prefix}rl:agent_session:${encodeURIComponent(agentId)}:run-1:rpm:${minute}`)).to.equal('1');
    expect(await client.get(`${redis.prefix}rl:agent:${encodeURIComponent(agentId)}:rpm:${minute}`)).to.equal('4');
  });

  it("names the agent's crossed rpm limit before the key's crossed tpm limit, as v3 checks every rpm limit before it reserves tokens", async () => {
    const agentId = `agent-rpm-first-${redis.prefix}`;
    expect((await admit(agentSnapshot(agentId, `${KEY_HASH}-rpm-first-a`, { rpm_limit: 1 }))).kind).to.equal('admit');
    // Another key of the agent, whose own tpm limit (earlier in the order) refuses every request.
    const tpmLimitedKey = aSnapshot({ key: aKey({ token: `${KEY_HASH}-rpm-first-b`, agent_id: agentId, tpm_limit: 0 }), agent: anAgent({ agent_id: agentId, rpm_limit: 1 }) });
    expect(refusalOf(await admit(tpmLimitedKey))).to.match(/^LiteLLM Rate Limit Handler for rate limit type = agent\. .*current rpm: 1, rpm limit: 1,/);
  });

  const recorder = (): RedisSpendRecorder =>
    aRedisRecorder(client, redis.prefix, {
      timeoutMs: 1000,
      onFallback: (error) => {
        throw error;
      },
    });

  it("feeds the response's tokens to the agent's and its session's tpm windows (named in the admission's metadata), and refuses once they reach the agent's tpm limit", async () => {
    const agentId = `agent-tpm-${redis.prefix}`;
    const keyHash = `${KEY_HASH}-agent-tpm`;
    const snapshot = agentSnapshot(agentId, keyHash, { tpm_limit: 15, session_tpm_limit: 1_000 });
    const headers = { 'x-litellm-trace-id': 'run-t' };
    const admitted = await admit(snapshot, headers);
    if (admitted.kind !== 'admit') throw new Error('refused under its limit');
    expect(admitted.metadata).to.include({ agent_id: agentId, agent_session_id: 'run-t' });
    const admissionId = admitted.metadata.admission_id;
    if (typeof admissionId !== 'string') throw new Error('a tpm-limited Check holds its tokens under an admission id');
    // The attribution metering builds from this replica's Check.
    const attribution = attributionFromDecision(
      { kind: 'allow', identity: { keyHash }, credentialHeader: null, metadata: admitted.metadata },
      aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', headers }),
    );
    const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'r' }), endTime: now.getTime(), reservationId: admissionId, attribution: { ...attribution, tags: [...attribution.tags] } };
    // Metering off: the response's 15 tokens replace the 1 token its Check reserved.
    expect(await recorder().countTokens(event)).to.equal(true);
    expect(await client.get(`${redis.prefix}rl:agent:${encodeURIComponent(agentId)}:tpm:${minute}`)).to.equal('15');
    expect(await client.get(`${redis.prefix}rl:agent_session:${encodeURIComponent(agentId)}:run-t:tpm:${minute}`)).to.equal('15');
    expect(refusalOf(await admit(snapshot, { 'x-litellm-trace-id': 'run-u' }))).to.include('rate limit type = agent.').and.include('current tpm: 15, tpm limit: 15');
  });

  it('takes the agent and its session from the ext_authz metadata Envoy forwards, for a response metered on another replica', async () => {
    const agentId = `agent-forwarded-${redis.prefix}`;
    const keyHash = `${KEY_HASH}-agent-forwarded`;
    const admitted = await admit(agentSnapshot(agentId, keyHash, { tpm_limit: 1_000 }), { 'x-litellm-trace-id': 'run-f' });
    if (admitted.kind !== 'admit') throw new Error('refused under its limit');
    const forwarded = attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: keyHash, ...admitted.metadata }) });
    expect(forwarded).to.include({ agentId, agentSessionId: 'run-f' });
    if (forwarded === null) throw new Error('unreachable');
    const reservationId = String(admitted.metadata.admission_id);
    await recorder().countTokens({ ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'r' }), endTime: now.getTime(), reservationId, attribution: { ...forwarded, tags: [] } });
    expect(await client.get(`${redis.prefix}rl:agent_session:${encodeURIComponent(agentId)}:run-f:tpm:${minute}`)).to.equal('15');
    expect(attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: keyHash }) }), 'no agent named: none fed').to.not.have.any.keys('agentId', 'agentSessionId');
  });

  it('names a session id of an 8 KiB header by its digest in the window, the metadata and the settlement, and limits it there', async () => {
    const agentId = `agent-long-session-${redis.prefix}`;
    const keyHash = `${KEY_HASH}-agent-long-session`;
    const snapshot = agentSnapshot(agentId, keyHash, { session_rpm_limit: 1, session_tpm_limit: 1_000 });
    const headers = { 'x-litellm-trace-id': `${'é'.repeat(8 * 1024)}\ud800` };
    const admitted = await admit(snapshot, headers);
    if (admitted.kind !== 'admit') throw new Error('refused under its limit');
    const sessionId = admitted.metadata.agent_session_id;
    expect(sessionId).to.be.a('string').and.match(/^sha256:[0-9a-f]{64}$/);
    expect(refusalOf(await admit(snapshot, headers)), 'one window for the one session').to.include('rate limit type = agent_session.');
    const bucket = `${redis.prefix}rl:agent_session:${encodeURIComponent(agentId)}:${encodeURIComponent(String(sessionId))}`;
    expect(await client.get(`${bucket}:rpm:${minute}`)).to.equal('1');
    // Settled on another replica, from the metadata Envoy forwards: the window the Check held tokens on.
    const forwarded = attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: keyHash, ...admitted.metadata }) });
    if (forwarded === null) throw new Error('unreachable');
    const reservationId = String(admitted.metadata.admission_id);
    await recorder().countTokens({ ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'r' }), endTime: now.getTime(), reservationId, attribution: { ...forwarded, tags: [] } });
    expect(await client.get(`${bucket}:tpm:${minute}`), 'the reservation given back, the 15 tokens counted').to.equal('15');
  });

  it("feeds an agent's windows without a limit reading them (v3 charges every scope), so a limit set mid-minute sees the minute's tokens", async () => {
    const agentId = `agent-unlimited-${redis.prefix}`;
    const keyHash = `${KEY_HASH}-agent-unlimited`;
    // A key tpm limit makes the Check hold tokens (and name an admission) while the agent has none.
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, agent_id: agentId, tpm_limit: 1_000_000 }), agent: anAgent({ agent_id: agentId }) });
    const admitted = await admit(snapshot, { 'x-litellm-session-id': 'run-v' });
    if (admitted.kind !== 'admit') throw new Error('refused under its limit');
    expect(admitted.metadata).to.include({ agent_id: agentId, agent_session_id: 'run-v' });
    const attribution = attributionFromDecision({ kind: 'allow', identity: { keyHash }, credentialHeader: null, metadata: admitted.metadata }, aRequest({ model: 'gpt-4o' }));
    const reservationId = String(admitted.metadata.admission_id);
    await recorder().countTokens({ ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'r' }), endTime: now.getTime(), reservationId, attribution: { ...attribution, tags: [] } });
    expect(await client.get(`${redis.prefix}rl:agent:${encodeURIComponent(agentId)}:tpm:${minute}`)).to.equal('15');
    const limitedNow = agentSnapshot(agentId, keyHash, { tpm_limit: 15 });
    expect(refusalOf(await admit(limitedNow))).to.include('rate limit type = agent.').and.include('current tpm: 15, tpm limit: 15');
  });

  it('adds nothing for a key whose agent sets no limit, nor for a key without an agent: no script runs, the Check stays synchronous', () => {
    scripts = 0;
    const ctx = (snapshot: Snapshot) =>
      aContext({ snapshot, keyHash: KEY_HASH, now, request: aRequest({ route: '/v1/chat/completions', headers: { 'x-litellm-trace-id': 't' } }) });
    const unlimited = admitter.admit(ctx(aSnapshot({ key: aKey({ agent_id: 'agent-free' }), agent: anAgent({ agent_id: 'agent-free' }) })));
    const agentless = admitter.admit(ctx(aSnapshot({ key: aKey(), agent: anAgent({ rpm_limit: 1 }) })));
    for (const admission of [unlimited, agentless]) {
      expect(admission).to.not.be.instanceOf(Promise);
      expect(admission).to.deep.equal({ kind: 'admit', metadata: {} });
    }
    expect(scripts).to.equal(0);
  });
});
