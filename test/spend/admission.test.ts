import { expect } from 'chai';
import { createClient } from 'redis';
import { createRedisClient, type RedisClient, type StandaloneRedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { UNREAD_MODEL } from '../../src/domain/request';
import { PriceTable } from '../../src/metering/prices';
import { RedisAdmitter, ReservationNotReleasedError, ReservationUnavailableError, type AdmissionOptions } from '../../src/spend/admission';
import { ADMIT, RELEASE_RESERVATION } from '../../src/spend/counter-scripts';
import { SpendKeys } from '../../src/spend/redis-keys';
import { aContext, aKey, anAgent, aRequest, aSnapshot, aTag, aTeam } from '../checks/fixtures';
import { ownRedis, type OwnRedis } from '../support/own-redis';
import { eventually } from '../support/poll';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const PRICES = new PriceTable(
  parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n', {}),
);
/** A client that is never connected: every Redis path fails. */
const DOWN = { isReady: false } as unknown as RedisClient;

function admitter(options: Partial<AdmissionOptions>, errors: unknown[] = [], client: RedisClient = DOWN): RedisAdmitter {
  return new RedisAdmitter(client, new SpendKeys('t:'), PRICES, {
    prefix: 't:',
    enforceRateLimits: true,
    reservation: null,
    rateLimitMetadata: false,
    metering: false,
    timeoutMs: 50,
    idleCounterMs: 1000,
    admitWhenReservationUnavailable: false,
    onError: (error) => errors.push(error),
    ...options,
  });
}

describe('spend: admission when Redis cannot answer', () => {
  const limited = aSnapshot({ key: aKey({ rpm_limit: 1, max_budget: 10 }) });
  const request = aRequest({ requestId: 'req-1', route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', max_tokens: 10, metadata: { tags: ['prod'] } } });

  it('lets rate limits fail open, reported, and still returns the metadata', async () => {
    const errors: unknown[] = [];
    const verdict = await admitter({ metering: true, newAdmissionId: () => 'adm-1' }, errors).admit(aContext({ snapshot: limited, request }));
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-1', request_tags: ['prod'], charged_tags: [] } });
    expect(errors).to.have.length(1);
  });

  it('refuses a key throttled over its budget (400, as without the throttle) instead of letting it run unlimited while its rate limit cannot be applied', async () => {
    const errors: unknown[] = [];
    const overBudget = aSnapshot({ key: aKey({ rpm_limit: 100, spend: 12, max_budget: 10, metadata: { throttle_on_budget_exceeded: true } }) });
    const verdict = await admitter({}, errors).admit(aContext({ snapshot: overBudget, request, policy: { budgetExceededThrottlePercentage: 0.1 } }));
    expect(verdict.kind).to.equal('deny');
    if (verdict.kind !== 'deny') throw new Error('unreachable');
    expect([verdict.check, verdict.denial.status, verdict.denial.type]).to.deep.equal(['key_budget', 400, 'budget_exceeded']);
    expect(errors).to.have.length(1);
    const withinBudget = aSnapshot({ key: aKey({ rpm_limit: 100, spend: 5, max_budget: 10, metadata: { throttle_on_budget_exceeded: true } }) });
    const admitted = await admitter({}).admit(aContext({ snapshot: withinBudget, request, policy: { budgetExceededThrottlePercentage: 0.1 } }));
    expect(admitted.kind, 'a key within its budget still fails open').to.equal('admit');
  });

  it('cannot decide when a budget reservation cannot be taken (never admits without the bound it promised)', async () => {
    const errors: unknown[] = [];
    const reserving = admitter({ reservation: { ttlMs: 1000, defaultOutputTokens: 100 }, metering: true, admitWhenReservationUnavailable: false }, errors);
    let thrown: unknown = null;
    await Promise.resolve(reserving.admit(aContext({ snapshot: limited, request }))).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ReservationUnavailableError);
    expect(errors).to.deep.equal([]);
  });

  it("cannot decide either when only an agent session's spend cap has a reservation to take, and its call cap alone fails open as rate limits do", async () => {
    const errors: unknown[] = [];
    const sessionRequest = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', headers: { 'x-litellm-trace-id': 'session-1' } });
    const agentKey = (params: Record<string, number>) =>
      aSnapshot({ key: aKey({ agent_id: 'agent-1' }), agent: anAgent({ agent_id: 'agent-1', litellm_params: params }) });
    const reserving = admitter({ reservation: { ttlMs: 1000, defaultOutputTokens: 100 }, metering: true, admitWhenReservationUnavailable: false }, errors);
    let thrown: unknown = null;
    await Promise.resolve(reserving.admit(aContext({ snapshot: agentKey({ max_budget_per_session: 5 }), request: sessionRequest }))).catch(
      (error: unknown) => (thrown = error),
    );
    expect(thrown).to.be.instanceOf(ReservationUnavailableError);
    const counted = await reserving.admit(aContext({ snapshot: agentKey({ max_iterations: 5 }), request: sessionRequest }));
    expect(counted.kind).to.equal('admit');
    expect(errors).to.have.length(1);
  });

  it('admits without a reservation, reported, when allow_requests_on_db_unavailable chose availability (the checks\' allow stands, so the caller keeps its identity)', async () => {
    const errors: unknown[] = [];
    const reserving = admitter(
      { reservation: { ttlMs: 1000, defaultOutputTokens: 100 }, metering: true, newAdmissionId: () => 'adm-2', admitWhenReservationUnavailable: true },
      errors,
    );
    const verdict = await reserving.admit(aContext({ snapshot: limited, request }));
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-2', request_tags: ['prod'], charged_tags: [] } });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(ReservationUnavailableError);
  });

  it('answers at once, without a promise, when Redis has nothing to decide (a warm Check stays synchronous)', () => {
    const verdict = admitter({ metering: true, newAdmissionId: () => 'adm-3' }).admit(aContext({ request }));
    expect(verdict).to.not.be.instanceOf(Promise);
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-3', request_tags: ['prod'], charged_tags: [] } });
  });

  it('names as charged only the tags that have a row (a body naming thousands of tags makes no counter for each)', () => {
    const tagged = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', metadata: { tags: ['prod', 'made-up', 'eu'] } } });
    const snapshot = aSnapshot({ key: aKey(), tags: [aTag({ tag_name: 'eu' }), aTag({ tag_name: 'prod' })] });
    const verdict = admitter({ metering: true, newAdmissionId: () => 'adm-5' }).admit(aContext({ snapshot, request: tagged }));
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-5', request_tags: ['prod', 'made-up', 'eu'], charged_tags: ['eu', 'prod'] } });
  });

  it("names and charges the tags LiteLLM merges in: the x-litellm-tags header's and the key's own, after the body's", () => {
    const request = aRequest({
      route: '/v1/chat/completions',
      model: 'gpt-4o',
      headers: { 'x-litellm-tags': 'tenant:acme, prod' },
      body: { model: 'gpt-4o', metadata: { tags: ['prod'] } },
    });
    const key = aKey({ metadata: { tags: ['engineering', 'tenant:acme'] } });
    const snapshot = aSnapshot({ key, tags: [aTag({ tag_name: 'engineering' }), aTag({ tag_name: 'tenant:acme' })] });
    const verdict = admitter({ metering: true, newAdmissionId: () => 'adm-7' }).admit(aContext({ snapshot, request }));
    expect(verdict).to.deep.equal({
      kind: 'admit',
      metadata: { admission_id: 'adm-7', request_tags: ['prod', 'tenant:acme', 'engineering'], charged_tags: ['engineering', 'tenant:acme'] },
    });
  });

  it("names the per-model budget windows the response is charged to (model_budgets): each scope that budgets the model, the team's only where the key's entry does not limit it", () => {
    const daily = { max_budget: 1, budget_duration: '1d' };
    const snapshot = aSnapshot({
      key: aKey({ token: 'hash-1', team_id: 't-1', model_max_budget: { 'gpt-4o': daily } }),
      team: aTeam({ team_id: 't-1', model_max_budget: { 'gpt-4o': daily, o1: { budget_limit: 2, time_period: '7d' } } }),
    });
    const admit = (model: string) => admitter({ enforceRateLimits: false, metering: true, newAdmissionId: () => 'adm-mb' }).admit(aContext({ snapshot, request: aRequest({ model, body: { model } }) }));
    expect(admit('openai/gpt-4o')).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-mb', model_budgets: [['key', 'hash-1', 'gpt-4o', '1d']] } });
    expect(admit('o1')).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-mb', model_budgets: [['team', 't-1', 'o1', '7d']] } });
    expect(admit('claude-3'), 'no per-model budget: nothing named').to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-mb' } });
  });

  it("names the member's counter of the team's team_member_model_max_budget for the request's model (team_member_model), none for an unread model", () => {
    const snapshot = aSnapshot({
      key: aKey({ token: 'hash-1', user_id: 'u-1', team_id: 't-1' }),
      team: aTeam({ team_id: 't-1', metadata: { team_member_model_max_budget: { 'gpt-4o': { max_budget: 5 } } } }),
    });
    const admit = (model: string) => admitter({ enforceRateLimits: false, metering: true, newAdmissionId: () => 'adm-tm' }).admit(aContext({ snapshot, request: aRequest({ model, body: { model } }) }));
    expect(admit('gpt-4o')).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-tm', team_member_model: ['u-1', 't-1', 'gpt-4o'] } });
    expect(admit('openai/gpt-4o'), 'the exact name only').to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-tm' } });
    expect(admit(UNREAD_MODEL), 'a model nobody read is charged to none').to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-tm' } });
  });

  it('sends the request tags well-formed: half a surrogate pair would be invalid UTF-8 in the metadata', () => {
    const tagged = aRequest({ route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', metadata: { tags: ['eu\ud800', '\udc00'] } } });
    const verdict = admitter({ metering: true, newAdmissionId: () => 'adm-6' }).admit(aContext({ snapshot: aSnapshot({ key: aKey() }), request: tagged }));
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-6', request_tags: ['eu\ufffd', '\ufffd'], charged_tags: [] } });
  });

  it('names a tpm reservation by an admission id without metering too (its response settles it), with no tags: spend is not charged', async () => {
    const tpmLimited = aSnapshot({ key: aKey({ tpm_limit: 1000 }) });
    const verdict = await admitter({ metering: false, newAdmissionId: () => 'adm-tpm' }).admit(aContext({ snapshot: tpmLimited, request }));
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-tpm' } });
  });

  it('mints no admission id and adds no metadata for a Check without a tpm limit when unmetered (the shared empty metadata)', async () => {
    let minted = 0;
    const unmetered = admitter({ metering: false, newAdmissionId: () => `adm-${(minted += 1)}` });
    const rpmOnly = aSnapshot({ key: aKey({ rpm_limit: 5 }) });
    const first = await unmetered.admit(aContext({ snapshot: rpmOnly, request }));
    const second = await unmetered.admit(aContext({ snapshot: aSnapshot({ key: aKey() }), request }));
    if (first.kind !== 'admit' || second.kind !== 'admit') throw new Error('refused');
    expect(first.metadata).to.deep.equal({});
    expect(first.metadata, 'one frozen object, not one per Check').to.equal(second.metadata);
    expect(minted).to.equal(0);
  });

  it('touches nothing for a request with no limit and no budget', async () => {
    const errors: unknown[] = [];
    const verdict = await admitter({ reservation: { ttlMs: 1000, defaultOutputTokens: 100 }, metering: true, newAdmissionId: () => 'adm-4' }, errors).admit(
      aContext({ snapshot: aSnapshot({ key: aKey() }), request }),
    );
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'adm-4', request_tags: ['prod'], charged_tags: [] } });
    expect(errors).to.have.length(0);
  });
});

describe('spend: admission whose ADMIT is given up on but still runs in Redis', () => {
  // A Redis of the test's own behind a proxy that can hold its replies back: the shared one is never slowed.
  let redis: OwnRedis;
  let proxy: TcpProxy;
  let client: StandaloneRedisClient;
  let direct: StandaloneRedisClient;
  const keys = new SpendKeys('t:');
  const reserving = { ttlMs: 600_000, defaultOutputTokens: 100 };

  before(async function () {
    redis = await ownRedis(this);
    await redis.start();
    proxy = await startTcpProxy('127.0.0.1', redis.port);
    direct = createClient({ url: redis.url });
    direct.on('error', () => undefined);
    await direct.connect();
  });

  beforeEach(async () => {
    proxy.heal();
    client = createRedisClient({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 50, onError: () => undefined });
    await client.connect();
  });

  afterEach(() => {
    if (client.isOpen) client.destroy();
  });

  after(async () => {
    if (direct?.isOpen) direct.destroy();
    await proxy?.close();
    await redis?.cleanup();
  });

  /** A key of its own per request: its counter exists only once this request's ADMIT has run. */
  function aCheck(requestId: string): ReturnType<typeof aContext> {
    const request = aRequest({ requestId, route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', max_tokens: 10 } });
    return aContext({ snapshot: aSnapshot({ key: aKey({ token: `key-of-${requestId}`, max_budget: 10 }) }), request, now: new Date() });
  }

  /** Admits through the proxy, giving up on ADMIT's reply after 50 ms; resolves to what it threw, or else to its verdict. */
  async function admitGivingUp(check: ReturnType<typeof aContext>, errors: unknown[], admitWhenReservationUnavailable = false): Promise<unknown> {
    const impatient = admitter(
      {
        enforceRateLimits: false,
        reservation: reserving,
        metering: true,
        // Named after the request, so the test can find the reservation it took.
        newAdmissionId: () => check.request.requestId,
        timeoutMs: 50,
        idleCounterMs: 600_000,
        admitWhenReservationUnavailable,
      },
      errors,
      client,
    );
    try {
      return await impatient.admit(check);
    } catch (error) {
      return error;
    }
  }

  /** What Redis holds for the request: its reservation record, and the key counter's total reserved (null: ADMIT has not run). */
  async function reservationOf(requestId: string, counterKey: string): Promise<{ record: number; reserved: number | null; members: number }> {
    const [record, reserved, members] = await Promise.all([direct.exists(keys.reservation(requestId)), direct.hGet(counterKey, 'r'), direct.zCard(`${counterKey}:r`)]);
    return { record, reserved: reserved === null || reserved === undefined ? null : Number(reserved), members };
  }

  /**
   * Gives up on a slow ADMIT, then waits until the script has run (the counter exists) and nothing
   * of its reservation is left. `admitting`: as with allow_requests_on_db_unavailable, the request
   * is admitted unreserved (its error reported) instead of refused.
   */
  async function reservationAfterGivingUp(requestId: string, admitting = false): Promise<{ record: number; reserved: number | null; members: number }> {
    const errors: unknown[] = [];
    const check = aCheck(requestId);
    const counterKey = keys.counter({ kind: 'key', id: check.snapshot.key?.token ?? '' });
    proxy.slow(300);
    const answer = await admitGivingUp(check, errors, admitting);
    if (admitting) expect(answer).to.deep.equal({ kind: 'admit', metadata: { admission_id: requestId } });
    else expect(answer).to.be.instanceOf(ReservationUnavailableError);
    const settled = await eventually(
      () => reservationOf(requestId, counterKey),
      (state) => state.reserved === 0 && state.record === 0 && state.members === 0,
      { limitMs: 5_000, everyMs: 50 },
    );
    // Only the admission itself is reported: the release went through.
    expect(errors).to.have.length(admitting ? 1 : 0);
    if (admitting) expect(errors[0]).to.be.instanceOf(ReservationUnavailableError);
    return settled;
  }

  it('gives back what the abandoned ADMIT reserved, so the budget is not held for the reservation TTL', async () => {
    await ADMIT.run(direct, [keys.reservation('warm-up')], ['0', '0', '0', 'warm-up', '0', '0', '1', '1', '1', '0'], 1000);
    expect(await reservationAfterGivingUp('slow-admit-1')).to.deep.equal({ record: 0, reserved: 0, members: 0 });
  });

  it('gives it back too when ADMIT is not yet cached in Redis and is re-sent as EVAL (the release waits for it)', async () => {
    // After a Redis restart: the release script already loaded again (by metering), ADMIT not yet.
    await direct.scriptFlush();
    await RELEASE_RESERVATION.run(direct, [keys.reservation('warm-up')], ['warm-up'], 1000);
    expect(await reservationAfterGivingUp('slow-admit-3')).to.deep.equal({ record: 0, reserved: 0, members: 0 });
  });

  it('gives it back too when the request was admitted unreserved (allow_requests_on_db_unavailable), so it holds no budget its response may not settle', async () => {
    await ADMIT.run(direct, [keys.reservation('warm-up')], ['0', '0', '0', 'warm-up', '0', '0', '1', '1', '1', '0'], 1000);
    expect(await reservationAfterGivingUp('slow-admit-4', true)).to.deep.equal({ record: 0, reserved: 0, members: 0 });
  });

  it('gives back the tokens an abandoned ADMIT reserved against a tpm limit, the request admitted as rate limits fail open', async () => {
    await ADMIT.run(direct, [keys.reservation('warm-up')], ['0', '0', '0', 'warm-up', '0', '0', '1', '1', '1', '0'], 1000);
    const errors: unknown[] = [];
    const now = new Date();
    const token = 'key-of-slow-tpm';
    const request = aRequest({ requestId: 'slow-tpm', route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', messages: [], max_tokens: 10 } });
    const check = aContext({ snapshot: aSnapshot({ key: aKey({ token, tpm_limit: 1000 }) }), request, now });
    const impatient = admitter({ metering: false, newAdmissionId: () => 'slow-tpm', timeoutMs: 50 }, errors, client);
    proxy.slow(300);
    expect(await impatient.admit(check)).to.deep.equal({ kind: 'admit', metadata: { admission_id: 'slow-tpm' } });
    const bucket = `t:rl:key:${token}:tpm:${Math.floor(now.getTime() / 60_000)}`;
    // The script ran (its bucket exists), and its 10 tokens went back with the reservation record.
    const settled = await eventually(
      async () => [await direct.get(bucket), await direct.exists(keys.reservation('slow-tpm'))] as const,
      ([held, record]) => held === '0' && record === 0,
      { limitMs: 5_000, everyMs: 50 },
    );
    expect(settled).to.deep.equal(['0', 0]);
    expect(errors, 'only the fail-open admission is reported').to.have.length(1);
  });

  it('reports a release that cannot be sent, and still answers "cannot decide" (never throws the release failure)', async () => {
    const errors: unknown[] = [];
    const check = aCheck('slow-admit-2');
    proxy.stall();
    expect(await admitGivingUp(check, errors)).to.be.instanceOf(ReservationUnavailableError);
    // The connection drops with the ADMIT unanswered: the release after it has no connection to go on.
    proxy.cut();
    const reported = await eventually(async () => errors.length, (n) => n > 0, { limitMs: 5_000, everyMs: 20 });
    expect(reported).to.equal(1);
    expect(errors[0]).to.be.instanceOf(ReservationNotReleasedError);
  });
});
