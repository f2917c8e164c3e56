/**
 * The spend scripts against a real Redis (own key prefix, removed afterwards): seeding once from
 * any number of replicas, atomic window resets, idempotent charges and acknowledgements,
 * reservations that are admitted atomically, released once and expire by themselves.
 */
import { expect } from 'chai';
import { createClient } from 'redis';
import { ACK_FLUSHED, ADMIT, COUNT_TOKENS, READ_COUNTERS, RECORD_SPEND, RELEASE_RESERVATION, SET_COUNTER_SPEND } from '../../src/spend/counter-scripts';
import { replyArray } from '../../src/cache/lua-script';
import { SpendKeys, FLUSH_GROUP } from '../../src/spend/redis-keys';
import { requireRedis, TEST_REDIS_URL, type TestRedis } from '../support/redis';

type Client = ReturnType<typeof createClient>;
const TIMEOUT = 2000;
const IDLE = 3_600_000;

describe('spend: counter scripts on Redis', function () {
  let redis: TestRedis;
  let clients: Client[] = [];
  let keys: SpendKeys;
  let n = 0;
  const fresh = (): string => `${keys.counter({ kind: 'team', id: `t${(n += 1)}` })}`;

  before(async function () {
    redis = await requireRedis(this);
    keys = new SpendKeys(redis.prefix);
    clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = createClient({ url: TEST_REDIS_URL });
        client.on('error', () => undefined);
        await client.connect();
        return client;
      }),
    );
  });

  after(async () => {
    clients.forEach((c) => c.destroy());
    await redis?.cleanup();
  });

  /** Windows here last a second unless `windowStart` says otherwise. */
  const read = async (key: string, windowEnd: number, seed: number, now = Date.now(), client = clients[0], windowStart = windowEnd === 0 ? 0 : windowEnd - 1000): Promise<number> =>
    Number(
      replyArray(await READ_COUNTERS.run(client, [key], [String(now), String(IDLE), '1', '0', '0', '0', String(windowEnd), String(windowStart), String(seed)], TIMEOUT))[0],
    );

  const record = (rid: string, counters: string[], amount: number, tokens = 0, buckets: string[] = []) =>
    RECORD_SPEND.run(
      clients[0],
      [keys.done(rid), keys.stream, keys.reservation(rid), ...counters, ...buckets],
      [rid, String(amount), JSON.stringify({ rid }), '60000', String(counters.length), String(tokens), '120000'],
      TIMEOUT,
    );

  it('seeds a counter once, whatever the number of replicas seeding it at the same time (never N × the database spend)', async () => {
    const key = fresh();
    const values = await Promise.all(Array.from({ length: 40 }, (_, i) => read(key, 0, 5, Date.now(), clients[i % clients.length])));
    expect(new Set(values)).to.deep.equal(new Set([5]));
    expect(await read(key, 0, 999)).to.equal(5);
  });

  it('charges once per request id, queues the event once, and keeps exact decimal sums', async () => {
    const key = fresh();
    await read(key, 0, 0.1);
    const before = await clients[0].xLen(keys.stream).catch(() => 0);
    expect(await record('r-1', [key], 0.2)).to.equal(1);
    expect(await record('r-1', [key], 0.2)).to.equal(0);
    expect(await read(key, 0, 0)).to.equal(0.3);
    expect(await clients[0].xLen(keys.stream)).to.equal(before + 1);
    expect(await clients[0].hGet(key, 'n')).to.equal('1');
    expect(await clients[0].ttl(key), 'a counter with queued events never expires').to.equal(-1);
  });

  it('resets a counter atomically when a newer budget window starts, and only once', async () => {
    const key = fresh();
    const now = Date.now();
    await read(key, now + 1000, 3, now);
    await record(`r-w-${n}`, [key], 1);
    expect(await read(key, now + 1000, 0, now)).to.equal(4);
    const next = now + 2000;
    const afterReset = await Promise.all(clients.map((c) => read(key, next, 0, now + 1500, c)));
    expect(afterReset).to.deep.equal([0, 0, 0, 0]);
    await record(`r-w2-${n}`, [key], 0.5);
    expect(await read(key, next, 0, now + 1600), 'a late reader of the same window does not reset again').to.equal(0.5);
    expect(await read(key, now + 1000, 0, now + 1600), 'a reader with a stale (older) window reads, never resets').to.equal(0.5);
    expect(await clients[0].hGet(key, 'w'), 'nor moves the window back').to.equal(String(next));
  });

  it("follows a row whose window was edited, keeping the spend (LiteLLM keeps the column), however replicas disagree meanwhile", async () => {
    const key = fresh();
    const now = Date.now();
    const day = 86_400_000;
    // A 30-day window ending in 20 days, with 4 spent.
    await read(key, now + 20 * day, 4, now, clients[0], now - 10 * day);
    // budget_duration set to 1d: LiteLLM moves budget_reset_at to tomorrow, spend unchanged.
    expect(await read(key, now + day, 4, now, clients[0], now)).to.equal(4);
    expect(await clients[0].hGet(key, 'w'), 'the shorter window taken').to.equal(String(now + day));
    // A replica still caching the old row, then a fresh one: the window moves, the spend never.
    expect(await read(key, now + 20 * day, 4, now + 1, clients[1], now - 10 * day)).to.equal(4);
    expect(await read(key, now + day, 4, now + 2, clients[2], now)).to.equal(4);
    await record(`r-e-${n}`, [key], 1);
    expect(await read(key, now + 20 * day, 0, now + 3, clients[3], now - 10 * day)).to.equal(5);
    // Every cache refreshed (a minute at most), and past the shorter window's end: the next day's window starts from 0.
    expect(await read(key, now + day, 0, now + 60_000, clients[2], now)).to.equal(5);
    expect(await read(key, now + 2 * day, 0, now + day, clients[0], now + day)).to.equal(0);
  });

  it("resets when the counter's window has ended, even if the caller's window (a month stepped back, clamped) starts earlier", async () => {
    const key = fresh();
    const jan31 = Date.UTC(2031, 0, 31);
    const minutes10 = 600_000;
    await read(key, jan31, 42, jan31 - 1000, clients[0], Date.UTC(2030, 11, 31));
    // LiteLLM's reset job moved budget_reset_at to Feb 28 00:10; a month back from there is Jan 28 00:10.
    expect(await read(key, Date.UTC(2031, 1, 28) + minutes10, 0, jan31 + minutes10, clients[0], Date.UTC(2031, 0, 28) + minutes10)).to.equal(0);
  });

  it('keeps the spend when a window is given to an entity that had none', async () => {
    const key = fresh();
    const now = Date.now();
    await read(key, 0, 7);
    expect(await read(key, now + 30 * 86_400_000, 7, now, clients[0], now)).to.equal(7);
    expect(await clients[0].hGet(key, 'w')).to.equal(String(now + 30 * 86_400_000));
  });

  it('trusts a window start only next to its own end, and learns the start of a counter written without one', async () => {
    const now = Date.now();
    const [w1, w2] = [now + 1000, now + 2000];
    // As a version that kept no starts leaves a counter after resetting it: the start of the window before.
    const reset = fresh();
    await clients[0].hSet(reset, { s: '2', w: String(w2), p: `${now}@${w1}` });
    expect(await read(reset, w1, 0, now + 999), 'a caller a moment behind').to.equal(2);
    expect(await clients[0].hGet(reset, 'w'), 'the window is not moved back').to.equal(String(w2));
    // Written without a start: the first caller in its window gives it one, and an edit is then followed.
    const old = fresh();
    await clients[0].hSet(old, { s: '3', w: String(now + 30 * 86_400_000) });
    expect(await read(old, now + 30 * 86_400_000, 0, now, clients[0], now)).to.equal(3);
    expect(await clients[0].hGet(old, 'p')).to.equal(`${now}@${now + 30 * 86_400_000}`);
    expect(await read(old, now + 86_400_000, 0, now + 1, clients[0], now + 1)).to.equal(3);
    expect(await clients[0].hGet(old, 'w'), 'the shorter window taken').to.equal(String(now + 86_400_000));
  });

  it('does not reset for a clock a moment behind at a window boundary, nor for one a moment ahead twice', async () => {
    const key = fresh();
    const now = Date.now();
    await read(key, now + 1000, 2, now);
    expect(await read(key, now + 2000, 0, now + 1000), 'ahead: the next window').to.equal(0);
    await record(`r-b-${n}`, [key], 0.5);
    expect(await read(key, now + 1000, 9, now + 999), 'behind: still the window just ended').to.equal(0.5);
    expect(await read(key, now + 2000, 0, now + 1001)).to.equal(0.5);
  });

  it('adds the database seed to a counter first created by a charge (after Redis lost its data)', async () => {
    const key = fresh();
    await record(`r-u-${n}`, [key], 0.25);
    expect(await read(key, 0, 10)).to.equal(10.25);
    expect(await read(key, 0, 10), 'seeded once').to.equal(10.25);
  });

  interface QueuedEntry {
    readonly id: string;
    /** The counter's window as RECORD_SPEND wrote it: 'u' when charged unseeded. */
    readonly window: string;
  }

  /** The stream entries by charge, read through the flush group as the flusher reads them. */
  const queuedEntries = async (): Promise<Map<string, QueuedEntry>> => {
    await clients[0].sendCommand(['XGROUP', 'CREATE', keys.stream, FLUSH_GROUP, '0', 'MKSTREAM']).catch(() => undefined);
    const reply = (await clients[0].sendCommand(['XREADGROUP', 'GROUP', FLUSH_GROUP, 'c1', 'COUNT', '1000', 'STREAMS', keys.stream, '>'])) as
      | [string, [string, string[]][]][]
      | null;
    return new Map(
      (reply?.[0][1] ?? []).map(([id, fields]) => [(JSON.parse(fields[1]) as { rid: string }).rid, { id, window: fields[3] }]),
    );
  };

  /** Acknowledges entries read but left alone by a test, touching no counter, so the stream ends empty. */
  const acknowledgeAll = (entries: Iterable<QueuedEntry>) =>
    Promise.all(
      [...entries].map(({ id }) => ACK_FLUSHED.run(clients[0], [keys.stream], [FLUSH_GROUP, String(IDLE), String(Date.now()), '1', id, '0', '0'], TIMEOUT)),
    );

  /** What the flusher does after its commit: acknowledges one entry, charged `amount` to `counter`. */
  const acknowledge = (counter: string, entry: QueuedEntry | undefined, amount: number) =>
    ACK_FLUSHED.run(
      clients[0],
      [keys.stream, counter],
      [FLUSH_GROUP, String(IDLE), String(Date.now()), '1', String(entry?.id), String(amount), '1', entry?.window === 'u' ? '-1' : '1'],
      TIMEOUT,
    );

  it('does not count twice a charge flushed before its counter was seeded (the seed holds it already)', async () => {
    const key = fresh();
    await record(`r-f1-${n}`, [key], 0.25);
    await record(`r-f2-${n}`, [key], 0.5);
    const entries = await queuedEntries();
    expect(entries.get(`r-f1-${n}`)?.window, 'queued as charged unseeded').to.equal('u');
    await acknowledge(key, entries.get(`r-f1-${n}`), 0.25);
    await acknowledge(key, entries.get(`r-f1-${n}`), 0.25); // replayed: counted once
    // The database: 10 from before the counter existed, + the 0.25 flushed. The 0.5 is still queued.
    expect(await read(key, 0, 10.25)).to.equal(10.75);
    expect(await read(key, 0, 99), 'seeded once').to.equal(10.75);
    expect(await clients[0].hmGet(key, ['u', 'f'])).to.deep.equal([null, null]);
    await acknowledge(key, entries.get(`r-f2-${n}`), 0.5);
    expect(await read(key, 0, 0), 'a flush after the seed changes nothing').to.equal(10.75);
    await acknowledgeAll(entries.values());
  });

  it("counts in 'f' only charges made while unseeded, not those of a counter deleted before", async () => {
    const key = fresh();
    await read(key, 0, 1);
    await record(`r-old-${n}`, [key], 2);
    await clients[0].del(key); // an operator re-seeding it, or lost
    await record(`r-new-${n}`, [key], 0.25);
    const entries = await queuedEntries();
    await acknowledge(key, entries.get(`r-old-${n}`), 2);
    await acknowledge(key, entries.get(`r-new-${n}`), 0.25);
    // The database: 1 + 2 + 0.25; the counter holds only the 0.25.
    expect(await read(key, 0, 3.25)).to.equal(3.25);
    await acknowledgeAll(entries.values());
  });

  it('adds nothing from a seed read before the flushes it should hold (never below the charges it has)', async () => {
    const key = fresh();
    await record(`r-s-${n}`, [key], 0.25);
    const entries = await queuedEntries();
    await acknowledge(key, entries.get(`r-s-${n}`), 0.25);
    expect(await read(key, 0, 0.1)).to.equal(0.25);
    await acknowledgeAll(entries.values());
  });

  it('acknowledges a flushed entry once: a replayed acknowledgement changes no counter', async () => {
    const key = fresh();
    await read(key, 0, 0);
    await clients[0].sendCommand(['XGROUP', 'CREATE', keys.stream, FLUSH_GROUP, '0', 'MKSTREAM']).catch(() => undefined);
    await record(`r-a-${n}`, [key], 1);
    const reply = (await clients[0].sendCommand(['XREADGROUP', 'GROUP', FLUSH_GROUP, 'c1', 'COUNT', '1000', 'STREAMS', keys.stream, '>'])) as [string, [string, string[]][]][];
    const ids = reply[0][1].map(([id]) => id);
    const args = [FLUSH_GROUP, '1000', String(Date.now()), String(ids.length), ...ids.flatMap((id) => [id, '1', '1', '1'])];
    await ACK_FLUSHED.run(clients[0], [keys.stream, key], args, TIMEOUT);
    await ACK_FLUSHED.run(clients[0], [keys.stream, key], args, TIMEOUT);
    expect(await clients[0].hGet(key, 'n')).to.equal(null);
    expect(await clients[0].pTTL(key), 'fully flushed: idle expiry set again').to.be.within(1, 1000);
    expect(await clients[0].xLen(keys.stream)).to.equal(0);
  });

  describe('admission (reservations and rate limits)', () => {
    /** `tokens`: the request's token estimate, reserved on its tpm limits. */
    const admit = (rid: string, counter: string, max: number, estimate: number, now = Date.now(), limits: Array<[string, string, number, 'rpm' | 'tpm']> = [], tokens = 1) =>
      ADMIT.run(
        clients[0],
        [keys.reservation(rid), ...limits.flatMap(([current, previous]) => [current, previous]), counter],
        [
          String(now),
          String(limits.length),
          '1',
          rid,
          String(estimate),
          String(now + 1000),
          '61000',
          String(IDLE),
          '120000',
          String(tokens),
          ...limits.flatMap(([, , limit, metric]) => [String(limit), metric]),
          String(max),
          '0',
          '0',
          '0',
        ],
        TIMEOUT,
      );

    it('admits only while spend + reserved + estimate fits, across concurrent admissions', async () => {
      const key = fresh();
      const verdicts = await Promise.all(Array.from({ length: 10 }, (_, i) => admit(`res-${n}-${i}`, key, 1, 0.3)));
      expect(verdicts.filter((v) => Array.isArray(v) && v[0] === 'ok')).to.have.length(3);
      expect(Number(await clients[0].hGet(key, 'r'))).to.be.closeTo(0.9, 1e-12);
      const refused = verdicts.find((v) => Array.isArray(v) && v[0] === 'over_budget');
      expect(refused).to.deep.equal(['over_budget', 1, '0', '0.9']);
    });

    it('gives a reservation back once, by release or by the charge that settles it', async () => {
      const key = fresh();
      await admit(`rel-${n}`, key, 1, 0.4);
      await admit(`set-${n}`, key, 1, 0.4);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`rel-${n}`)], [`rel-${n}`], TIMEOUT);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`rel-${n}`)], [`rel-${n}`], TIMEOUT);
      expect(Number(await clients[0].hGet(key, 'r'))).to.be.closeTo(0.4, 1e-12);
      await record(`set-${n}`, [key], 0.35);
      expect(await clients[0].hGet(key, 'r')).to.equal('0');
      expect(Number(await clients[0].hGet(key, 's'))).to.be.closeTo(0.35, 1e-12);
    });

    it('drops reservations past their expiry (their response never came): no phantom spend', async () => {
      const key = fresh();
      const now = Date.now();
      await admit(`lost-${n}`, key, 1, 0.9, now);
      expect(await admit(`next-${n}`, key, 1, 0.9, now + 500)).to.deep.equal(['over_budget', 1, '0', '0.9']);
      expect(await admit(`later-${n}`, key, 1, 0.9, now + 1001)).to.deep.equal(['ok']);
    });

    const reserved = async (counter: string): Promise<string | null> => (await clients[0].hGet(counter, 'r')) ?? null;

    it('keeps the reserved total whole when the counter is lost (evicted) while its reservations are held', async () => {
      const key = fresh();
      await admit(`ev1-${n}`, key, 10, 0.4);
      await admit(`ev2-${n}`, key, 10, 0.5);
      await clients[0].del(key);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`ev1-${n}`)], [`ev1-${n}`], TIMEOUT);
      expect(await clients[0].exists(key), 'a release does not bring back a counter without its spend').to.equal(0);
      expect(await admit(`ev3-${n}`, key, 10, 0.25)).to.deep.equal(['ok']);
      expect(Number(await reserved(key)), 'rebuilt from the reservations still held').to.be.closeTo(0.75, 1e-12);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`ev2-${n}`)], [`ev2-${n}`], TIMEOUT);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`ev3-${n}`)], [`ev3-${n}`], TIMEOUT);
      expect(await reserved(key), 'never below zero').to.equal('0');
    });

    it('settles a reservation on a lost counter with a charge that re-creates the counter unseeded, its database spend then added', async () => {
      const key = fresh();
      await admit(`evr-${n}`, key, 10, 0.4);
      await admit(`evo-${n}`, key, 10, 0.5);
      await clients[0].del(key);
      await record(`evr-${n}`, [key], 0.3);
      expect(await clients[0].hmGet(key, ['u', 'r'])).to.deep.equal(['1', '0.5']);
      expect(await read(key, 0, 5)).to.equal(5.3);
    });

    it('keeps the reserved total when `spend set` re-creates a lost counter', async () => {
      const key = fresh();
      await admit(`so1-${n}`, key, 10, 0.5);
      await admit(`so2-${n}`, key, 10, 0.5);
      await clients[0].del(key);
      const now = Date.now();
      await SET_COUNTER_SPEND.run(clients[0], [key], ['3', '0', String(now), String(IDLE), '1', '0'], TIMEOUT);
      expect(Number(await reserved(key))).to.be.closeTo(1, 1e-12);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`so1-${n}`)], [`so1-${n}`], TIMEOUT);
      expect(Number(await reserved(key))).to.be.closeTo(0.5, 1e-12);
    });

    it('lets the reservation set expire after its last member, and then counts nothing reserved', async () => {
      const key = fresh();
      const now = Date.now();
      await admit(`ex1-${n}`, key, 1, 0.9, now);
      const ttl = await clients[0].pTTL(`${key}:r`);
      expect(ttl).to.be.within(1, 61_000);
      await clients[0].del(`${key}:r`); // as if it had expired
      expect(await admit(`ex2-${n}`, key, 1, 0.9, now + 10)).to.deep.equal(['ok']);
      expect(Number(await reserved(key))).to.be.closeTo(0.9, 1e-12);
    });

    it('counts requests in a sliding minute and refuses the one past the rpm limit, writing nothing for it', async () => {
      const key = fresh();
      const current = `${redis.prefix}rl:test:${n}:rpm:1`;
      const previous = `${redis.prefix}rl:test:${n}:rpm:0`;
      await clients[0].set(previous, '4');
      // Half of the previous minute still counts: 2 + 0 used of 4 → two more requests fit.
      const halfway = 60_000 * 1 + 30_000;
      const results = [];
      for (let i = 0; i < 3; i += 1) results.push(await admit(`rl-${n}-${i}`, key, 100, 0, halfway, [[current, previous, 4, 'rpm']]));
      expect(results.map((r) => (r as string[])[0])).to.deep.equal(['ok', 'ok', 'rate_limited']);
      expect(results[2], 'the refusal carries both buckets, for retry-after').to.deep.equal(['rate_limited', 1, '4', '4', '2']);
      expect(await clients[0].get(current)).to.equal('2');
    });

    it('refuses once the tokens recorded in the window plus the estimate pass the tpm limit (v3: current + estimate > limit)', async () => {
      const key = fresh();
      const current = `${redis.prefix}rl:test:${n}:tpm:1`;
      const previous = `${redis.prefix}rl:test:${n}:tpm:0`;
      await record(`tok-${n}`, [key], 0.01, 1000, [current]);
      // 1000 + 1 <= 1001 admits (and holds its token); 1001 + 1 > 1001 does not.
      expect(await admit(`t1-${n}`, key, 100, 0, 60_000, [[current, previous, 1001, 'tpm']])).to.deep.equal(['ok']);
      expect(await admit(`t2-${n}`, key, 100, 0, 60_000, [[current, previous, 1001, 'tpm']])).to.deep.equal(['rate_limited', 1, '1001', '0', '1001']);
      expect(await admit(`t3-${n}`, key, 100, 0, 60_000, [[current, previous, 2000, 'tpm']], 1000)).to.deep.equal(['rate_limited', 1, '1001', '0', '1001']);
      expect(await admit(`t4-${n}`, key, 100, 0, 60_000, [[current, previous, 2001, 'tpm']], 1000)).to.deep.equal(['ok']);
      expect(await clients[0].get(current)).to.equal('2001');
    });

    it('reads every limit when one is crossed, so the refusal can say when all of them admit', async () => {
      const key = fresh();
      const buckets = (metric: string): [string, string] => [`${redis.prefix}rl:all:${n}:${metric}:1`, `${redis.prefix}rl:all:${n}:${metric}:0`];
      const [rpmNow, rpmBefore] = buckets('rpm');
      const [tpmNow, tpmBefore] = buckets('tpm');
      await clients[0].set(rpmNow, '5');
      await clients[0].set(tpmBefore, '300');
      const limits: Array<[string, string, number, 'rpm' | 'tpm']> = [
        [rpmNow, rpmBefore, 5, 'rpm'],
        [tpmNow, tpmBefore, 100, 'tpm'],
      ];
      expect(await admit(`all-${n}`, key, 100, 0, 60_000, limits)).to.deep.equal(['rate_limited', 1, '5', '0', '5', '300', '0']);
      expect(await clients[0].get(rpmNow), 'nothing written for the refused request').to.equal('5');
      expect(await clients[0].get(tpmNow), 'no tokens held for it').to.equal(null);
    });

    it('keeps a budget reservation and a tpm reservation of one request together, both given back by one release', async () => {
      n += 1;
      const counter = fresh();
      const [current, previous] = [`${redis.prefix}rl:both:${n}:tpm:1`, `${redis.prefix}rl:both:${n}:tpm:0`];
      const now = Date.now();
      expect(await admit(`both-${n}`, counter, 1, 0.4, now, [[current, previous, 1000, 'tpm']], 300)).to.deep.equal(['ok']);
      expect(Number(await clients[0].get(current))).to.equal(300);
      expect(Number(await reserved(counter))).to.be.closeTo(0.4, 1e-12);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`both-${n}`)], [`both-${n}`], TIMEOUT);
      expect(Number(await clients[0].get(current))).to.equal(0);
      expect(Number(await reserved(counter))).to.equal(0);
    });
  });

  describe('tpm reservations (v3 reserves each request\'s estimated tokens at pre-call)', () => {
    const MINUTE = 60_000;
    /** A tpm window of its own: the bucket of `minute` and of the one before. */
    const tpmWindow = (minute: number): [string, string] => [`${redis.prefix}rl:res:${n}:tpm:${minute}`, `${redis.prefix}rl:res:${n}:tpm:${minute - 1}`];
    const bucket = async (key: string): Promise<number | null> => {
      const value = await clients[0].get(key);
      return value === null ? null : Number(value);
    };
    /** One ADMIT with a tpm limit and nothing to reserve against budgets. */
    const admitTokens = (rid: string, window: [string, string], limit: number, tokens: number, now: number, client = clients[0]) =>
      ADMIT.run(
        client,
        [keys.reservation(rid), window[0], window[1]],
        [String(now), '1', '0', rid, '0', String(now), '180000', String(IDLE), '120000', String(tokens), String(limit), 'tpm'],
        TIMEOUT,
      );

    it('admits only as many concurrent requests as their estimates fit in a small tpm limit, from any number of replicas', async () => {
      n += 1;
      const window = tpmWindow(1);
      const now = MINUTE + 10_000;
      const verdicts = await Promise.all(
        Array.from({ length: 10 }, (_, i) => admitTokens(`burst-${n}-${i}`, window, 1000, 300, now, clients[i % clients.length])),
      );
      const admitted = verdicts.filter((v) => (v as string[])[0] === 'ok');
      expect(admitted).to.have.length(3);
      expect(await bucket(window[0]), 'the three estimates are held').to.equal(900);
      expect(await clients[0].pTTL(window[0])).to.be.within(1, 120_000);
      // Without reservations all ten would have passed: nothing was counted before any response.
    });

    it('settles a reservation at the response: actual − reserved on the reserved window, the actual on the others, once', async () => {
      n += 1;
      const [current, previous] = tpmWindow(1);
      const unlimited = `${redis.prefix}rl:res:${n}:unlimited:tpm:1`;
      const now = MINUTE + 10_000;
      const counter = fresh();
      await read(counter, 0, 0);
      expect(await admitTokens(`less-${n}`, [current, previous], 1000, 300, now)).to.deep.equal(['ok']);
      expect(await clients[0].hGetAll(keys.reservation(`less-${n}`))).to.deep.equal({ t: '300', b: current });
      // Actual below the estimate: 300 − 300 + 120.
      expect(await record(`less-${n}`, [counter], 0.1, 120, [current, unlimited])).to.equal(1);
      expect([await bucket(current), await bucket(unlimited)]).to.deep.equal([120, 120]);
      expect(await clients[0].exists(keys.reservation(`less-${n}`)), 'the reservation is settled').to.equal(0);
      expect(await record(`less-${n}`, [counter], 0.1, 120, [current, unlimited]), 'a replayed response').to.equal(0);
      expect([await bucket(current), await bucket(unlimited)]).to.deep.equal([120, 120]);
      // Actual above the estimate: 120 + 300 − 300 + 450.
      expect(await admitTokens(`more-${n}`, [current, previous], 1000, 300, now)).to.deep.equal(['ok']);
      expect(await bucket(current)).to.equal(420);
      await record(`more-${n}`, [counter], 0.1, 450, [current, unlimited]);
      expect([await bucket(current), await bucket(unlimited)]).to.deep.equal([570, 570]);
    });

    it('settles a response that ends in a later minute: the estimate leaves the Check\'s bucket, the actual goes to the response\'s', async () => {
      n += 1;
      const [minute1] = tpmWindow(1);
      const [minute2] = tpmWindow(2);
      const counter = fresh();
      await read(counter, 0, 0);
      await clients[0].set(minute1, '50');
      await admitTokens(`late-${n}`, tpmWindow(1), 1000, 300, MINUTE + 59_000);
      await record(`late-${n}`, [counter], 0.1, 200, [minute2]);
      expect([await bucket(minute1), await bucket(minute2)]).to.deep.equal([50, 200]);
    });

    it('gives the reservation back once when the request fails (nothing to count)', async () => {
      n += 1;
      const window = tpmWindow(1);
      const now = MINUTE + 10_000;
      await clients[0].set(window[0], '100');
      await admitTokens(`fail-${n}`, window, 1000, 300, now);
      expect(await bucket(window[0])).to.equal(400);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`fail-${n}`)], [`fail-${n}`], TIMEOUT);
      expect(await bucket(window[0])).to.equal(100);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`fail-${n}`)], [`fail-${n}`], TIMEOUT);
      expect(await bucket(window[0]), 'a second release finds nothing').to.equal(100);
      // The room is back: a request using the whole rest of the limit fits again.
      expect(await admitTokens(`after-${n}`, window, 1000, 900, now)).to.deep.equal(['ok']);
    });

    it('settles a reservation with the tokens counted without metering (COUNT_TOKENS), once per charge', async () => {
      n += 1;
      const [current, previous] = tpmWindow(1);
      await admitTokens(`count-${n}`, [current, previous], 1000, 300, MINUTE + 10_000);
      const countTokens = (tokens: number) =>
        COUNT_TOKENS.run(clients[0], [keys.tokensCounted(`charge-${n}`), keys.reservation(`count-${n}`), current], [String(tokens), '120000', '120000', `count-${n}`], TIMEOUT);
      expect(await countTokens(40)).to.equal(1);
      expect(await bucket(current)).to.equal(40);
      expect(await countTokens(40)).to.equal(0);
      expect(await bucket(current)).to.equal(40);
    });

    it('lets a reservation nothing settles age out with its bucket: whole in its minute, weighted in the next, gone after', async () => {
      n += 1;
      await admitTokens(`lost-${n}`, tpmWindow(1), 1000, 1000, MINUTE + 1_000);
      expect(await admitTokens(`same-${n}`, tpmWindow(1), 1000, 1, MINUTE + 59_000), 'refused for the rest of its minute').to.deep.equal(['rate_limited', 1, '1000', '0', '1000']);
      // Halfway through the next minute half of it still counts: 500 + 500 fits, 500 + 501 does not.
      expect((await admitTokens(`next-${n}`, tpmWindow(2), 1000, 501, 2 * MINUTE + 30_000)) as string[]).to.have.property('0', 'rate_limited');
      expect(await admitTokens(`half-${n}`, tpmWindow(2), 1000, 500, 2 * MINUTE + 30_000)).to.deep.equal(['ok']);
      // Two minutes on, the lost reservation's bucket is in no window (and expires by itself).
      expect(await admitTokens(`later-${n}`, tpmWindow(3), 1000, 500, 3 * MINUTE)).to.deep.equal(['ok']);
      expect(await clients[0].pTTL(tpmWindow(1)[0])).to.be.within(1, 120_000);
      expect(await clients[0].pTTL(keys.reservation(`lost-${n}`)), 'its record outlives the bucket only a little').to.be.within(1, 180_000);
    });

    it('gives nothing back to a bucket that is gone, and never takes one below zero', async () => {
      n += 1;
      const window = tpmWindow(1);
      await admitTokens(`gone-${n}`, window, 1000, 300, MINUTE + 10_000);
      await clients[0].del(window[0]);
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`gone-${n}`)], [`gone-${n}`], TIMEOUT);
      expect(await clients[0].exists(window[0]), 'not re-created').to.equal(0);
      await admitTokens(`low-${n}`, window, 1000, 300, MINUTE + 10_000);
      await clients[0].set(window[0], '100');
      await RELEASE_RESERVATION.run(clients[0], [keys.reservation(`low-${n}`)], [`low-${n}`], TIMEOUT);
      expect(await bucket(window[0])).to.equal(0);
    });

  });
});
