/**
 * `tollgate spend set` on the shared counters, against a real Redis (own key prefix, removed
 * afterwards): the counter takes the new spend as a fresh seed would, and keeps what belongs to
 * work in flight.
 */
import { expect } from 'chai';
import { READ_COUNTERS, RECORD_SPEND } from '../../src/spend/counter-scripts';
import { replyArray } from '../../src/cache/lua-script';
import { SpendKeys } from '../../src/spend/redis-keys';
import { budgetWindowOf, overrideCounterSpend } from '../../src/spend/spend-override';
import type { SpendTarget } from '../../src/spend/targets';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { aBudget, aKey } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';
import { requireRedis, type TestRedis } from '../support/redis';
import { openRedisClient, type TestRedisClient } from '../support/spend';

const TIMEOUT = 2000;
const IDLE = 3_600_000;
const DAY = 86_400_000;

describe('spend: overriding a counter (tollgate spend set)', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let keys: SpendKeys;
  let n = 0;
  const aTarget = (): SpendTarget => ({ kind: 'team', id: `override-${(n += 1)}` });
  const options = (create: boolean) => ({ create, idleMs: IDLE, timeoutMs: TIMEOUT });
  const override = (target: SpendTarget, spend: number, window: { budget_duration: string | null; budget_reset_at: Date | null } | null, create = false, now = Date.now()) =>
    overrideCounterSpend(client, keys, target, spend, window, now, options(create));
  const read = async (target: SpendTarget, windowEnd: number, seed: number, now = Date.now()): Promise<number> =>
    Number(
      replyArray(
        await READ_COUNTERS.run(client, [keys.counter(target)], [String(now), String(IDLE), '1', '0', '0', '0', String(windowEnd), String(windowEnd - 30 * DAY), String(seed)], TIMEOUT),
      )[0],
    );

  before(async function () {
    redis = await requireRedis(this);
    keys = new SpendKeys(redis.prefix);
    client = await openRedisClient();
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  it('overwrites a live counter so the next read sees the new spend, not the old one', async () => {
    const target = aTarget();
    await read(target, 0, 12.5);
    expect(await override(target, 0, null)).to.deep.equal({ counter: 'overwritten', value: 0, queued: 0 });
    expect(await read(target, 0, 12.5), 'a reader with a stale cached seed still reads the override').to.equal(0);
  });

  it('keeps reservations and the queued-event count, and reports how many charges are queued', async () => {
    const target = aTarget();
    const key = keys.counter(target);
    await read(target, 0, 1);
    await client.hSet(key, 'r', '0.4');
    await RECORD_SPEND.run(client, [keys.done(`q-${n}`), keys.stream, keys.reservation(`q-${n}`), key], [`q-${n}`, '0.5', '{}', '60000', '1', '0', '120000'], TIMEOUT);
    expect(await override(target, 3, null)).to.deep.equal({ counter: 'overwritten', value: 3, queued: 1 });
    expect(await client.hGetAll(key)).to.deep.include({ s: '3', r: '0.4', n: '1' });
    expect(await client.ttl(key), 'queued events keep the counter alive').to.equal(-1);
  });

  it('leaves an absent counter absent when not metering (the next Check seeds it from the column)', async () => {
    const target = aTarget();
    expect(await override(target, 5, null)).to.deep.equal({ counter: 'absent' });
    expect(await client.exists(keys.counter(target))).to.equal(0);
  });

  it('creates an absent counter when metering, with the window and an idle expiry, so no stale cached seed can win', async () => {
    const target = aTarget();
    const now = Date.now();
    const window = { budget_duration: '30d', budget_reset_at: new Date(now + DAY) };
    expect(await override(target, 5, window, true, now)).to.deep.equal({ counter: 'created', value: 5, queued: 0 });
    expect(await client.hGetAll(keys.counter(target))).to.deep.equal({ s: '5', w: String(now + DAY), p: `${now + DAY - 30 * DAY}@${now + DAY}`, r: '0' });
    expect(await client.pTTL(keys.counter(target))).to.be.within(DAY, DAY + IDLE);
    expect(await read(target, now + DAY, 99, now)).to.equal(5);
  });

  it('counts only the current window: a column whose window has elapsed is 0 in the counter, as a seed would be', async () => {
    const target = aTarget();
    const now = Date.now();
    const window = { budget_duration: '1d', budget_reset_at: new Date(now - 1000) };
    expect(await override(target, 7, window, true, now)).to.deep.equal({ counter: 'created', value: 0, queued: 0 });
    // The next midnight (UTC): where LiteLLM's reset job puts a passed 1d reset.
    const midnight = new Date(now - 1000);
    expect(await client.hGet(keys.counter(target), 'w')).to.equal(String(Date.UTC(midnight.getUTCFullYear(), midnight.getUTCMonth(), midnight.getUTCDate() + 1)));
  });

  it('drops the not-yet-seeded mark of a counter a charge created, so the column is not added on top', async () => {
    const target = aTarget();
    const key = keys.counter(target);
    await RECORD_SPEND.run(client, [keys.done(`u-${n}`), keys.stream, keys.reservation(`u-${n}`), key], [`u-${n}`, '0.25', '{}', '60000', '1', '0', '120000'], TIMEOUT);
    await override(target, 2, null);
    expect(await read(target, 0, 2)).to.equal(2);
  });

  it('reads the window where the Check path does: own row for keys, users and teams; budget row for the others', async () => {
    const store = new MemoryStore();
    const config = parseLiteLlmConfig('{}', {});
    const resetAt = new Date(Date.UTC(2030, 0, 1));
    store.keys.set('hash-1', aKey({ token: 'hash-1', budget_duration: '1d', budget_reset_at: resetAt }));
    const budget = aBudget({ budget_duration: '7d', budget_reset_at: resetAt });
    store.endUsers.set('cust', { user_id: 'cust', alias: null, spend: 0, blocked: false, allowed_model_region: null, budget_id: 'b', budget });
    expect(await budgetWindowOf(store, config, 'key', 'hash-1')).to.include({ budget_duration: '1d', budget_reset_at: resetAt });
    expect(await budgetWindowOf(store, config, 'end_user', 'cust')).to.include({ budget_duration: '7d' });
    expect(await budgetWindowOf(store, config, 'team', 'missing')).to.equal(null);
  });
});
