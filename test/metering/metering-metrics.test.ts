/**
 * Metering's Prometheus metrics: the scrape shows what the stats hold, and the flusher counts
 * its batches against a real Redis queue (own key prefix) with a stand-in database writer.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { MeteringStats, registerMeteringMetrics } from '../../src/metering/metering-metrics';
import { createLogger } from '../../src/observability/logger';
import { SpendKeys } from '../../src/spend/redis-keys';
import type { SpendEvent } from '../../src/spend/spend-event';
import { encodeSpendEvent } from '../../src/spend/spend-event';
import { SpendFlusher } from '../../src/spend/spend-flusher';
import type { QueuedSpend, SpendWriter } from '../../src/spend/spend-writer';
import { eventually } from '../support/poll';
import { requireRedis, type TestRedis } from '../support/redis';
import { aSpendEvent, openRedisClient, type TestRedisClient } from '../support/spend';

function anEvent(requestId: string): SpendEvent {
  return aSpendEvent({ chargeId: `${requestId}:chatcmpl-1`, requestId });
}

function aWriter(write: (batch: readonly QueuedSpend[]) => Promise<number>): SpendWriter {
  return { write } as unknown as SpendWriter;
}

describe('metering metrics', () => {
  it('scrapes the counts by their fixed labels, and the queue length asked at scrape time', async () => {
    const registry = new Registry();
    const stats = new MeteringStats();
    registerMeteringMetrics(registry, stats);
    stats.responses.charged += 3;
    stats.responses.unmetered += 1;
    stats.events.recorded += 3;
    stats.recordedCost += 0.75;
    stats.batches.ok += 2;
    stats.flushed.replayed += 1;
    stats.queueLength = () => Promise.resolve(7);
    const text = await registry.metrics();
    expect(text).to.include('tollgate_metered_responses_total{outcome="charged"} 3');
    expect(text).to.include('tollgate_metered_responses_total{outcome="unmetered"} 1');
    expect(text).to.include('tollgate_metered_responses_total{outcome="ignored"} 0');
    expect(text).to.include('tollgate_spend_events_total{result="recorded"} 3');
    expect(text).to.include('tollgate_spend_recorded_total 0.75');
    expect(text).to.include('tollgate_spend_flush_batches_total{result="ok"} 2');
    expect(text).to.include('tollgate_spend_flushed_events_total{result="replayed"} 1');
    expect(text).to.include('tollgate_spend_queue_entries 7');
  });

  it('keeps the last queue length when Redis cannot answer (the scrape still succeeds)', async () => {
    const registry = new Registry();
    const stats = new MeteringStats();
    registerMeteringMetrics(registry, stats);
    stats.queueLength = () => Promise.resolve(4);
    await registry.metrics();
    stats.queueLength = () => Promise.reject(new Error('Redis is not connected'));
    expect(await registry.metrics()).to.include('tollgate_spend_queue_entries 4');
  });

  describe('the flusher', function () {
    let redis: TestRedis;
    let client: TestRedisClient;
    const logger = createLogger('silent');
    const options = { intervalMs: 20, batchSize: 100, claimIdleMs: 60_000, idleCounterMs: 60_000, redisTimeoutMs: 1000, pauseBeforeCommitMs: 0, pauseBeforeAckMs: 0 };

    before(async function () {
      redis = await requireRedis(this);
      client = await openRedisClient();
    });

    after(async () => {
      client?.destroy();
      await redis?.cleanup();
    });

    it('counts a batch with what was written, replayed and dropped as unreadable', async () => {
      const keys = new SpendKeys(`${redis.prefix}ok:`);
      await client.xAdd(keys.stream, '*', { e: encodeSpendEvent(anEvent('r-1')), w: '0' });
      await client.xAdd(keys.stream, '*', { e: encodeSpendEvent(anEvent('r-2')), w: '0' });
      await client.xAdd(keys.stream, '*', { e: 'not json', w: '0' });
      const stats = new MeteringStats();
      const flusher = new SpendFlusher(client, keys, aWriter(() => Promise.resolve(1)), options, logger, stats);
      expect(await flusher.flushOnce()).to.equal(3);
      expect(stats.batches).to.deep.equal({ ok: 1, failed: 0 });
      expect(stats.flushed).to.deep.equal({ written: 1, replayed: 1, unreadable: 1, refused: 0 });
    });

    it("drops only the entry whose row the database refuses, writes the rest, and moves on", async () => {
      const keys = new SpendKeys(`${redis.prefix}refused:`);
      for (const id of ['r-5', 'r-bad', 'r-6']) await client.xAdd(keys.stream, '*', { e: encodeSpendEvent(anEvent(id)), w: '0' });
      const refused = Object.assign(new Error('CONSTRAINT `request_tags` failed'), { code: 'ER_CONSTRAINT_FAILED' });
      const written: string[] = [];
      const writer = aWriter(async (batch) => {
        if (batch.some((item) => item.event.requestId === 'r-bad')) throw refused;
        written.push(...batch.map((item) => item.event.requestId));
        return batch.length;
      });
      const stats = new MeteringStats();
      const flusher = new SpendFlusher(client, keys, writer, options, logger, stats);
      expect(await flusher.flushOnce()).to.equal(3);
      expect(written).to.deep.equal(['r-5', 'r-6']);
      expect(stats.flushed).to.deep.include({ written: 2, replayed: 0, refused: 1 });
      expect(await client.xLen(keys.stream), 'nothing left to hold up later charges').to.equal(0);
    });

    it('counts a batch the database refused as failed (its entries stay queued)', async () => {
      const keys = new SpendKeys(`${redis.prefix}failed:`);
      await client.xAdd(keys.stream, '*', { e: encodeSpendEvent(anEvent('r-3')), w: '0' });
      const stats = new MeteringStats();
      const flusher = new SpendFlusher(client, keys, aWriter(() => Promise.reject(new Error('database down'))), options, logger, stats);
      flusher.start();
      try {
        await eventually(() => Promise.resolve(stats.batches.failed), (failed) => failed > 0, { limitMs: 5000, everyMs: 20 });
      } finally {
        await flusher.stop();
      }
      expect(stats.batches.failed).to.be.greaterThan(0);
      expect(stats.batches.ok).to.equal(0);
      expect(await client.xLen(keys.stream)).to.equal(1);
    });
  });
});
