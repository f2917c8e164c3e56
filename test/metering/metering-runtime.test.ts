import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { createRedisClient, type RedisClient, type StandaloneRedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { loadSettings, settingsFrom } from '../../src/config/settings';
import type { ProcessingRequest, ProcessingResponse } from '../../src/metering/ext-proc-messages';
import { meteringStats } from '../../src/metering/metering-metrics';
import { createMetering } from '../../src/metering/metering-runtime';
import { createLogger } from '../../src/observability/logger';
import { ReservationUnavailableError } from '../../src/spend/admission';
import { SpendKeys } from '../../src/spend/redis-keys';
import { aContext, aKey, aPolicy, aRequest, aSnapshot, aTeam } from '../checks/fixtures';
import { anOpenAiStream, anUpstreamExchange } from '../support/ext-proc';
import { MemoryStore } from '../support/memory-store';
import { eventually } from '../support/poll';
import { requireRedis, type TestRedis } from '../support/redis';

/** A database that records every transaction asked of it and never writes. */
function aWatchedDatabase(): { dataSource: DataSource; transactions: number } {
  const watched = { transactions: 0, dataSource: undefined as unknown as DataSource };
  watched.dataSource = {
    options: { type: 'mysql' },
    transaction: () => {
      watched.transactions += 1;
      return Promise.reject(new Error('no database in this test'));
    },
  } as unknown as DataSource;
  return watched;
}

/** Plays one ext_proc stream into the handler, as grpc-js would deliver it. */
function playStream(process: ReturnType<typeof createMetering>['process'], messages: readonly ProcessingRequest[]): void {
  const call = Object.assign(new EventEmitter(), { writableEnded: false, write: () => true, end: () => undefined });
  process(call as unknown as ServerDuplexStream<ProcessingRequest, ProcessingResponse>);
  for (const message of messages) call.emit('data', message);
  call.emit('end');
}

describe('metering runtime', () => {
  it('records nothing from an ext_proc stream while tollgate.metering is off (no flusher would ever drain it), and says so', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const metering = createMetering(loadSettings({}), null, logger);
    const database = aWatchedDatabase();
    metering.start(database.dataSource);
    const ignoredBefore = meteringStats.responses.ignored;
    playStream(metering.process, anUpstreamExchange({ requestId: 'req-off', chunks: anOpenAiStream({ prompt: 10, completion: 5 }) }));
    await metering.stop();
    expect(database.transactions).to.equal(0);
    expect(meteringStats.responses.ignored - ignoredBefore, 'counted for tollgate_metered_responses_total').to.equal(1);
    expect(lines.join('')).to.include('tollgate.metering is off').and.not.include('spend not recorded');
  });
});

describe('metering runtime with Redis', () => {
  let redis: TestRedis;
  let client: StandaloneRedisClient;

  before(async function () {
    redis = await requireRedis(this);
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  describe('giving reservations back', () => {
    function meteringReserving(): ReturnType<typeof createMetering> {
      const yaml =
        'model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n' +
        `tollgate:\n  metering: true\n  budget_reservation: true\n  redis_key_prefix: "${redis.prefix}"\n`;
      return createMetering(settingsFrom(parseLiteLlmConfig(yaml, {}), {}), client, createLogger('silent'));
    }

    /** Admits a budgeted request through the runtime's own admission: with reservation on, it reserves under the admission id it answers. */
    async function admitted(metering: ReturnType<typeof createMetering>, requestId: string): Promise<{ ctx: ReturnType<typeof aContext>; allowed: Outcome; admissionId: string }> {
      const request = aRequest({ requestId, route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', max_tokens: 10 } });
      const ctx = aContext({ snapshot: aSnapshot({ key: aKey({ token: `key-of-${requestId}`, max_budget: 10 }) }), request, now: new Date() });
      const admission = await metering.admission?.admit(ctx);
      if (admission?.kind !== 'admit') throw new Error(`expected an admission, got ${JSON.stringify(admission)}`);
      const admissionId = admission.metadata.admission_id;
      if (typeof admissionId !== 'string') throw new Error('an admission without an admission id');
      const allowed: Outcome = { decision: { kind: 'allow', identity: { teamId: 't1' }, credentialHeader: null, metadata: admission.metadata }, refusedBy: null };
      return { ctx, allowed, admissionId };
    }

    it('releases the reservation of an allow Envoy never received (answered UNAVAILABLE at its deadline), so the budget is not held for reservation_ttl_seconds', async () => {
      const metering = meteringReserving();
      const { ctx, allowed, admissionId } = await admitted(metering, 'discarded-1');
      const reservation = new SpendKeys(redis.prefix).reservation(admissionId);
      expect(await client.exists(reservation)).to.equal(1);
      metering.onDiscardedDecision(allowed, ctx.request);
      expect(await eventually(() => client.exists(reservation), (n) => n === 0, { limitMs: 3_000, everyMs: 20 })).to.equal(0);
      await metering.stop();
    });

    it('settles the reservation named by the admission id Envoy forwards, with a charge recorded under its own charge id', async () => {
      const metering = meteringReserving();
      const { ctx, admissionId } = await admitted(metering, 'settled-1');
      const keys = new SpendKeys(redis.prefix);
      const counter = keys.counter({ kind: 'key', id: ctx.snapshot.key?.token ?? '' });
      expect(await client.exists(keys.reservation(admissionId))).to.equal(1);
      expect(await client.zCard(`${counter}:r`)).to.equal(1);
      playStream(
        metering.process,
        anUpstreamExchange({ requestId: 'settled-1', authzMetadata: { admission_id: admissionId }, chunks: anOpenAiStream({ prompt: 10, completion: 5 }, 3, 'chatcmpl-settled') }),
      );
      await metering.stop();
      expect(await client.exists(keys.done('settled-1:chatcmpl-settled')), 'charged under x-request-id:response id').to.equal(1);
      expect(await client.exists(keys.reservation(admissionId)), 'reservation given back').to.equal(0);
      expect(await client.zCard(`${counter}:r`), 'and taken off the counter').to.equal(0);
      expect(Number(await client.hGet(counter, 'r'))).to.equal(0);
    });

    it('gives two requests under one x-request-id a reservation each, and settles each as its own stream ends', async () => {
      const metering = meteringReserving();
      const first = await admitted(metering, 'repeated-1');
      const second = await admitted(metering, 'repeated-1');
      const keys = new SpendKeys(redis.prefix);
      expect(first.admissionId).to.not.equal(second.admissionId);
      expect(await client.exists([keys.reservation(first.admissionId), keys.reservation(second.admissionId)])).to.equal(2);
      playStream(metering.process, anUpstreamExchange({ requestId: 'repeated-1', status: 502, authzMetadata: { admission_id: second.admissionId }, chunks: ['bad gateway'] }));
      await eventually(() => client.exists(keys.reservation(second.admissionId)), (n) => n === 0, { limitMs: 3_000, everyMs: 20 });
      expect(await client.exists(keys.reservation(first.admissionId)), "the other request's reservation still holds").to.equal(1);
      playStream(metering.process, anUpstreamExchange({ requestId: 'repeated-1', authzMetadata: { admission_id: first.admissionId }, chunks: anOpenAiStream({ prompt: 10, completion: 5 }) }));
      await metering.stop();
      expect(await client.exists(keys.reservation(first.admissionId))).to.equal(0);
    });

    it("joins a stream without forwarded metadata to this replica's Check, and settles that Check's reservation", async () => {
      const metering = meteringReserving();
      const { ctx, allowed, admissionId } = await admitted(metering, 'unforwarded-1');
      metering.onDecision(allowed, ctx.request);
      const keys = new SpendKeys(redis.prefix);
      expect(await client.exists(keys.reservation(admissionId))).to.equal(1);
      playStream(metering.process, anUpstreamExchange({ requestId: 'unforwarded-1', chunks: anOpenAiStream({ prompt: 10, completion: 5 }) }));
      await metering.stop();
      expect(await client.exists(keys.reservation(admissionId)), 'reservation given back').to.equal(0);
    });

    it('settles the reservation of a stream that reported no usage with an estimated charge, counted as estimated', async () => {
      const metering = meteringReserving();
      const { admissionId } = await admitted(metering, 'estimated-1');
      const keys = new SpendKeys(redis.prefix);
      const before = { ...meteringStats.responses };
      const stream = ['data: {"id":"chatcmpl-e1","model":"gpt-4o","choices":[{"delta":{"content":"Hello there"}}]}\n\n', 'data: [DONE]\n\n'];
      playStream(
        metering.process,
        anUpstreamExchange({ requestId: 'estimated-1', authzMetadata: { admission_id: admissionId }, requestHeaders: { 'content-length': '400' }, chunks: stream }),
      );
      await metering.stop();
      expect(await client.exists(keys.done('estimated-1:chatcmpl-e1')), 'charged').to.equal(1);
      expect(await client.exists(keys.reservation(admissionId)), 'reservation given back').to.equal(0);
      expect(meteringStats.responses.estimated - before.estimated).to.equal(1);
      expect(meteringStats.responses.charged - before.charged).to.equal(0);
      expect(meteringStats.responses.unmetered - before.unmetered).to.equal(0);
    });
  });

  describe('tpm windows with tollgate.metering off', () => {
    const settingsWith = (lines: string) => settingsFrom(parseLiteLlmConfig(`tollgate:\n  redis_key_prefix: "${redis.prefix}"\n${lines}`, {}), {});

    /** The key's tpm bucket of this minute, after one response of 15 tokens streamed (and replayed) through `metering`. */
    async function tokensCountedWith(metering: ReturnType<typeof createMetering>, keyHash: string): Promise<number | null> {
      const minute = Math.floor(Date.now() / 60_000);
      const exchange = anUpstreamExchange({ requestId: `tpm-${keyHash}`, authzMetadata: { key_hash: keyHash }, chunks: anOpenAiStream({ prompt: 10, completion: 5 }, 3, `chatcmpl-${keyHash}`) });
      playStream(metering.process, exchange);
      playStream(metering.process, exchange);
      await metering.stop();
      const bucket = await client.get(`${redis.prefix}rl:key:${keyHash}:tpm:${minute}`);
      const marker = await client.pTTL(new SpendKeys(redis.prefix).tokensCounted(`tpm-${keyHash}:chatcmpl-${keyHash}`));
      if (bucket !== null) expect(marker, 'the replay marker lives no longer than the buckets').to.be.within(1, 120_000);
      return bucket === null ? null : Number(bucket);
    }

    it('feeds the tpm windows from the responses Envoy streams, once per response, so a tpm_limit applies without metering', async () => {
      const metering = createMetering(settingsWith('  metering: false\n'), client, createLogger('silent'));
      expect(await tokensCountedWith(metering, 'k'.repeat(64))).to.equal(15);
    });

    it('settles the tokens a tpm-limited Check reserved with its response, and gives them back when the upstream fails', async () => {
      const metering = createMetering(settingsWith('  metering: false\n'), client, createLogger('silent'));
      const keyHash = 'r'.repeat(64);
      const minute = Math.floor(Date.now() / 60_000);
      const bucket = async (): Promise<number> => Number(await client.get(`${redis.prefix}rl:key:${keyHash}:tpm:${minute}`));
      const admit = async (): Promise<string> => {
        const context = aContext({
          snapshot: aSnapshot({ key: aKey({ token: keyHash, tpm_limit: 100_000 }) }),
          keyHash,
          now: new Date(),
          request: aRequest({ route: '/v1/chat/completions', body: { model: 'gpt-4o', messages: [], max_tokens: 100 } }),
        });
        const admission = await metering.admission!.admit(context);
        if (admission.kind !== 'admit' || typeof admission.metadata.admission_id !== 'string') throw new Error('no admission id');
        return admission.metadata.admission_id;
      };
      const succeeded = await admit();
      const failed = await admit();
      expect(await bucket(), 'two estimates of 100 held').to.equal(200);
      playStream(metering.process, anUpstreamExchange({ requestId: 'tpm-ok', authzMetadata: { key_hash: keyHash, admission_id: succeeded }, chunks: anOpenAiStream({ prompt: 10, completion: 5 }, 3, 'chatcmpl-ok') }));
      playStream(metering.process, anUpstreamExchange({ requestId: 'tpm-fail', status: 500, contentType: 'application/json', authzMetadata: { key_hash: keyHash, admission_id: failed }, chunks: ['{"error":{}}'] }));
      await metering.stop();
      expect(await bucket(), 'the response\'s 15 tokens, nothing held').to.equal(15);
    });

    it('leaves them alone when rate limits are not enforced', async () => {
      const metering = createMetering(settingsWith('  metering: false\n  enforce_rate_limits: false\n'), client, createLogger('silent'));
      expect(await tokensCountedWith(metering, 'n'.repeat(64))).to.equal(null);
    });
  });
});

describe('metering runtime: a budget reservation Redis cannot take', () => {
  /** A client that is never connected: ADMIT cannot run. */
  const down = { isReady: false } as unknown as RedisClient;
  const raw = 'sk-team-key-1234';

  /** A budgeted team key decided by an Authorizer that admits through the runtime's own admission. */
  function decidedWith(allowRequestsOnDbUnavailable: boolean, lines: string[]): Promise<Outcome> {
    const yaml =
      'model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n' +
      `general_settings:\n  allow_requests_on_db_unavailable: ${allowRequestsOnDbUnavailable}\n` +
      'tollgate:\n  metering: true\n  budget_reservation: true\n';
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const metering = createMetering(settingsFrom(parseLiteLlmConfig(yaml, {}), {}), down, logger);
    const store = new MemoryStore();
    store.keys.set(hashKey(raw), aKey({ token: hashKey(raw), key_alias: 'laptop', team_id: 't1', max_budget: 10 }));
    store.teams.set('t1', aTeam({ team_id: 't1' }));
    const authorizer = new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', admission: metering.admission });
    const request = aRequest({
      requestId: 'unreserved-1',
      route: '/v1/chat/completions',
      credential: { kind: 'present', value: raw, header: 'authorization' },
      body: { model: 'gpt-4o', max_tokens: 10 },
    });
    return authorizer.authorize(request);
  }

  it('with allow_requests_on_db_unavailable, allows as the key, its alias and team (not as the proxy admin), and logs the request admitted without a reservation', async () => {
    const lines: string[] = [];
    const { decision, refusedBy } = await decidedWith(true, lines);
    expect(refusedBy).to.equal(null);
    expect(decision.kind).to.equal('allow');
    expect(decision.identity).to.include({ keyHash: hashKey(raw), keyAlias: 'laptop', teamId: 't1' });
    expect(lines.join('')).to.include('admitted without a reservation').and.include('budget reservation unavailable');
  });

  it('without it, cannot decide (ReservationUnavailableError, answered UNAVAILABLE)', async () => {
    let thrown: unknown = null;
    await decidedWith(false, []).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ReservationUnavailableError);
  });
});
