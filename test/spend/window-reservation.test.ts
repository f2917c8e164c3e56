/**
 * `tollgate.budget_reservation` against multi-window budgets (`budget_limits`), on a real Redis
 * (own key prefix, removed afterwards): a request is admitted only if the window's spend (its
 * settled part and tail, the tail read again from Redis in the admission script) plus what
 * requests in flight of the same entity hold plus its own estimate fit, and it then holds its
 * estimate on its entity's counter until its response settles it.
 */
import { expect } from 'chai';
import type { BudgetWindowLimit, WindowSpend } from '../../src/domain/entities';
import type { Snapshot } from '../../src/checks/types';
import { RedisAdmitter, type Admission } from '../../src/spend/admission';
import { reservationLimitsOf } from '../../src/spend/budget-limits';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import { windowSpendId } from '../../src/spend/window-limits';
import { aContext, aKey, anEndUser, aRequest, aSnapshot, aTeam, aUser } from '../checks/fixtures';
import { requireRedis, type TestRedis } from '../support/redis';
import { aRedisAdmitter, aRedisRecorder, aSpendEvent, counterOf, openRedisClient, type TestRedisClient } from '../support/spend';

const MINUTE = 60_000;
/** A request whose estimate is 100 output tokens at 0.002: 0.2. */
const REQUEST = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [], max_tokens: 100 } });
const DAILY: BudgetWindowLimit = { budget_duration: '1d', max_budget: 1, reset_at: null };

/** A cached state of a window, settled up to the minute boundary 15 minutes before `now`. */
function aState(now: number, settled: number, tail = 0): WindowSpend {
  const settledEnd = Math.floor((now - 15 * MINUTE) / MINUTE) * MINUTE;
  return { start: now - 86_400_000, settledEnd, settled, settledRows: 1, tail, at: now, fullAt: now };
}

describe('spend: reservations against multi-window budgets, pure', () => {
  it("holds an entity with windows but no budget of its own on its counter, without a limit, and names each window's entity as its refusal does", () => {
    const snapshot = aSnapshot({ key: aKey({ token: 'h', max_budget: null, budget_limits: [DAILY] }), team: null });
    const { budgets, windows } = reservationLimitsOf(aContext({ snapshot, request: REQUEST }));
    expect(budgets.map((b) => [b.slot.target.kind, b.max])).to.deep.equal([['key', null]]);
    expect(windows.map((w) => [w.who, w.budget, w.window.budget_duration])).to.deep.equal([['Key', 0, '1d']]);
  });

  it("reserves against a team key's owner windows only with apply_user_budget_to_team_keys, as the user window check judges them", () => {
    const snapshot = aSnapshot({
      key: aKey({ token: 'h', user_id: 'u1', team_id: 't1' }),
      team: aTeam({ team_id: 't1', budget_limits: [DAILY] }),
      user: aUser({ user_id: 'u1', budget_limits: [DAILY] }),
      endUser: anEndUser({ user_id: 'cust', budget_limits: [DAILY] }),
    });
    const who = (applyUserBudgetToTeamKeys: boolean): string[] =>
      reservationLimitsOf(aContext({ snapshot, request: REQUEST, policy: { applyUserBudgetToTeamKeys } })).windows.map((w) => w.who);
    expect(who(false)).to.deep.equal(['Team=t1', 'End User=cust']);
    expect(who(true)).to.deep.equal(['Team=t1', 'User=u1', 'End User=cust']);
  });

  it('allocates no window list for a Check none of whose entities has windows (most Checks)', () => {
    const limits = (token: string) => reservationLimitsOf(aContext({ snapshot: aSnapshot({ key: aKey({ token, max_budget: 5 }) }), request: REQUEST }));
    const [first, second] = [limits('h1'), limits('h2')];
    expect(first.budgets.map((b) => b.slot.target.id)).to.deep.equal(['h1']);
    expect(first.windows).to.have.length(0);
    expect(first.windows, 'one shared empty list').to.equal(second.windows);
    expect(Object.isFrozen(first.windows)).to.equal(true);
  });

  it('reserves nothing for a request no budget check judges (an info route)', () => {
    const snapshot = aSnapshot({ key: aKey({ token: 'h', budget_limits: [DAILY] }) });
    expect(reservationLimitsOf(aContext({ snapshot, request: aRequest({ route: '/v1/models', method: 'GET' }) })).windows).to.have.length(0);
  });
});

describe('spend: reservations against multi-window budgets on Redis', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let recorder: RedisSpendRecorder;
  let errors: unknown[];
  let n = 0;
  const unique = (label: string): string => `${label}-${(n += 1)}`;

  before(async function () {
    redis = await requireRedis(this);
    client = await openRedisClient();
    recorder = aRedisRecorder(client, redis.prefix, { timeoutMs: 2000, onFallback: (error) => errors.push(error) });
  });

  beforeEach(() => {
    errors = [];
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  const admitter = (admissionIds: () => string = () => unique('admission')): RedisAdmitter =>
    aRedisAdmitter(client, redis.prefix, {
      reservation: { ttlMs: 60_000, defaultOutputTokens: 4096 },
      newAdmissionId: admissionIds,
      onError: (error) => errors.push(error),
    });

  const keyWithWindow = (token: string, state: WindowSpend | number): Snapshot =>
    aSnapshot({ key: aKey({ token, max_budget: null, budget_limits: [DAILY] }), budgetWindowSpend: new Map([[windowSpendId('key', token, DAILY), state]]) });
  const admit = (snapshot: Snapshot, now: number, by = admitter()): Promise<Admission> =>
    Promise.resolve(by.admit(aContext({ snapshot, request: REQUEST, now: new Date(now), keyHash: snapshot.key?.token ?? null })));

  it('admits exactly as many concurrent requests as the window holds with their estimates (0.3 spent, 0.2 each, 1.00 a day: 3)', async () => {
    const token = unique('k');
    const now = Date.now();
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => admit(keyWithWindow(token, aState(now, 0.3)), now)));
    expect(verdicts.filter((v) => v.kind === 'admit')).to.have.length(3);
    const refused = verdicts.find((v) => v.kind === 'deny');
    expect(refused?.kind === 'deny' ? [refused.check, refused.denial.status, refused.denial.message] : null).to.deep.equal([
      'budget_reservation',
      400,
      'ExceededBudget: Key over 1d budget. Spend=$0.3000, Limit=$1.00 (reserved for requests in flight 0.6, estimated cost of this request 0.2)',
    ]);
    expect((await counterOf(client, redis.prefix, { kind: 'key', id: token }))?.reserved).to.be.closeTo(0.6, 1e-9);
    expect(errors).to.deep.equal([]);
  });

  it('reads the tail again in the script: a charge filed after the Check read its spend still counts', async () => {
    const token = unique('k');
    const now = Date.now();
    const snapshot = keyWithWindow(token, aState(now, 0.3));
    const chargeId = unique('c');
    await recorder.record({ ...aSpendEvent({ chargeId, requestId: chargeId }), cost: 0.5, startTime: now - 1000, endTime: now, attribution: { ...aSpendEvent({ chargeId, requestId: chargeId }).attribution, keyHash: token } });
    expect((await admit(snapshot, now)).kind, '0.3 + 0.5 + 0.2 = 1.0 fits').to.equal('admit');
    const refused = await admit(snapshot, now);
    expect(refused.kind === 'deny' ? refused.denial.message : null).to.match(/^ExceededBudget: Key over 1d budget\. Spend=\$0\.8000, Limit=\$1\.00 \(reserved for requests in flight 0\.2,/);
  });

  it("gives the window its estimate back when the response is charged, and the window's spend then counts the charge", async () => {
    const token = unique('k');
    const now = Date.now();
    const admissionId = unique('admission');
    expect((await admit(keyWithWindow(token, aState(now, 0)), now, admitter(() => admissionId))).kind).to.equal('admit');
    expect((await counterOf(client, redis.prefix, { kind: 'key', id: token }))?.reserved).to.equal(0.2);
    const base = aSpendEvent({ chargeId: unique('c'), requestId: admissionId });
    await recorder.record({ ...base, reservationId: admissionId, cost: 0.9, startTime: now, endTime: now + 1, attribution: { ...base.attribution, keyHash: token } });
    expect((await counterOf(client, redis.prefix, { kind: 'key', id: token }))?.reserved).to.equal(0);
    const refused = await admit(keyWithWindow(token, aState(now, 0)), now);
    expect(refused.kind === 'deny' ? refused.denial.message : null).to.match(/^ExceededBudget: Key over 1d budget\. Spend=\$0\.9000, Limit=\$1\.00 \(reserved for requests in flight 0\.0,/);
  });

  it('reads a cached state it cannot read (another version\'s, from the shared tier) as the window check does, as nothing spent, instead of failing the script', async () => {
    const token = unique('k');
    const now = Date.now();
    // JSON keeps a NaN as null: the state fails isWindowSpend, and the window check reads it as 0.
    const unreadable = { ...aState(now, 0.3), settled: null } as unknown as WindowSpend;
    const verdict = await admit(keyWithWindow(token, unreadable), now);
    expect(verdict.kind).to.equal('admit');
    expect((await counterOf(client, redis.prefix, { kind: 'key', id: token }))?.reserved).to.equal(0.2);
    expect(errors).to.deep.equal([]);
  });

  it("holds a team's, a user's and an end user's windows as it holds a key's, each refusal naming its entity", async () => {
    const now = Date.now();
    const [token, team, customer] = [unique('k'), unique('t'), unique('e')];
    const snapshot = aSnapshot({
      key: aKey({ token, team_id: team }),
      team: aTeam({ team_id: team, budget_limits: [DAILY] }),
      endUser: anEndUser({ user_id: customer, budget_limits: [{ ...DAILY, max_budget: 5 }] }),
      budgetWindowSpend: new Map<string, WindowSpend | number>([
        [windowSpendId('team', team, DAILY), aState(now, 0.7)],
        [windowSpendId('end_user', customer, DAILY), 0],
      ]),
    });
    expect((await admit(snapshot, now)).kind).to.equal('admit');
    const refused = await admit(snapshot, now);
    expect(refused.kind === 'deny' ? refused.denial.message : null).to.match(new RegExp(`^ExceededBudget: Team=${team} over 1d budget\\. Spend=\\$0\\.7000, Limit=\\$1\\.00 \\(reserved for requests in flight 0\\.2,`));
    expect((await counterOf(client, redis.prefix, { kind: 'end_user', id: customer }))?.reserved, "the end user's window holds the admitted request too").to.equal(0.2);
  });
});
