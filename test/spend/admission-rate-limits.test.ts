/**
 * Per-model rate limits through the admission against the real Redis (own key prefix, removed
 * afterwards): one ADMIT call per Check counts the per-model windows beside the overall ones, and
 * the response's tokens feed the per-model tpm window of the model the request asked for.
 */
import { expect } from 'chai';
import type { RedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import type { Snapshot } from '../../src/checks/types';
import type { JsonObject } from '../../src/domain/entities';
import { UNREAD_MODEL, type RequestFacts } from '../../src/domain/request';
import { PriceTable } from '../../src/metering/prices';
import type { TokenRateLimitType } from '../../src/metering/usage';
import { RedisAdmitter, type Admission } from '../../src/spend/admission';
import { SpendKeys } from '../../src/spend/redis-keys';
import { NO_ATTRIBUTION } from '../../src/spend/spend-event';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import { aContext, aKey, aRequest, aSnapshot, KEY_HASH } from '../checks/fixtures';
import { REDIS_BACKENDS, requireRedisBackend, type RedisBackend } from '../support/redis-cluster';
import { aRedisRecorder, aSpendEvent } from '../support/spend';

for (const backend of REDIS_BACKENDS) describe(`spend: per-model rate limits on Redis (${backend})`, function () {
  this.timeout(30_000);
  let redis: RedisBackend;
  let client: RedisClient;
  let admitter: RedisAdmitter;
  let scripts = 0;
  // Mid-minute, so that every call of a test falls in one bucket.
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);

  before(async function () {
    redis = await requireRedisBackend(this, backend);
    client = redis.client();
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
    // A Redis that has not run ADMIT yet answers the first EVALSHA with NOSCRIPT and the client
    // sends EVAL: one call more than a Check costs. Load it here, so the counts below are per Check.
    await admitter.admit(aContext({ snapshot: aSnapshot({ key: aKey({ token: `${KEY_HASH}-load`, rpm_limit: 1 }) }), keyHash: `${KEY_HASH}-load`, now }));
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  const admit = (snapshot: Snapshot, model: string, keyHash: string): Promise<Admission> =>
    Promise.resolve(
      admitter.admit(
        aContext({ snapshot, keyHash, now, request: aRequest({ route: '/v1/chat/completions', model, body: { model, messages: [] } }) }),
      ),
    );

  it('refuses the (n+1)th call for a model past its key rpm limit (429 model_per_key) while another model still passes, one script call per Check', async () => {
    const keyHash = `${KEY_HASH}-rpm`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, rpm_limit: 100, metadata: { model_rpm_limit: { 'gpt-4o': 2 } } }) });
    scripts = 0;
    const verdicts = [];
    for (let i = 0; i < 3; i += 1) verdicts.push(await admit(snapshot, 'gpt-4o', keyHash));
    expect(verdicts.map((v) => v.kind)).to.deep.equal(['admit', 'admit', 'deny']);
    const refused = verdicts[2];
    if (refused.kind !== 'deny') throw new Error('unreachable');
    expect(refused.denial.status).to.equal(429);
    expect(refused.denial.message).to.match(/^LiteLLM Rate Limit Handler for rate limit type = model_per_key\. .*current rpm: 2, rpm limit: 2,/);
    expect((await admit(snapshot, 'gpt-4o-mini', keyHash)).kind).to.equal('admit');
    expect(scripts, 'one ADMIT per Check, per-model windows included').to.equal(4);
    // The refused call counted nothing; the key's overall window holds every admitted call.
    const minute = Math.floor(now.getTime() / 60_000);
    expect(await client.get(`${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:model:gpt-4o:rpm:${minute}`)).to.equal('2');
    expect(await client.get(`${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:rpm:${minute}`)).to.equal('3');
  });

  it("holds a key throttled over its budget to the configured share of its rpm limit (429 at the throttled limit)", async () => {
    const keyHash = `${KEY_HASH}-throttled`;
    const key = aKey({ token: keyHash, rpm_limit: 20, spend: 12, max_budget: 10, metadata: { throttle_on_budget_exceeded: true } });
    const snapshot = aSnapshot({ key });
    const admitThrottled = (): Promise<Admission> =>
      Promise.resolve(
        admitter.admit(
          aContext({
            snapshot,
            keyHash,
            now,
            policy: { budgetExceededThrottlePercentage: 0.1 },
            request: aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [] } }),
          }),
        ),
      );
    const verdicts = [];
    for (let i = 0; i < 3; i += 1) verdicts.push(await admitThrottled());
    expect(verdicts.map((v) => v.kind)).to.deep.equal(['admit', 'admit', 'deny']);
    const refused = verdicts[2];
    if (refused.kind !== 'deny') throw new Error('unreachable');
    expect(refused.denial.message).to.match(/rate limit type = key\. .*current rpm: 2, rpm limit: 2,/);
  });

  it('counts a request naming several models against each one\'s key rpm limit, refuses it past any (429 naming that model\'s counts), counting nothing when refused', async () => {
    const keyHash = `${KEY_HASH}-list`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_rpm_limit: { 'gpt-4o-mini': 5, 'gpt-4o': 1 } } }) });
    const both = ['gpt-4o-mini', 'gpt-4o'];
    const admitModels = (model: RequestFacts['model'], body: JsonObject): Promise<Admission> =>
      Promise.resolve(admitter.admit(aContext({ snapshot, keyHash, now, request: aRequest({ route: '/v1/chat/completions', model, body }) })));
    expect((await admit(snapshot, 'gpt-4o-mini', keyHash)).kind).to.equal('admit');
    expect((await admitModels(both, { model: 'gpt-4o-mini,gpt-4o' })).kind).to.equal('admit');
    const refused = await admitModels(both, { model: 'gpt-4o-mini,gpt-4o' });
    if (refused.kind !== 'deny') throw new Error('a second call to gpt-4o was admitted past its limit of 1');
    expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current rpm: 1, rpm limit: 1,');
    // A body cut before its model counts against every per-model limit of the key.
    expect((await admitModels(UNREAD_MODEL, {})).kind).to.equal('deny');
    const minute = Math.floor(now.getTime() / 60_000);
    const window = (model: string) => client.get(`${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:model:${model}:rpm:${minute}`);
    expect([await window('gpt-4o-mini'), await window('gpt-4o')]).to.deep.equal(['2', '1']);
  });

  const recorder = (tokenRateLimitType: TokenRateLimitType = 'total'): RedisSpendRecorder =>
    aRedisRecorder(client, redis.prefix, {
      timeoutMs: 1000,
      tokenRateLimitType,
      onFallback: (error) => {
        throw error;
      },
    });

  const admissionIdOf = (admission: Admission): string => {
    if (admission.kind !== 'admit' || typeof admission.metadata.admission_id !== 'string') throw new Error('admitted without an admission id');
    return admission.metadata.admission_id;
  };

  it("refuses a model once the response tokens recorded for it reach the key's per-model tpm limit, other models untouched", async () => {
    const keyHash = `${KEY_HASH}-tpm`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_tpm_limit: { 'gpt-4o': 15 } } }) });
    const admitted = await admit(snapshot, 'gpt-4o', keyHash);
    const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'r' }), endTime: now.getTime(), reservationId: admissionIdOf(admitted) };
    // Metering off: the response's tokens (15) replace the 1 token its Check reserved (no prompt, no max_tokens).
    await recorder().countTokens({ ...event, attribution: { ...NO_ATTRIBUTION, tags: [], keyHash, model: 'gpt-4o' } });
    const refused = await admit(snapshot, 'gpt-4o', keyHash);
    expect(refused.kind).to.equal('deny');
    if (refused.kind !== 'deny') throw new Error('unreachable');
    expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current rpm: 0, rpm limit: 9223372036854775807, current tpm: 15, tpm limit: 15');
    expect((await admit(snapshot, 'gpt-4o-mini', keyHash)).kind).to.equal('admit');
  });

  it("counts a response's tokens less its cache reads in the tpm windows (v3), cache writes included", async () => {
    const keyHash = `${KEY_HASH}-cached`;
    const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'rc' }), endTime: now.getTime() };
    const usage = { inputTokens: 10, cacheReadTokens: 1000, cacheCreationTokens: 3, outputTokens: 5 };
    await recorder().countTokens({ ...event, usage, attribution: { ...NO_ATTRIBUTION, tags: [], keyHash, model: 'gpt-4o' } });
    const minute = Math.floor(now.getTime() / 60_000);
    expect(await client.get(`${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:tpm:${minute}`)).to.equal('18');
  });

  it('counts only the prompt (less cache reads) or only the completion under token_rate_limit_type input / output, settling the Check\'s reservation against that', async () => {
    const minute = Math.floor(now.getTime() / 60_000);
    const usage = { inputTokens: 400, cacheReadTokens: 1000, cacheCreationTokens: 20, outputTokens: 7 };
    for (const [type, expected] of [['input', '420'], ['output', '7']] as const) {
      const keyHash = `${KEY_HASH}-type-${type}`;
      const admitted = await admit(aSnapshot({ key: aKey({ token: keyHash, tpm_limit: 100_000 }) }), 'gpt-4o', keyHash);
      const window = `${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:tpm:${minute}`;
      expect(Number(await client.get(window))).to.be.greaterThan(0); // the Check's estimate, held
      const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: `rt-${type}` }), endTime: now.getTime(), reservationId: admissionIdOf(admitted) };
      await recorder(type).countTokens({ ...event, usage, attribution: { ...NO_ATTRIBUTION, tags: [], keyHash, model: 'gpt-4o' } });
      expect(await client.get(window)).to.equal(expected);
    }
  });

  it("prints the tokens counted for the crossed entity as its current tpm when it has no tpm limit (the classic limiter's text), overall and per model", async () => {
    const keyHash = `${KEY_HASH}-untpm`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, rpm_limit: 2, metadata: { model_rpm_limit: { 'gpt-4o': 1 } } }) });
    expect((await admit(snapshot, 'gpt-4o', keyHash)).kind).to.equal('admit');
    const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'ru' }), endTime: now.getTime() };
    await recorder().countTokens({ ...event, attribution: { ...NO_ATTRIBUTION, tags: [], keyHash, model: 'gpt-4o' } });
    const perModel = await admit(snapshot, 'gpt-4o', keyHash);
    if (perModel.kind !== 'deny') throw new Error('a second call to gpt-4o was admitted past its limit of 1');
    expect(perModel.denial.message).to.include('rate limit type = model_per_key').and.include('current rpm: 1, rpm limit: 1, current tpm: 15, tpm limit: 9223372036854775807,');
    expect((await admit(snapshot, 'gpt-4o-mini', keyHash)).kind).to.equal('admit');
    const overall = await admit(snapshot, 'gpt-4o-mini', keyHash);
    if (overall.kind !== 'deny') throw new Error('a third call was admitted past the key rpm limit of 2');
    expect(overall.denial.message).to.include('rate limit type = key.').and.include('current rpm: 2, rpm limit: 2, current tpm: 15, tpm limit: 9223372036854775807,');
  });

  it('feeds the per-model tpm windows of a caller without per-model limits too (v3 charges every candidate scope), so a limit set mid-minute sees the tokens', async () => {
    const keyHash = `${KEY_HASH}-late`;
    const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'rl' }), endTime: now.getTime() };
    expect((await admit(aSnapshot({ key: aKey({ token: keyHash }) }), 'gpt-4o', keyHash)).kind).to.equal('admit');
    await recorder().countTokens({ ...event, attribution: { ...NO_ATTRIBUTION, tags: [], keyHash, model: 'gpt-4o' } });
    const minute = Math.floor(now.getTime() / 60_000);
    expect(await client.get(`${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:model:gpt-4o:tpm:${minute}`)).to.equal('15');
    const limited = aSnapshot({ key: aKey({ token: keyHash, metadata: { model_tpm_limit: { 'gpt-4o': 15 } } }) });
    const refused = await admit(limited, 'gpt-4o', keyHash);
    if (refused.kind !== 'deny') throw new Error('a per-model tpm limit set after a response did not see its tokens');
    expect(refused.denial.message).to.include('rate limit type = model_per_key').and.include('current tpm: 15, tpm limit: 15');
  });

  it('reserves each Check\'s token estimate against a key tpm limit: of concurrent Checks only as many as fit pass, and responses settle them', async () => {
    const keyHash = `${KEY_HASH}-burst`;
    const snapshot = aSnapshot({ key: aKey({ token: keyHash, tpm_limit: 100 }) });
    // 80 bytes → 20 input tokens, + max_tokens 30: 50 tokens a request.
    const request = aRequest({
      route: '/v1/chat/completions',
      model: 'gpt-4o',
      headers: { 'content-length': '80' },
      body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 30 },
    });
    const check = (): Promise<Admission> => Promise.resolve(admitter.admit(aContext({ snapshot, keyHash, now, request })));
    const verdicts = await Promise.all(Array.from({ length: 5 }, check));
    const admitted = verdicts.filter((v) => v.kind === 'admit');
    expect(admitted, 'no response counted yet: without reservations all five pass').to.have.length(2);
    const refused = verdicts.find((v) => v.kind === 'deny');
    if (refused?.kind !== 'deny') throw new Error('unreachable');
    expect(refused.denial.message).to.include('rate limit type = key').and.include('current tpm: 100, tpm limit: 100');
    const bucket = `${redis.prefix}rl:key:${encodeURIComponent(keyHash)}:tpm:${Math.floor(now.getTime() / 60_000)}`;
    expect(await client.get(bucket)).to.equal('100');
    // One response used 15 tokens (its 50 given back, 15 counted), the other failed (its 50 given back).
    const event = { ...aSpendEvent({ chargeId: `c-${keyHash}`, requestId: 'r1' }), endTime: now.getTime(), reservationId: admissionIdOf(admitted[0]) };
    await recorder().countTokens({ ...event, attribution: { ...NO_ATTRIBUTION, tags: [], keyHash, model: 'gpt-4o' } });
    expect(await client.get(bucket)).to.equal('65');
    await recorder().release(admissionIdOf(admitted[1]));
    expect(await client.get(bucket)).to.equal('15');
    expect((await check()).kind, '15 + 50 fits again').to.equal('admit');
  });
});
