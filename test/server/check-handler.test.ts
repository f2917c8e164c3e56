/**
 * The Check handler's three outcomes on the paths a decision can take: decided at once from memory,
 * decided after waiting, and failing while building the answer (a fault of Tollgate's own, which
 * is UNAVAILABLE and never an allow, even with allow_requests_on_db_unavailable). That flag allows
 * on a database outage only, as LiteLLM does (is_database_connection_error).
 */
import { status as GrpcStatus, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { Authorizer, Outcome } from '../../src/authorize/authorize';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';
import type { Identity } from '../../src/domain/decision';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { createLogger } from '../../src/observability/logger';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { Admission } from '../../src/server/admission';
import { createCheckHandler, type CheckHandlerDeps } from '../../src/server/check-handler';
import { ReservationUnavailableError } from '../../src/spend/admission';
import { StoreTimeoutError } from '../../src/store/deadline';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { anEnvoyCheck, chat, isAllowed, upstreamHeaders } from '../support/envoy-requests';
import { eventually } from '../support/poll';

function call(
  handler: ReturnType<typeof createCheckHandler>,
  request: CheckRequest,
  deadlineMs = 1_000,
): Promise<{ error: ServiceError | null; response?: CheckResponse }> {
  const unary = { request, getDeadline: () => Date.now() + deadlineMs } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
  return new Promise((resolve) => handler(unary, (error, response) => resolve({ error: (error as ServiceError | null) ?? null, response: response ?? undefined })));
}

const env = { LITELLM_MASTER_KEY: 'sk-master-h' };
const settings = settingsFrom(parseLiteLlmConfig('general_settings:\n  allow_requests_on_db_unavailable: true\n', env), env);
const allowed: Outcome = { decision: { kind: 'allow', identity: { teamId: 't1' }, credentialHeader: null }, refusedBy: null };

function handlerDeciding(
  decide: () => Outcome | Promise<Outcome>,
  admission = new Admission(4),
  onDiscardedDecision?: CheckHandlerDeps['onDiscardedDecision'],
  withSettings = settings,
): ReturnType<typeof createCheckHandler> {
  const authorizer = { decide } as unknown as Authorizer;
  return createCheckHandler({ settings: withSettings, authorizer, logger: createLogger('silent'), admission, onDiscardedDecision });
}

/** Two handlers whose decision fails with `error`: thrown at once, and rejected after waiting. */
function handlersFailingWith(error: Error, withSettings = settings): Array<ReturnType<typeof createCheckHandler>> {
  return [
    handlerDeciding(() => {
      throw error;
    }, new Admission(4), undefined, withSettings),
    handlerDeciding(() => Promise.reject(error), new Admission(4), undefined, withSettings),
  ];
}

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

describe('check handler: decided at once, after waiting, or failing to answer', () => {
  it('answers a decision made from memory, and gives its in-flight slot back', async () => {
    const admission = new Admission(1);
    const handler = handlerDeciding(() => allowed, admission);
    for (let i = 0; i < 3; i += 1) {
      const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') }));
      expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
    }
  });

  it('refuses a CheckRequest without attributes.request.http (a network-level filter) without deciding, never allows it', async () => {
    let decided = 0;
    const handler = handlerDeciding(() => {
      decided += 1;
      return allowed;
    });
    for (const request of [{}, { attributes: {} }, { attributes: { request: {} } }] as CheckRequest[]) {
      const answer = await call(handler, request);
      expect(answer.error, JSON.stringify(request)).to.equal(null);
      expect(answer.response?.status?.code, JSON.stringify(request)).to.equal(7); // PERMISSION_DENIED
      expect(answer.response?.denied_response?.status?.code).to.equal(403);
      expect(String(answer.response?.denied_response?.body)).to.match(/no attributes\.request\.http/);
    }
    expect(decided).to.equal(0);
  });

  it('answers from the facts the decision was made on: an end user validate_end_user_id_in_db dropped is not sent', async () => {
    const request = anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o', { user: 'nobody' }) });
    const parsed = parseCheckRequest(request, settings);
    const dropped: Outcome = { ...allowed, facts: { ...parsed, endUserId: null } };
    const sent = await call(handlerDeciding(() => allowed), request);
    const withheld = await call(handlerDeciding(() => Promise.resolve(dropped)), request);
    expect(upstreamHeaders(sent.response as CheckResponse)['x-tollgate-end-user-id']).to.equal('nobody');
    expect(upstreamHeaders(withheld.response as CheckResponse)['x-tollgate-end-user-id']).to.equal(undefined);
  });

  it('allows on a database outage (allow_requests_on_db_unavailable) without an end user nobody could confirm, with validate_end_user_id_in_db on', async () => {
    const yaml = 'general_settings:\n  allow_requests_on_db_unavailable: true\nlitellm_settings:\n  validate_end_user_id_in_db: {on}\n';
    const request = anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o', { user: 'nobody' }) });
    const outage = (): never => {
      throw new StoreUnavailableError('database call findEndUser failed');
    };
    const headerWith = async (on: boolean): Promise<string | undefined> => {
      const withSettings = settingsFrom(parseLiteLlmConfig(yaml.replace('{on}', String(on)), env), env);
      const answer = await call(handlerDeciding(outage, new Admission(4), undefined, withSettings), request);
      expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
      return upstreamHeaders(answer.response as CheckResponse)['x-tollgate-end-user-id'];
    };
    expect(await headerWith(true)).to.equal(undefined);
    expect(await headerWith(false)).to.equal('nobody');
  });

  it('answers a decision that had to wait the same way', async () => {
    const handler = handlerDeciding(() => new Promise((resolve) => setTimeout(() => resolve(allowed), 5)));
    const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') }));
    expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
  });

  it('answers UNAVAILABLE when building the answer fails, never an allow', async () => {
    const broken = new Proxy({} as Identity, {
      get() {
        throw new Error('identity unreadable');
      },
    });
    const outcome: Outcome = { decision: { kind: 'allow', identity: broken, credentialHeader: null }, refusedBy: null };
    for (const handler of [handlerDeciding(() => outcome), handlerDeciding(() => Promise.resolve(outcome))]) {
      const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') }));
      expect(answer.response).to.equal(undefined);
      expect(answer.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
      expect(answer.error?.details).to.equal('internal error');
    }
  });

  it('turns a decision that fails synchronously into "cannot decide" (here allowed, as LiteLLM does on a database outage)', async () => {
    const handler = handlerDeciding(() => {
      throw new StoreUnavailableError('database call findKey failed: Error: connect ECONNREFUSED');
    });
    const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') }));
    expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
  });

  it("parses each request with the policy's general_settings.completion_model, so the checks read the model LiteLLM serves", async () => {
    const seen: string[] = [];
    const decide = (facts: { model: unknown }): Outcome => {
      seen.push(JSON.stringify(facts.model));
      return allowed;
    };
    const authorizer = { decide, completionModel: 'gpt-4o' } as unknown as Authorizer;
    const handler = createCheckHandler({ settings, authorizer, logger: createLogger('silent'), admission: new Admission(4) });
    await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o-mini') }));
    expect(seen).to.deep.equal(['["gpt-4o-mini","gpt-4o"]']);
  });
});

describe('check handler: allow_requests_on_db_unavailable allows on a database outage, nothing else', () => {
  const request = (): CheckRequest => anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') });
  const flagOff = settingsFrom(parseLiteLlmConfig('general_settings:\n  allow_requests_on_db_unavailable: false\n', env), env);

  async function expectUnavailable(handlers: Array<ReturnType<typeof createCheckHandler>>, details: string): Promise<void> {
    for (const handler of handlers) {
      const answer = await call(handler, request());
      expect(answer.response, 'no CheckResponse, so no allow').to.equal(undefined);
      expect(answer.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
      expect(answer.error?.details).to.equal(details);
    }
  }

  it('allows as the proxy admin (failed-to-connect-to-db) when the store is unavailable, at once or after waiting', async () => {
    for (const handler of handlersFailingWith(new StoreUnavailableError('database call findKey failed: Error: connect ECONNREFUSED'))) {
      const answer = await call(handler, request());
      expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
      const headers = upstreamHeaders(answer.response as CheckResponse);
      expect(headers).to.include({ 'x-tollgate-key-alias': 'failed-to-connect-to-db', 'x-tollgate-user-id': settings.policy.proxyAdminName });
    }
  });

  it('counts a database call past tollgate.db_timeout_ms as the store unavailable', async () => {
    for (const handler of handlersFailingWith(new StoreTimeoutError('findKey', 2_000))) {
      const answer = await call(handler, request());
      expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
    }
  });

  it('answers UNAVAILABLE (internal error), never an allow, for a TypeError in the decision path', async () => {
    await expectUnavailable(handlersFailingWith(new TypeError("Cannot read properties of undefined (reading 'models')")), 'internal error');
  });

  it('answers UNAVAILABLE for any error not known as a database outage, even one that reads like one', async () => {
    await expectUnavailable(handlersFailingWith(new Error('connect ECONNREFUSED')), 'internal error');
  });

  it('answers UNAVAILABLE, never an allow, when Redis could not take a budget reservation', async () => {
    await expectUnavailable(handlersFailingWith(new ReservationUnavailableError(new Error('Connection is closed.'))), 'budget reservation unavailable');
  });

  it('without the flag, answers a store outage UNAVAILABLE as before, and a TypeError as an internal error', async () => {
    await expectUnavailable(handlersFailingWith(new StoreUnavailableError('authorization store not connected yet'), flagOff), 'authorization store unavailable');
    await expectUnavailable(handlersFailingWith(new TypeError('x is not a function'), flagOff), 'internal error');
  });
});

describe('check handler: a decision Envoy never received is handed back (its reservation released)', () => {
  function recorder(): { discarded: Array<{ requestId: string; kind: string }>; hook: NonNullable<CheckHandlerDeps['onDiscardedDecision']> } {
    const discarded: Array<{ requestId: string; kind: string }> = [];
    return { discarded, hook: (outcome, facts) => discarded.push({ requestId: facts.requestId, kind: outcome.decision.kind }) };
  }

  it('hands back an allow that arrives after the Check was answered UNAVAILABLE at its deadline', async () => {
    const { discarded, hook } = recorder();
    const handler = handlerDeciding(() => later(300, allowed), new Admission(4), hook);
    const request = anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o'), headers: { 'x-request-id': 'late-allow-1' } });
    const answer = await call(handler, request, 100);
    expect(answer.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(answer.error?.details).to.equal('deadline too short to decide');
    const seen = await eventually(async () => discarded.length, (n) => n > 0, { limitMs: 3_000, everyMs: 20 });
    expect(seen).to.equal(1);
    expect(discarded).to.deep.equal([{ requestId: 'late-allow-1', kind: 'allow' }]);
  });

  it('hands back nothing for an allow answered in time, from memory or after waiting', async () => {
    const { discarded, hook } = recorder();
    const fromMemory = handlerDeciding(() => allowed, new Admission(4), hook);
    const afterWaiting = handlerDeciding(() => later(5, allowed), new Admission(4), hook);
    for (const handler of [fromMemory, afterWaiting]) {
      const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') }));
      expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
    }
    // A late Check as a marker: once its hand-back is seen, one owed by the earlier Checks would have come first.
    const late = handlerDeciding(() => later(150, allowed), new Admission(4), hook);
    await call(late, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o'), headers: { 'x-request-id': 'marker-1' } }), 60);
    await eventually(async () => discarded.length, (n) => n > 0, { limitMs: 3_000, everyMs: 20 });
    expect(discarded).to.deep.equal([{ requestId: 'marker-1', kind: 'allow' }]);
  });

  it('hands back an allow whose answer could not be built (Envoy got UNAVAILABLE instead)', async () => {
    const { discarded, hook } = recorder();
    const broken = new Proxy({} as Identity, {
      get() {
        throw new Error('identity unreadable');
      },
    });
    const outcome: Outcome = { decision: { kind: 'allow', identity: broken, credentialHeader: null }, refusedBy: null };
    const handler = handlerDeciding(() => Promise.resolve(outcome), new Admission(4), hook);
    const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o'), headers: { 'x-request-id': 'unanswered-1' } }));
    expect(answer.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(discarded).to.deep.equal([{ requestId: 'unanswered-1', kind: 'allow' }]);
  });
});
