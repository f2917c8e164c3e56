import type { VirtualKey } from '../../src/domain/entities';
/**
 * A model called through an alias (litellm_settings.model_alias_map, the key's own aliases) is
 * held to its target's per-model rate limits and its deployments' default, counted in its target's
 * windows, and its response's tokens land there too: against the real Redis (own key prefix,
 * removed afterwards).
 */
import { expect } from 'chai';
import { createRedisClient, type StandaloneRedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';
import type { Snapshot } from '../../src/checks/types';
import type { Decision } from '../../src/domain/decision';
import type { RequestFacts } from '../../src/domain/request';
import { attributionFromDecision } from '../../src/metering/admitted-identity';
import type { Admission, RedisAdmitter } from '../../src/spend/admission';
import type { SpendEvent } from '../../src/spend/spend-event';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import { aContext, aKey, aRequest, aSnapshot, KEY_HASH } from '../checks/fixtures';
import { requireRedis, type TestRedis } from '../support/redis';
import { aRedisAdmitter, aRedisRecorder, aSpendEvent } from '../support/spend';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { aCheckRequest, edgeSettings } from '../envoy/fixtures';

describe('spend: per-model rate limits of a model called through an alias, on Redis', function () {
  let redis: TestRedis;
  let client: StandaloneRedisClient;
  let limiting: RedisAdmitter;
  let metering: RedisAdmitter;
  let recorder: RedisSpendRecorder;
  // Mid-minute, so that every call of a test falls in one bucket.
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
  const minute = Math.floor(now.getTime() / 60_000);
  const policy = buildPolicy(
    parseLiteLlmConfig(
      [
        'model_list:',
        '  - model_name: gpt-4o',
        '    litellm_params: { model: openai/gpt-4o, default_api_key_rpm_limit: 2 }',
        '  - model_name: o3',
        '    litellm_params: { model: openai/o3 }',
        'litellm_settings:',
        '  model_alias_map: { gpt4: gpt-4o }',
      ].join('\n'),
      {},
    ),
  );

  before(async function () {
    redis = await requireRedis(this);
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
    const fail = (error: unknown): void => {
      throw error;
    };
    limiting = aRedisAdmitter(client, redis.prefix, { metering: false, onError: fail });
    metering = aRedisAdmitter(client, redis.prefix, { metering: true, onError: fail });
    recorder = aRedisRecorder(client, redis.prefix, { onFallback: fail });
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  const requestOf = (model: string): RequestFacts => aRequest({ route: '/v1/chat/completions', model, body: { model, messages: [] } });
  const admit = (snapshot: Snapshot, model: string, keyHash: string, admitter = limiting, request = requestOf(model)): Promise<Admission> =>
    Promise.resolve(admitter.admit(aContext({ snapshot, keyHash, now, policy, request })));
  /** The facts Envoy's CheckRequest for this path and JSON body parse to. */
  const parsed = (path: string, body: object): RequestFacts =>
    parseCheckRequest(aCheckRequest({ path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), edgeSettings());
  const window = (keyHash: string, model: string, metric: 'rpm' | 'tpm'): Promise<string | null> =>
    client.get(`${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:model:${model}:${metric}:${minute}`);
  /** The response of an admitted request (15 tokens), attributed as metering attributes it from this replica's Check. */
  const responseTo = (admitted: Admission, keyHash: string, model: string, request = requestOf(model)): SpendEvent => {
    if (admitted.kind !== 'admit') throw new Error('the request was refused');
    const allow: Decision = { kind: 'allow', identity: { keyHash }, credentialHeader: null, metadata: admitted.metadata };
    const attribution = attributionFromDecision(allow, request);
    const reservationId = typeof admitted.metadata.admission_id === 'string' ? admitted.metadata.admission_id : undefined;
    return { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: `r-${keyHash}` }), endTime: now.getTime(), attribution: { ...attribution, tags: [...attribution.tags] }, reservationId };
  };

  it("counts calls to a model_alias_map alias in its target's model_per_key window: alias and target share the key's rpm limit (429 model_per_key)", async () => {
    const keyHash = `${KEY_HASH}-map-rpm`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }) });
    expect((await admit(snapshot, 'gpt4', keyHash)).kind).to.equal('admit');
    expect((await admit(snapshot, 'gpt-4o', keyHash)).kind).to.equal('admit');
    const refused = await admit(snapshot, 'gpt4', keyHash);
    if (refused.kind !== 'deny') throw new Error('a third call through the alias was admitted past the limit of 2');
    expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current rpm: 2, rpm limit: 2');
    expect(await window(keyHash, 'gpt-4o', 'rpm')).to.equal('2');
    expect(await window(keyHash, 'gpt4', 'rpm'), 'no window of its own').to.equal(null);
  });

  it("holds a key's own alias (LiteLLM_VerificationToken.aliases) to its target's deployments' default, in the target's window", async () => {
    const keyHash = `${KEY_HASH}-key-alias`;
    const key: VirtualKey = { ...aKey({ token: keyHash }), aliases: { mine: 'gpt-4o' } };
    const snapshot = aSnapshot({ key });
    expect((await admit(snapshot, 'mine', keyHash)).kind).to.equal('admit');
    expect((await admit(snapshot, 'mine', keyHash)).kind).to.equal('admit');
    const refused = await admit(snapshot, 'gpt-4o', keyHash);
    if (refused.kind !== 'deny') throw new Error("the target was admitted past its deployments' default of 2");
    expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current rpm: 2, rpm limit: 2');
    expect(await window(keyHash, 'gpt-4o', 'rpm')).to.equal('2');
  });

  it("feeds a response to the alias into its target's tpm window, the one the Check reserved in and its limit reads (metering off)", async () => {
    const keyHash = `${KEY_HASH}-map-tpm`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_tpm_limit: { 'gpt-4o': 15 } } }) });
    const admitted = await admit(snapshot, 'gpt4', keyHash);
    if (admitted.kind !== 'admit') throw new Error('the first call was refused');
    expect(admitted.metadata.rate_limit_model).to.equal('gpt-4o');
    expect(await recorder.countTokens(responseTo(admitted, keyHash, 'gpt4'))).to.equal(true);
    // The Check's estimate (1 token) settled to the response's 15.
    expect(await window(keyHash, 'gpt-4o', 'tpm')).to.equal('15');
    expect(await window(keyHash, 'gpt4', 'tpm')).to.equal(null);
    for (const model of ['gpt-4o', 'gpt4']) {
      const refused = await admit(snapshot, model, keyHash);
      if (refused.kind !== 'deny') throw new Error(`${model} was admitted past the tpm limit its window reached`);
      expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current tpm: 15, tpm limit: 15');
    }
  });

  it("feeds a metered response to the alias into its target's tpm window, though no tpm limit reads it (record)", async () => {
    const keyHash = `${KEY_HASH}-map-metered`;
    const admitted = await admit(aSnapshot({ key: aKey({ token: keyHash }) }), 'gpt4', keyHash, metering);
    expect(await recorder.record(responseTo(admitted, keyHash, 'gpt4'))).to.equal(true);
    expect(await window(keyHash, 'gpt-4o', 'tpm')).to.equal('15');
    expect(await window(keyHash, 'gpt4', 'tpm')).to.equal(null);
  });

  it('leaves a model without alias as it was: its own windows, nothing added to the metadata', async () => {
    const keyHash = `${KEY_HASH}-plain`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_rpm_limit: { o3: 1 } } }) });
    const admitted = await admit(snapshot, 'o3', keyHash);
    if (admitted.kind !== 'admit') throw new Error('the first call was refused');
    expect(admitted.metadata).to.not.have.property('rate_limit_model');
    expect((await admit(snapshot, 'o3', keyHash)).kind).to.equal('deny');
    expect(await window(keyHash, 'o3', 'rpm')).to.equal('1');
    await recorder.countTokens(responseTo(admitted, keyHash, 'o3'));
    expect(await window(keyHash, 'o3', 'tpm')).to.equal('15');
  });

  it("limits the query's model (?model=, which LiteLLM serves) with the body's, the path's alone (/openai/deployments/{model}/…), and feeds the response to the one LiteLLM serves", async () => {
    const keyHash = `${KEY_HASH}-handler-model`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_rpm_limit: { 'gpt-4o': 2, o3: 5 }, model_tpm_limit: { 'gpt-4o': 100 } } }) });
    const viaQuery = parsed('/v1/chat/completions?model=gpt4', { model: 'o3', messages: [] });
    // The model checks read the body's model and the query's (LiteLLM's auth only the body's); the
    // limits the query's, through the map, and the body's.
    expect(viaQuery.model).to.deep.equal(['o3', 'gpt4']);
    const admitted = await admit(snapshot, 'o3', keyHash, limiting, viaQuery);
    if (admitted.kind !== 'admit') throw new Error('the first call was refused');
    expect(admitted.metadata.rate_limit_model).to.equal('gpt-4o');
    const viaPath = parsed('/openai/deployments/gpt-4o/chat/completions', { model: 'o3', messages: [] });
    expect((await admit(snapshot, 'o3', keyHash, limiting, viaPath)).kind).to.equal('admit');
    const refused = await admit(snapshot, 'o3', keyHash, limiting, viaQuery);
    if (refused.kind !== 'deny') throw new Error("a third call to the query's model was admitted past its limit of 2");
    expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current rpm: 2, rpm limit: 2');
    expect(await window(keyHash, 'o3', 'rpm'), "the body's model counted the query's call, not the path's").to.equal('1');
    expect(await recorder.countTokens(responseTo(admitted, keyHash, 'o3', viaQuery))).to.equal(true);
    // The first call's 1-token estimate settled to its 15; the second's still held.
    expect(await window(keyHash, 'gpt-4o', 'tpm')).to.equal('16');
    expect(await window(keyHash, 'o3', 'tpm')).to.equal(null);
  });
});
