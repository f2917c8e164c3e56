/**
 * `tollgate.budget_reservation` against per-model budgets (`model_max_budget`), on a real Redis
 * (own key prefix, removed afterwards): a request is admitted only if its model's open window's
 * spend, what requests in flight hold on it and its estimate fit the window's max_budget, in the
 * one ADMIT call; the estimate is held on the window until the response settles it, and carries
 * over to the window a charge opens.
 */
import { expect } from 'chai';
import type { RedisClient } from '../../src/cache/redis-shared-cache';
import type { Snapshot } from '../../src/checks/types';
import type { ModelBudgetCounter } from '../../src/checks/model-budget-scopes';
import { RedisAdmitter, ReservationUnavailableError, type Admission } from '../../src/spend/admission';
import { reservationLimitsOf } from '../../src/spend/budget-limits';
import { SpendKeys } from '../../src/spend/redis-keys';
import type { RedisSpendRecorder } from '../../src/spend/spend-recorder';
import { aBudget, aContext, aKey, anAgent, anEndUser, aRequest, aSnapshot, aTeam } from '../checks/fixtures';
import { requireRedis, type TestRedis } from '../support/redis';
import { aRedisAdmitter, aRedisRecorder, GPT_4O_PRICES, aSpendEvent, openRedisClient, type TestRedisClient } from '../support/spend';

/** A gpt-4o call whose estimate is 100 output tokens at 0.002: 0.2. */
const REQUEST = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [], max_tokens: 100 } });
const TTL_MS = 60_000;

describe('spend: reservations against per-model budgets, pure', () => {
  it("holds the request's model's spend-gated budgets of every scope, once each; none for a model with no entry, a negative limit, or an info route", () => {
    const snapshot = aSnapshot({
      key: aKey({ token: 'h', team_id: 't', model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' }, 'o1': { max_budget: 2, budget_duration: '1d' } } }),
      team: aTeam({ team_id: 't', model_max_budget: { 'gpt-4o-mini': { max_budget: 3, budget_duration: '7d' } } }),
    });
    const of = (request = REQUEST) => reservationLimitsOf(aContext({ snapshot, request })).modelBudgets;
    expect(of()).to.deep.equal([{ counter: { scope: 'key', id: 'h', budgetModel: 'gpt-4o', duration: '1d' }, max: 1, model: 'gpt-4o', keyAlias: null }]);
    expect(of(aRequest({ route: '/v1/chat/completions', model: 'claude', body: { model: 'claude' } }))).to.deep.equal([]);
    expect(of(aRequest({ route: '/v1/models', method: 'GET', model: 'gpt-4o' }))).to.deep.equal([]);
    const ungated = aSnapshot({ key: aKey({ model_max_budget: { 'gpt-4o': { max_budget: -1, budget_duration: '1d' } } }) });
    expect(reservationLimitsOf(aContext({ snapshot: ungated, request: REQUEST })).modelBudgets).to.deep.equal([]);
  });
});

describe('spend: reservations against per-model budgets, by path', () => {
  it("holds a JWT caller (no key) to its user's and team's per-model budgets, not its end user's, which that path's checks do not judge", () => {
    const daily = (max: number) => ({ 'gpt-4o': { max_budget: max, budget_duration: '1d' } });
    const endUser = anEndUser({ user_id: 'customer', budget: aBudget({ model_max_budget: daily(0.1) }) });
    const jwt = aSnapshot({ key: null, team: aTeam({ team_id: 't', model_max_budget: daily(3) }), endUser });
    expect(reservationLimitsOf(aContext({ snapshot: jwt, request: REQUEST, keyHash: null })).modelBudgets.map((l) => l.counter.scope)).to.deep.equal(['team']);
    const keyed = aSnapshot({ key: aKey({ token: 'h', team_id: 't' }), team: aTeam({ team_id: 't', model_max_budget: daily(3) }), endUser });
    expect(reservationLimitsOf(aContext({ snapshot: keyed, request: REQUEST })).modelBudgets.map((l) => l.counter.scope)).to.deep.equal(['team', 'end_user']);
  });
});

describe('spend: reservations against per-model budgets when Redis cannot answer', () => {
  const down = (): RedisAdmitter =>
    new RedisAdmitter({ isReady: false } as unknown as RedisClient, new SpendKeys('t:'), GPT_4O_PRICES, {
      prefix: 't:',
      enforceRateLimits: true,
      reservation: { ttlMs: TTL_MS, defaultOutputTokens: 100 },
      rateLimitMetadata: false,
      metering: true,
      timeoutMs: 50,
      idleCounterMs: 1000,
      admitWhenReservationUnavailable: false,
      onError: () => undefined,
    });
  const undecided = async (model: string): Promise<unknown> => {
    const snapshot = aSnapshot({ key: aKey({ model_max_budget: { [model]: { max_budget: 0.5, budget_duration: '1d' } } }) });
    const request = aRequest({ route: '/v1/chat/completions', model, body: { model, messages: [] } });
    return Promise.resolve(down().admit(aContext({ snapshot, request }))).then(
      (admission) => admission,
      (error: unknown) => error,
    );
  };

  it('cannot decide a request held only by a per-model budget, priced or not (as a budget of its own)', async () => {
    expect(await undecided('gpt-4o')).to.be.instanceOf(ReservationUnavailableError);
    expect(await undecided('unpriced-model'), 'an estimate of 0').to.be.instanceOf(ReservationUnavailableError);
  });
});

describe('spend: reservations against per-model budgets on Redis', function () {
  let redis: TestRedis;
  let client: TestRedisClient;
  let keys: SpendKeys;
  let recorder: RedisSpendRecorder;
  let errors: unknown[];
  let n = 0;
  const unique = (label: string): string => `${label}-${(n += 1)}`;

  before(async function () {
    redis = await requireRedis(this);
    client = await openRedisClient();
    keys = new SpendKeys(redis.prefix);
    recorder = aRedisRecorder(client, redis.prefix, { timeoutMs: 2000, onFallback: (error) => errors.push(error) });
  });

  beforeEach(() => {
    errors = [];
  });

  after(async () => {
    client?.destroy();
    await redis?.cleanup();
  });

  const admitter = (ids: string[] = []): RedisAdmitter =>
    aRedisAdmitter(client, redis.prefix, {
      reservation: { ttlMs: TTL_MS, defaultOutputTokens: 4096 },
      newAdmissionId: () => {
        const id = unique('admission');
        ids.push(id);
        return id;
      },
      onError: (error) => errors.push(error),
    });
  /** A key whose gpt-4o budget is 0.5 a day, nothing else limited. */
  const keyed = (token: string): Snapshot => aSnapshot({ key: aKey({ token, model_max_budget: { 'gpt-4o': { max_budget: 0.5, budget_duration: '1d' } } }) });
  const windowOf = (token: string): ModelBudgetCounter => ({ scope: 'key', id: token, budgetModel: 'gpt-4o', duration: '1d' });
  const admit = (snapshot: Snapshot, by: RedisAdmitter): Promise<Admission> =>
    Promise.resolve(by.admit(aContext({ snapshot, request: REQUEST, now: new Date(), keyHash: snapshot.key?.token ?? null })));
  const charge = async (token: string, cost: number, reservationId: string): Promise<void> => {
    const base = aSpendEvent({ chargeId: unique('charge'), requestId: reservationId });
    const attribution = { ...base.attribution, keyHash: token, modelBudgets: [windowOf(token)] };
    expect(await recorder.record({ ...base, reservationId, cost, startTime: Date.now(), attribution })).to.equal(true);
  };

  it('admits exactly as many concurrent requests as the window holds with their estimates, holding them on a window no charge has opened yet', async () => {
    const token = unique('k');
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => admit(keyed(token), admitter())));
    expect(verdicts.filter((v) => v.kind === 'admit'), '0.2 each against 0.5').to.have.length(2);
    const refused = verdicts.find((v) => v.kind === 'deny');
    expect(refused?.kind === 'deny' ? [refused.check, refused.denial.status, refused.denial.type, refused.denial.message] : null).to.deep.equal([
      'budget_reservation',
      400,
      'budget_exceeded',
      `LiteLLM Virtual Key: ${token}, key_alias: None, exceeded budget for model=gpt-4o (1d window: spend 0.0, max budget 0.5, reserved for requests in flight 0.4, estimated cost of this request 0.2)`,
    ]);
    const window = keys.modelBudget(windowOf(token));
    expect(await client.hGetAll(window)).to.deep.equal({ s: '0', r: '0.4' });
    expect(await client.pTTL(window), 'as long as the reservations').to.be.within(TTL_MS, TTL_MS + 60_000);
    expect(errors).to.deep.equal([]);
  });

  it("refuses in the per-model check's words: the key's alias, and the model as the request named it", async () => {
    const token = unique('k');
    const snapshot = aSnapshot({ key: aKey({ token, key_alias: 'ci-bot', model_max_budget: { 'gpt-4o': { max_budget: 0.3, budget_duration: '1d' } } }) });
    const request = aRequest({ route: '/v1/chat/completions', model: 'openai/gpt-4o', body: { model: 'openai/gpt-4o', messages: [], max_tokens: 100 } });
    const by = admitter();
    const send = (): Promise<Admission> => Promise.resolve(by.admit(aContext({ snapshot, request, now: new Date(), keyHash: token })));
    expect((await send()).kind).to.equal('admit');
    const refused = await send();
    expect(refused.kind === 'deny' ? refused.denial.message : null).to.match(
      new RegExp(`^LiteLLM Virtual Key: ${token}, key_alias: ci-bot, exceeded budget for model=openai/gpt-4o \\(1d window: spend 0\\.0, max budget 0\\.3, reserved for requests in flight 0\\.2,`),
    );
  });

  it("holds the per-model window beside an agent session's spend cap and a key budget, each key in its place", async () => {
    const token = unique('k');
    const agentId = unique('agent');
    const snapshot = aSnapshot({
      key: aKey({ token, agent_id: agentId, max_budget: 10, model_max_budget: { 'gpt-4o': { max_budget: 0.5, budget_duration: '1d' } } }),
      agent: anAgent({ agent_id: agentId, litellm_params: { max_budget_per_session: 5 } }),
    });
    const session = unique('session');
    const request = aRequest({ ...REQUEST, headers: { 'x-litellm-trace-id': session } });
    const by = admitter();
    const send = (): Promise<Admission> => Promise.resolve(by.admit(aContext({ snapshot, request, now: new Date(), keyHash: token })));
    expect((await send()).kind).to.equal('admit');
    expect((await send()).kind).to.equal('admit');
    const refused = await send();
    expect(refused.kind === 'deny' ? refused.denial.message : null).to.include(`LiteLLM Virtual Key: ${token}, key_alias: None, exceeded budget for model=gpt-4o (1d window`);
    expect(await client.hGet(keys.modelBudget(windowOf(token)), 'r')).to.equal('0.4');
    expect(await client.hGet(keys.sessionBudget(agentId, session), 'r'), 'the session holds them too').to.equal('0.4');
  });

  it("opens the window at the first charge, keeping what the other request in flight holds; the window's spend then counts", async () => {
    const token = unique('k');
    const ids: string[] = [];
    const by = admitter(ids);
    expect((await admit(keyed(token), by)).kind).to.equal('admit');
    expect((await admit(keyed(token), by)).kind).to.equal('admit');
    await charge(token, 0.25, ids[0] as string);
    const window = keys.modelBudget(windowOf(token));
    const state = await client.hGetAll(window);
    expect(state).to.include({ s: '0.25', r: '0.2', d: '86400000' });
    expect(await client.pTTL(window), 'the window lasts its duration').to.be.above(86_000_000);
    const refused = await admit(keyed(token), by);
    expect(refused.kind === 'deny' ? refused.denial.message : null).to.include('spend 0.25, max budget 0.5, reserved for requests in flight 0.2,');
    await charge(token, 0.05, ids[1] as string);
    expect(await client.hGet(window, 'r')).to.equal('0');
    expect((await admit(keyed(token), by)).kind, '0.3 + 0.2 fits 0.5').to.equal('admit');
  });

  it('rebuilds what requests in flight hold on a window that went (its TTL) while they were in flight, so none is lost or taken below 0', async () => {
    const token = unique('k');
    const ids: string[] = [];
    const by = admitter(ids);
    expect((await admit(keyed(token), by)).kind).to.equal('admit');
    const window = keys.modelBudget(windowOf(token));
    await client.del(window);
    expect((await admit(keyed(token), by)).kind).to.equal('admit');
    expect(await client.hGet(window, 'r'), 'both held').to.equal('0.4');
    expect((await admit(keyed(token), by)).kind, '0.4 + 0.2 > 0.5').to.equal('deny');
    for (const id of ids.slice(0, 2)) await charge(token, 0.01, id);
    expect(await client.hGet(window, 'r')).to.equal('0');
  });

  it('keeps what the other requests in flight hold when a charge opens the next window after the last one went (its TTL)', async () => {
    const token = unique('k');
    const ids: string[] = [];
    const by = admitter(ids);
    const roomy = aSnapshot({ key: aKey({ token, model_max_budget: { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } } }) });
    for (let i = 0; i < 3; i += 1) expect((await admit(roomy, by)).kind).to.equal('admit');
    await charge(token, 0.01, ids[0] as string);
    const window = keys.modelBudget(windowOf(token));
    await client.del(window);
    await charge(token, 0.01, ids[1] as string);
    expect(await client.hGet(window, 'r'), 'the third request still holds its estimate').to.equal('0.2');
    const refused = await Promise.all([admit(roomy, by), admit(roomy, by), admit(roomy, by), admit(roomy, by), admit(roomy, by)]);
    expect(refused.filter((v) => v.kind === 'admit'), '0.01 spent + 0.2 held: three more of 0.2 fit 1').to.have.length(3);
  });
});
