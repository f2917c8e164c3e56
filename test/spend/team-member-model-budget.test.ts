/**
 * A team member's per-model counters (the team's team_member_model_max_budget) on a real Redis
 * (own key prefix, removed afterwards): charged by the metering's RECORD_SPEND with the response,
 * once per charge id, never expiring (LiteLLM never resets its counter); read by the spend overlay
 * in the round trip it makes anyway, only for a request whose model the team limits.
 */
import { expect } from 'chai';
import { createClient } from 'redis';
import { teamMemberModelBudget, type TeamMemberModelCounter } from '../../src/checks/team-member-model-budget';
import type { Snapshot } from '../../src/checks/types';
import type { JsonObject } from '../../src/domain/entities';
import { UNREAD_MODEL } from '../../src/domain/request';
import type { RedisClient } from '../../src/cache/redis-shared-cache';
import { SpendKeys } from '../../src/spend/redis-keys';
import { SpendCounters } from '../../src/spend/spend-counters';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import type { SpendEvent } from '../../src/spend/spend-event';
import { aContext, aKey, aSnapshot, aTeam } from '../checks/fixtures';
import { probeRoundTrips } from '../support/round-trip-probe';
import { requireRedis, TEST_REDIS_URL, type TestRedis } from '../support/redis';
import { aRedisRecorder, aSpendEvent, openRedisClient, type TestRedisClient } from '../support/spend';

const TIMEOUT = 2000;

describe('spend: team member per-model counters on Redis', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let keys: SpendKeys;
  let recorder: RedisSpendRecorder;
  let counters: SpendCounters;
  let fellBack: unknown[];
  let n = 0;
  const unique = (label: string): string => `${label}-${(n += 1)}`;

  before(async function () {
    redis = await requireRedis(this);
    client = await openRedisClient();
    keys = new SpendKeys(redis.prefix);
    recorder = aRedisRecorder(client, redis.prefix, { timeoutMs: TIMEOUT, onFallback: (error) => fellBack.push(error) });
    counters = new SpendCounters(client, keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: () => undefined });
  });

  beforeEach(() => {
    fellBack = [];
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  const charge = (counter: TeamMemberModelCounter | undefined, cost: number, chargeId = unique('charge')): Promise<boolean> => {
    const event: SpendEvent = { ...aSpendEvent({ chargeId, requestId: chargeId }), cost };
    return recorder.record({ ...event, attribution: { ...event.attribution, ...(counter === undefined ? {} : { teamMemberModel: counter }) } });
  };
  const spendOf = async (counter: TeamMemberModelCounter): Promise<number | null> => {
    const spend = await client.get(keys.teamMemberModel(counter));
    return spend === null ? null : Number(spend);
  };
  const memberOf = (userId: string, teamId: string, limits: JsonObject): Snapshot =>
    aSnapshot({ key: aKey({ token: unique('hash'), user_id: userId, team_id: teamId }), team: aTeam({ team_id: teamId, metadata: { team_member_model_max_budget: limits } }) });

  it("charges the member's counter the response's cost, once per charge id, with no expiry (LiteLLM never resets it)", async () => {
    const counter: TeamMemberModelCounter = { userId: unique('u'), teamId: unique('t'), model: 'gpt-4o' };
    expect(await charge(counter, 0.1, 'same-member-charge')).to.equal(true);
    expect(await charge(counter, 0.1, 'same-member-charge'), 'a replay').to.equal(false);
    expect(await charge(counter, 0.2)).to.equal(true);
    expect(await spendOf(counter)).to.be.closeTo(0.3, 1e-12);
    const name = keys.teamMemberModel(counter);
    expect(name.startsWith(`${redis.prefix}spend:tmm:`)).to.equal(true);
    expect(await client.pTTL(name), 'no TTL').to.equal(-1);
    expect(fellBack).to.deep.equal([]);
  });

  it("reads the caller's counter of the request's model in the one round trip the overlay makes, and the check refuses at the limit", async () => {
    const teamId = unique('team');
    const limits = { 'gpt-4o': { max_budget: 0.5 }, o1: { max_budget: 10 } };
    const alice = memberOf(unique('alice'), teamId, limits);
    const bob = memberOf(unique('bob'), teamId, limits);
    await charge({ userId: alice.key?.user_id ?? '', teamId, model: 'gpt-4o' }, 0.5);
    const probe = probeRoundTrips({ database: '\u0000none', redisPrefix: redis.prefix });
    let overlaid: Snapshot;
    try {
      overlaid = await counters.overlay(alice, new Date(), { model: 'gpt-4o' });
      expect(probe.redis, 'Redis commands').to.equal(1);
    } finally {
      probe.close();
    }
    expect([...(overlaid.teamMemberModelSpend ?? new Map()).entries()], 'the request model only').to.deep.equal([['gpt-4o', 0.5]]);
    expect(overlaid.key?.spend, 'the key spend counter, read beside it').to.equal(0);
    expect(teamMemberModelBudget.decide(aContext({ request: { model: 'gpt-4o' }, snapshot: overlaid }))?.message).to.equal(
      `ExceededBudget: Team member model budget exceeded. User=${alice.key?.user_id}, Team=${teamId}, Model=gpt-4o. Spend=$0.500000, Budget=$0.500000`,
    );
    const bobs = await counters.overlay(bob, new Date(), { model: 'gpt-4o' });
    expect(bobs.teamMemberModelSpend?.get('gpt-4o'), "another member's own counter").to.equal(0);
    expect(teamMemberModelBudget.decide(aContext({ request: { model: 'gpt-4o' }, snapshot: bobs }))).to.equal(null);
  });

  it('reads every limited entry for a model Envoy cut from the body', async () => {
    const teamId = unique('team');
    const member = memberOf(unique('carol'), teamId, { 'gpt-4o': { max_budget: 5 }, o1: { max_budget: 1 }, free: {} });
    await charge({ userId: member.key?.user_id ?? '', teamId, model: 'o1' }, 1);
    const overlaid = await counters.overlay(member, new Date(), { model: UNREAD_MODEL });
    expect([...(overlaid.teamMemberModelSpend ?? new Map()).entries()]).to.deep.equal([
      ['gpt-4o', 0],
      ['o1', 1],
    ]);
    expect(teamMemberModelBudget.decide(aContext({ request: { model: UNREAD_MODEL }, snapshot: overlaid }))?.message).to.contain('Model=o1.');
  });

  it("reads nothing more for a request whose model the team does not limit per member", async () => {
    const member = memberOf(unique('dave'), unique('team'), { 'gpt-4o': { max_budget: 1 } });
    const probe = probeRoundTrips({ database: '\u0000none', redisPrefix: redis.prefix });
    try {
      const overlaid = await counters.overlay(member, new Date(), { model: 'claude-3' });
      expect(overlaid).to.not.have.property('teamMemberModelSpend');
      expect(probe.redis).to.equal(1);
    } finally {
      probe.close();
    }
  });

  it('reads as nothing spent when Redis cannot answer (a limit of 0 still refuses)', async () => {
    const unready = new SpendCounters(createClient({ url: TEST_REDIS_URL }), keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: () => undefined });
    const failing = new SpendCounters(
      { isReady: true, evalSha: () => Promise.reject(new Error('down')), eval: () => Promise.reject(new Error('down')) } as unknown as RedisClient,
      keys,
      { timeoutMs: TIMEOUT, idleMs: 60_000, onError: () => undefined },
    );
    const teamId = unique('team');
    const member = memberOf(unique('erin'), teamId, { 'gpt-4o': { max_budget: 1 }, o1: { max_budget: 0 } });
    await charge({ userId: member.key?.user_id ?? '', teamId, model: 'gpt-4o' }, 5);
    for (const down of [unready, failing]) {
      const overlaid = await down.overlay(member, new Date(), { model: 'gpt-4o' });
      expect(teamMemberModelBudget.decide(aContext({ request: { model: 'gpt-4o' }, snapshot: overlaid }))).to.equal(null);
      const zero = await down.overlay(member, new Date(), { model: 'o1' });
      expect(teamMemberModelBudget.decide(aContext({ request: { model: 'o1' }, snapshot: zero }))?.type).to.equal('budget_exceeded');
    }
  });
});
