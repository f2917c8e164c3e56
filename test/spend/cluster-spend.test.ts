/**
 * The spend path on a Redis Cluster the test starts (three masters), every key under a hash-tagged
 * prefix: a Check's reservation against a key budget, the response's charge into the shared
 * counter and the queue, the next Check's read of that counter, and the flush of the queue. Each
 * step runs a script over several keys at once, which a cluster refuses (CROSSSLOT) unless they
 * share a slot.
 */
import { expect } from 'chai';
import type { RedisClient } from '../../src/cache/redis-shared-cache';
import { createLogger } from '../../src/observability/logger';
import type { Admission } from '../../src/spend/admission';
import { SpendKeys } from '../../src/spend/redis-keys';
import { SpendCounters } from '../../src/spend/spend-counters';
import { SpendFlusher } from '../../src/spend/spend-flusher';
import type { QueuedSpend, SpendWriter } from '../../src/spend/spend-writer';
import { aContext, aKey, aRequest, aSnapshot } from '../checks/fixtures';
import { requireRedisBackend, type RedisBackend } from '../support/redis-cluster';
import { aRedisAdmitter, aRedisRecorder, aSpendEvent } from '../support/spend';

const REQUEST = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [], max_tokens: 100 } });

describe('spend on a Redis Cluster: reservation, charge, counter read, flush', function () {
  this.timeout(60_000);
  let redis: RedisBackend;
  let client: RedisClient;
  let errors: unknown[];

  before(async function () {
    redis = await requireRedisBackend(this, 'cluster');
    client = redis.client(2000);
    await client.connect();
  });

  beforeEach(() => {
    errors = [];
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await redis?.cleanup();
  });

  it('holds a key budget against concurrent Checks, charges the response, shows the spend to the next Check and flushes the queue', async () => {
    const token = 'hash-cluster-1';
    const snapshot = aSnapshot({ key: aKey({ token, max_budget: 0.5, spend: 0 }) });
    let ids = 0;
    const admitter = aRedisAdmitter(client, redis.prefix, {
      reservation: { ttlMs: 60_000, defaultOutputTokens: 4096 },
      newAdmissionId: () => `admission-${(ids += 1)}`,
      onError: (error) => errors.push(error),
    });
    const admit = (): Promise<Admission> => Promise.resolve(admitter.admit(aContext({ snapshot, request: REQUEST, now: new Date(), keyHash: token })));

    const verdicts = await Promise.all(Array.from({ length: 5 }, admit));
    expect(verdicts.filter((v) => v.kind === 'admit'), '0.2 each against 0.5').to.have.length(2);
    expect(errors).to.deep.equal([]);

    const admitted = verdicts.find((v) => v.kind === 'admit');
    const reservationId = admitted?.kind === 'admit' ? admitted.metadata.admission_id : null;
    if (typeof reservationId !== 'string') throw new Error('admitted without an admission id');
    expect(reservationId).to.match(/^admission-/);
    const recorder = aRedisRecorder(client, redis.prefix, { onFallback: (error) => errors.push(error) });
    const base = aSpendEvent({ chargeId: 'charge-1', requestId: reservationId });
    expect(await recorder.record({ ...base, reservationId, cost: 0.3, startTime: Date.now(), attribution: { ...base.attribution, keyHash: token } })).to.equal(true);
    expect(await recorder.record({ ...base, reservationId, cost: 0.3, startTime: Date.now(), attribution: { ...base.attribution, keyHash: token } }), 'once per charge').to.equal(false);

    const counters = new SpendCounters(client, new SpendKeys(redis.prefix), { timeoutMs: 2000, idleMs: 60_000, onError: (error) => errors.push(error) });
    expect((await counters.overlay(snapshot, new Date())).key?.spend).to.equal(0.3);

    const keys = new SpendKeys(redis.prefix);
    expect(await client.xLen(keys.stream)).to.equal(1);
    const written: QueuedSpend[] = [];
    const writer = { write: (batch: readonly QueuedSpend[]) => Promise.resolve(written.push(...batch)) } as unknown as SpendWriter;
    const options = { intervalMs: 20, batchSize: 100, claimIdleMs: 60_000, idleCounterMs: 60_000, redisTimeoutMs: 1000, pauseBeforeCommitMs: 0, pauseBeforeAckMs: 0 };
    const flusher = new SpendFlusher(client, keys, writer, options, createLogger('silent'));
    expect(await flusher.flushOnce()).to.equal(1);
    expect(written.map((item) => item.event.chargeId)).to.deep.equal(['charge-1']);
    expect(await client.xLen(keys.stream), 'acknowledged and deleted').to.equal(0);
    expect(errors).to.deep.equal([]);
  });
});
