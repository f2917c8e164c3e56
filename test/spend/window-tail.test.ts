/**
 * The window tails (spend/window-tail.ts) on a real Redis (own key prefix, removed afterwards):
 * RECORD_SPEND files each metered charge of a key, team, user and end user under the minute its
 * request started, once per charge id; the spend overlay reads them from the minute a cached
 * window's settled part ends, in the round trip it makes anyway, so a multi-window budget sees a
 * response as soon as it is charged, not once SpendLogs and the cache have caught up.
 */
import { expect } from 'chai';
import type { WindowSpend } from '../../src/domain/entities';
import { keyWindowBudgets, teamWindowBudgets } from '../../src/checks/window-budgets';
import { SpendKeys } from '../../src/spend/redis-keys';
import { SpendCounters, windowTailReads } from '../../src/spend/spend-counters';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import type { SpendEvent } from '../../src/spend/spend-event';
import { windowSpendId } from '../../src/spend/window-limits';
import { windowSpendTotal } from '../../src/spend/window-spend';
import { isTailReadable, tailFromMinute, WINDOW_TAIL_RETAIN_MS, withRedisTail } from '../../src/spend/window-tail';
import { aContext, aKey, aSnapshot, aTeam } from '../checks/fixtures';
import { requireRedis, type TestRedis } from '../support/redis';
import { aRedisRecorder, aSpendEvent, openRedisClient, type TestRedisClient } from '../support/spend';

const TIMEOUT = 2000;
const MINUTE = 60_000;
const daily = { budget_duration: '1d', max_budget: 1, reset_at: null };

/** A cached state summed at `now`, settled up to the minute `settledEnd`, with `tail` summed from SpendLogs after it. */
function aState(settledEnd: number, settled: number, tail: number): WindowSpend {
  return { start: settledEnd - 86_400_000, settledEnd, settled, settledRows: 3, tail, at: settledEnd + 15 * MINUTE, fullAt: settledEnd };
}

describe('spend: window tails, pure', () => {
  it('reads a tail from the minute the settled part ends; a settled end inside a minute leaves that minute out', () => {
    expect(tailFromMinute({ settledEnd: 100 * MINUTE })).to.equal(100);
    expect(tailFromMinute({ settledEnd: 100 * MINUTE + 1 })).to.equal(101);
  });

  it('takes the larger of the SpendLogs tail and the Redis tail (each a lower bound of the spend), keeping the settled end', () => {
    const state = aState(100 * MINUTE, 1, 0.5);
    expect(withRedisTail(state, 0.75)).to.deep.equal({ ...state, tail: 0.75 });
    expect(windowSpendTotal(withRedisTail(state, 0.75))).to.equal(1.75);
    expect(withRedisTail(state, 0.25), 'Redis lost a charge, or another writer wrote SpendLogs').to.equal(state);
    expect(withRedisTail(state, Number.NaN)).to.equal(state);
  });

  it('reads no tail the Redis hash may no longer hold in full (a state cached longer than the tails keep a minute)', () => {
    const now = 1000 * MINUTE;
    expect(isTailReadable({ settledEnd: now - 20 * MINUTE }, now)).to.equal(true);
    expect(isTailReadable({ settledEnd: now - WINDOW_TAIL_RETAIN_MS }, now)).to.equal(false);
  });

  it('reads nothing for a snapshot without windows, and no tail for a spend that is a number (a store that sums only in full)', () => {
    expect(windowTailReads(aSnapshot(), 0)).to.have.length(0);
    const id = windowSpendId('key', 'h', daily);
    expect(windowTailReads(aSnapshot({ budgetWindowSpend: new Map([[id, 3]]) }), 0)).to.have.length(0);
  });

  it('reads no tail for a value that is no readable state (the window check reads it as nothing spent, whatever the tail holds)', () => {
    const id = windowSpendId('key', 'h', daily);
    const now = 1000 * MINUTE;
    const unreadable = { ...aState(now - 16 * MINUTE, 0.5, 0), settled: null } as unknown as WindowSpend;
    expect(windowTailReads(aSnapshot({ budgetWindowSpend: new Map([[id, aState(now - 16 * MINUTE, 0.5, 0)]]) }), now)).to.have.length(1);
    expect(windowTailReads(aSnapshot({ budgetWindowSpend: new Map([[id, unreadable]]) }), now)).to.have.length(0);
  });
});

describe('spend: window tails on Redis', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let keys: SpendKeys;
  let recorder: RedisSpendRecorder;
  let counters: SpendCounters;
  let errors: unknown[];
  let n = 0;
  const unique = (label: string): string => `${label}-${(n += 1)}`;

  before(async function () {
    redis = await requireRedis(this);
    client = await openRedisClient();
    keys = new SpendKeys(redis.prefix);
    recorder = aRedisRecorder(client, redis.prefix, { timeoutMs: TIMEOUT, onFallback: (error) => errors.push(error) });
    counters = new SpendCounters(client, keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: (error) => errors.push(error) });
  });

  beforeEach(() => {
    errors = [];
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  const charge = (ids: { key: string; team?: string; user?: string; endUser?: string; org?: string }, cost: number, startTime: number, chargeId = unique('c')): Promise<boolean> => {
    const event: SpendEvent = { ...aSpendEvent({ chargeId, requestId: chargeId }), cost, startTime, endTime: startTime + 1000 };
    const attribution = {
      ...event.attribution,
      keyHash: ids.key,
      teamId: ids.team ?? null,
      userId: ids.user ?? null,
      endUserId: ids.endUser ?? null,
      orgId: ids.org ?? null,
    };
    return recorder.record({ ...event, attribution });
  };
  const tailOf = (kind: 'key' | 'team' | 'user' | 'end_user' | 'organization', id: string): Promise<Record<string, string>> =>
    client.hGetAll(keys.windowTail({ kind, id }));

  it("files a charge under its request's start minute in the key's, team's, user's and end user's tails, once per charge id", async () => {
    const [key, team, user, endUser, org] = [unique('k'), unique('t'), unique('u'), unique('e'), unique('o')];
    const start = Date.now() - 2 * MINUTE;
    const minute = String(Math.floor(start / MINUTE));
    expect(await charge({ key, team, user, endUser, org }, 0.1, start, 'same')).to.equal(true);
    expect(await charge({ key, team, user, endUser, org }, 0.1, start, 'same'), 'a replay').to.equal(false);
    await charge({ key }, 0.2, start);
    expect(await tailOf('key', key)).to.deep.equal({ [minute]: '0.3' });
    for (const [kind, id] of [['team', team], ['user', user], ['end_user', endUser]] as const) expect(await tailOf(kind, id)).to.deep.equal({ [minute]: '0.1' });
    expect(await tailOf('organization', org), 'an organization has no windows').to.deep.equal({});
    const ttl = await client.pTTL(keys.windowTail({ kind: 'key', id: key }));
    expect(ttl).to.be.within(WINDOW_TAIL_RETAIN_MS - 5000, WINDOW_TAIL_RETAIN_MS);
    expect(errors).to.deep.equal([]);
  });

  it('files nothing for a request that started before any minute a Check reads, and drops minutes that old as the tail grows', async () => {
    const key = unique('k');
    const now = Date.now();
    await charge({ key }, 0.5, now - WINDOW_TAIL_RETAIN_MS - 2 * MINUTE);
    expect(await tailOf('key', key)).to.deep.equal({});
    const name = keys.windowTail({ kind: 'key', id: key });
    const oldMinutes = Array.from({ length: 40 }, (_, i) => String(Math.floor(now / MINUTE) - 100 - i));
    for (const minute of oldMinutes) await client.hSet(name, minute, '1');
    await charge({ key }, 0.5, now);
    const left = Object.keys(await tailOf('key', key));
    expect(left).to.deep.equal([String(Math.floor(now / MINUTE))]);
  });

  it('completes a cached window with the charges after its settled end, so a window refuses at once', async () => {
    const [key, team] = [unique('k'), unique('t')];
    const now = Date.now();
    const settledEnd = Math.floor((now - 15 * MINUTE) / MINUTE) * MINUTE;
    await charge({ key, team }, 0.25, settledEnd - 1, unique('settled'));
    await charge({ key, team }, 0.25, settledEnd, unique('first-minute'));
    await charge({ key, team }, 0.5, now - 1000, unique('just-now'));
    const keyId = windowSpendId('key', key, daily);
    const teamId = windowSpendId('team', team, daily);
    const snapshot = aSnapshot({
      key: aKey({ token: key, budget_limits: [daily] }),
      team: aTeam({ team_id: team, budget_limits: [daily] }),
      // The key's SpendLogs showed nothing after the settled end yet; the team's showed more than Redis holds.
      budgetWindowSpend: new Map<string, WindowSpend | number>([
        [keyId, aState(settledEnd, 0.2, 0)],
        [teamId, aState(settledEnd, 0.2, 0.9)],
      ]),
    });
    const overlaid = await counters.overlay(snapshot, new Date(now));
    expect(windowSpendTotal(overlaid.budgetWindowSpend?.get(keyId))).to.be.closeTo(0.95, 1e-12);
    expect(windowSpendTotal(overlaid.budgetWindowSpend?.get(teamId))).to.be.closeTo(1.1, 1e-12);
    expect(keyWindowBudgets.decide(aContext({ snapshot }))).to.equal(null);
    expect(keyWindowBudgets.decide(aContext({ snapshot: overlaid }))).to.equal(null);
    expect(teamWindowBudgets.decide(aContext({ snapshot: overlaid }))?.message).to.match(/^ExceededBudget: Team=.* over 1d budget\. Spend=\$1\.1000, Limit=\$1\.00$/);
    await charge({ key }, 0.05, now - 500);
    const later = await counters.overlay(snapshot, new Date(now));
    expect(keyWindowBudgets.decide(aContext({ snapshot: later }))?.message).to.equal('ExceededBudget: Key over 1d budget. Spend=$1.0000, Limit=$1.00');
    expect(errors).to.deep.equal([]);
  });

  it('leaves the cached windows as summed when Redis does not answer (never more spend than SpendLogs shows)', async () => {
    const down = await openRedisClient();
    const key = unique('k');
    const id = windowSpendId('key', key, daily);
    const state = aState(Math.floor((Date.now() - 15 * MINUTE) / MINUTE) * MINUTE, 0.2, 0.3);
    const snapshot = aSnapshot({ key: aKey({ token: key, budget_limits: [daily] }), budgetWindowSpend: new Map([[id, state]]) });
    await down.quit();
    const failing = new SpendCounters(down, keys, { timeoutMs: TIMEOUT, idleMs: 60_000, onError: (error) => errors.push(error) });
    const overlaid = await failing.overlay(snapshot, new Date());
    expect(windowSpendTotal(overlaid.budgetWindowSpend?.get(id))).to.equal(0.5);
  });
});
