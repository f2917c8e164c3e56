/**
 * Per-model budget windows (model_max_budget) on a real Redis (own key prefix, removed
 * afterwards): charged by the metering's RECORD_SPEND with the response, once per charge id, in
 * windows that open at their first charge and end a duration later, as LiteLLM's limiter keeps
 * them; and read by the spend overlay in the round trip it makes anyway.
 */
import { expect } from 'chai';
import { createClient } from 'redis';
import { modelBudgetName, type ModelBudgetCounter } from '../../src/checks/model-budget-scopes';
import { keyModelBudget } from '../../src/checks/key-model-budget';
import { teamModelBudget } from '../../src/checks/team-model-budget';
import type { Snapshot } from '../../src/checks/types';
import type { JsonObject } from '../../src/domain/entities';
import type { RedisClient } from '../../src/cache/redis-shared-cache';
import { SpendKeys } from '../../src/spend/redis-keys';
import { SpendCounters } from '../../src/spend/spend-counters';
import { windowLengthMs, type RedisSpendRecorder } from '../../src/spend/spend-recorder';
import type { SpendEvent } from '../../src/spend/spend-event';
import { aKey, aSnapshot, aTeam, aContext } from '../checks/fixtures';
import { probeRoundTrips } from '../support/round-trip-probe';
import { requireRedis, TEST_REDIS_URL, type TestRedis } from '../support/redis';
import { aRedisRecorder, aSpendEvent, openRedisClient, type TestRedisClient } from '../support/spend';

const TIMEOUT = 2000;
const daily = (limit: number): JsonObject => ({ max_budget: limit, budget_duration: '1d' });

describe('spend: per-model budget windows on Redis', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let keys: SpendKeys;
  let recorder: RedisSpendRecorder;
  let fellBack: unknown[];
  let n = 0;
  const unique = (label: string): string => `${label}-${(n += 1)}`;

  before(async function () {
    redis = await requireRedis(this);
    client = await openRedisClient();
    keys = new SpendKeys(redis.prefix);
    recorder = aRedisRecorder(client, redis.prefix, { timeoutMs: TIMEOUT, onFallback: (error) => fellBack.push(error) });
  });

  beforeEach(() => {
    fellBack = [];
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  const charge = (windows: readonly ModelBudgetCounter[], cost: number, chargeId = unique('charge')): Promise<boolean> => {
    const event: SpendEvent = { ...aSpendEvent({ chargeId, requestId: chargeId }), cost };
    return recorder.record({ ...event, attribution: { ...event.attribution, modelBudgets: windows } });
  };
  const spendOf = async (window: ModelBudgetCounter): Promise<number | null> => {
    const spend = await client.hGet(keys.modelBudget(window), 's');
    return spend === null || spend === undefined ? null : Number(spend);
  };

  it("charges each window the response's cost, once per charge id, in exact decimals", async () => {
    const key: ModelBudgetCounter = { scope: 'key', id: unique('hash'), budgetModel: 'gpt-4o', duration: '1d' };
    const team: ModelBudgetCounter = { scope: 'team', id: unique('team'), budgetModel: 'gpt-4o', duration: '30d' };
    expect(await charge([key, team], 0.1, 'same-charge')).to.equal(true);
    expect(await charge([key, team], 0.1, 'same-charge'), 'a replay').to.equal(false);
    expect(await charge([key], 0.2)).to.equal(true);
    expect(await spendOf(key)).to.equal(0.3);
    expect(await spendOf(team)).to.equal(0.1);
    expect(fellBack).to.deep.equal([]);
  });

  it('opens a window at its first charge, ending one duration later (its TTL), under the configured key prefix', async () => {
    const window: ModelBudgetCounter = { scope: 'user', id: unique('u'), budgetModel: 'gpt-4o', duration: '1h' };
    const before = Date.now();
    await charge([window], 0.5);
    const name = keys.modelBudget(window);
    expect(name.startsWith(`${redis.prefix}spend:mb:user:`)).to.equal(true);
    const ttl = await client.pTTL(name);
    expect(ttl).to.be.within(3_600_000 - 5_000, 3_600_000);
    const start = Number(await client.hGet(name, 't'));
    expect(start).to.be.within(before, Date.now());
    expect(Number(await client.hGet(name, 'd'))).to.equal(3_600_000);
  });

  it('starts a new window with the charge that comes after the window has passed (LiteLLM: current_time - budget_start > ttl)', async () => {
    const window: ModelBudgetCounter = { scope: 'end_user', id: unique('c'), budgetModel: 'gpt-4o', duration: '1h' };
    await charge([window], 0.5);
    await charge([window], 0.25);
    expect(await spendOf(window)).to.equal(0.75);
    // The window's start more than its length ago (its TTL lost, or a clock ahead): the next charge opens the next window.
    await client.hSet(keys.modelBudget(window), 't', String(Date.now() - 3_600_001));
    await charge([window], 0.1);
    expect(await spendOf(window)).to.equal(0.1);
    expect(await client.pTTL(keys.modelBudget(window))).to.be.greaterThan(3_500_000);
  });

  it('a window that has expired reads as nothing spent, and the next charge opens a new one', async () => {
    const window: ModelBudgetCounter = { scope: 'key', id: unique('hash'), budgetModel: 'o1', duration: '1s' };
    await charge([window], 3);
    const counters = new SpendCounters(client, keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: () => undefined });
    const snapshot = aSnapshot({ key: aKey({ token: window.id, model_max_budget: { o1: { max_budget: 1, budget_duration: '1s' } } }) });
    const overlaid = await counters.overlay(snapshot, new Date(), { model: 'o1' });
    expect(overlaid.modelBudgetSpend?.get(modelBudgetName(window))).to.equal(3);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = await counters.overlay(snapshot, new Date(), { model: 'o1' });
    expect(later.modelBudgetSpend?.get(modelBudgetName(window))).to.equal(0);
    await charge([window], 0.5);
    expect(await spendOf(window)).to.equal(0.5);
  });

  it('holds a window of 0d to its own charge, and one of millennia to a TTL Redis takes', async () => {
    expect(windowLengthMs('0d', Date.now())).to.equal(1);
    expect(windowLengthMs('99999999999999mo', Date.now())).to.equal(10_000_000_000_000);
    const long: ModelBudgetCounter = { scope: 'key', id: unique('hash'), budgetModel: 'gpt-4o', duration: '99999999999999d' };
    expect(await charge([long], 1)).to.equal(true);
    expect(fellBack, 'the charge stayed in Redis').to.deep.equal([]);
    expect(await spendOf(long)).to.equal(1);
  });

  describe('the spend overlay', () => {
    let counters: SpendCounters;
    before(() => {
      counters = new SpendCounters(client, keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: () => undefined });
    });

    const keyed = (token: string, limits: JsonObject, teamId: string | null = null): Snapshot =>
      aSnapshot({ key: aKey({ token, team_id: teamId, model_max_budget: limits }), team: teamId === null ? null : aTeam({ team_id: teamId, model_max_budget: { 'gpt-4o': daily(2), o1: daily(2) } }) });

    it("reads the windows of the request's models in the one round trip it makes for the spend counters", async () => {
      const token = unique('hash');
      const teamId = unique('team');
      const keyWindow: ModelBudgetCounter = { scope: 'key', id: token, budgetModel: 'gpt-4o', duration: '1d' };
      const teamWindow: ModelBudgetCounter = { scope: 'team', id: teamId, budgetModel: 'o1', duration: '1d' };
      await charge([keyWindow], 1.5);
      await charge([teamWindow], 2);
      const snapshot = keyed(token, { 'gpt-4o': daily(1) }, teamId);
      const probe = probeRoundTrips({ database: '\u0000none', redisPrefix: redis.prefix });
      let overlaid: Snapshot;
      try {
        overlaid = await counters.overlay(snapshot, new Date(), { model: ['gpt-4o', 'o1'] });
        expect(probe.redis, 'Redis commands').to.equal(1);
      } finally {
        probe.close();
      }
      // The key's own limit on gpt-4o overrides the team's there: the team's gpt-4o window is not read.
      expect([...(overlaid.modelBudgetSpend ?? new Map()).entries()]).to.deep.equal([
        [modelBudgetName(keyWindow), 1.5],
        [modelBudgetName(teamWindow), 2],
      ]);
      expect(overlaid.key?.spend, 'the key spend counter, read beside them').to.equal(0);
      const gpt = aContext({ request: { model: 'gpt-4o' }, snapshot: overlaid });
      expect(keyModelBudget.decide(gpt)?.message).to.match(/exceeded budget for model=gpt-4o$/);
      const o1 = aContext({ request: { model: 'o1' }, snapshot: overlaid });
      expect(teamModelBudget.decide(o1)?.message).to.equal(`LiteLLM Team: ${teamId}, exceeded budget for model=o1`);
    });

    it('reads nothing more for a request no per-model budget applies to', async () => {
      const snapshot = keyed(unique('hash'), { 'gpt-4o': daily(1) });
      const probe = probeRoundTrips({ database: '\u0000none', redisPrefix: redis.prefix });
      try {
        const overlaid = await counters.overlay(snapshot, new Date(), { model: 'claude-3' });
        expect(overlaid.modelBudgetSpend).to.equal(undefined);
        expect(probe.redis).to.equal(1);
      } finally {
        probe.close();
      }
    });

    it("reads no window as spent when Redis cannot answer, as LiteLLM's limiter does: never the rows' model_spend, which metering does not keep", async () => {
      // Never connected: not ready, so nothing is sent.
      const unready = new SpendCounters(createClient({ url: TEST_REDIS_URL }), keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: () => undefined });
      // Ready, but every script fails (a timeout, a fault).
      const errors: unknown[] = [];
      const failing = new SpendCounters(
        { isReady: true, evalSha: () => Promise.reject(new Error('down')), eval: () => Promise.reject(new Error('down')) } as unknown as RedisClient,
        keys,
        { timeoutMs: TIMEOUT, idleMs: 60_000, onError: (error) => errors.push(error) },
      );
      const token = unique('hash');
      // A model_spend far over the limit, as LiteLLM wrote it before Tollgate metered: not this window's spend.
      const stale = aSnapshot({ key: aKey({ token, model_max_budget: { 'gpt-4o': daily(1), o1: daily(0) }, model_spend: { 'gpt-4o': 50 } }) });
      for (const counters of [unready, failing]) {
        const overlaid = await counters.overlay(stale, new Date(), { model: ['gpt-4o', 'o1'] });
        expect(overlaid.key?.spend, 'the spend counters keep the database spend').to.equal(stale.key?.spend);
        expect(keyModelBudget.decide(aContext({ request: { model: 'gpt-4o' }, snapshot: overlaid }))).to.equal(null);
        expect(keyModelBudget.decide(aContext({ request: { model: 'o1' }, snapshot: overlaid }))?.type, 'a limit of 0 still refuses').to.equal('budget_exceeded');
      }
      expect(errors).to.have.length(1);
      const unbudgeted = aSnapshot({ key: aKey({ token }) });
      expect(await unready.overlay(unbudgeted, new Date(), { model: 'gpt-4o' }), 'nothing to read: the snapshot as loaded').to.equal(unbudgeted);
    });
  });
});
