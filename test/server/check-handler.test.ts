/**
 * The Check handler's three outcomes on the paths a decision can take: decided at once from memory,
 * decided after waiting, and failing while building the answer (a fault of Tollgate's own, which
 * is UNAVAILABLE and never an allow, even with allow_requests_on_db_unavailable).
 */
import { status as GrpcStatus, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { Authorizer, Outcome } from '../../src/authorize/authorize';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';
import type { Identity } from '../../src/domain/decision';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { createLogger } from '../../src/observability/logger';
import { Admission } from '../../src/server/admission';
import { createCheckHandler } from '../../src/server/check-handler';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';

function call(handler: ReturnType<typeof createCheckHandler>, request: CheckRequest): Promise<{ error: ServiceError | null; response?: CheckResponse }> {
  const unary = { request, getDeadline: () => Date.now() + 1_000 } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
  return new Promise((resolve) => handler(unary, (error, response) => resolve({ error: (error as ServiceError | null) ?? null, response: response ?? undefined })));
}

const env = { LITELLM_MASTER_KEY: 'sk-master-h' };
const settings = settingsFrom(parseLiteLlmConfig('general_settings:\n  allow_requests_on_db_unavailable: true\n', env), env);
const allowed: Outcome = { decision: { kind: 'allow', identity: { teamId: 't1' }, credentialHeader: null }, refusedBy: null };

function handlerDeciding(decide: () => Outcome | Promise<Outcome>, admission = new Admission(4)): ReturnType<typeof createCheckHandler> {
  const authorizer = { decide } as unknown as Authorizer;
  return createCheckHandler({ settings, authorizer, logger: createLogger('silent'), admission });
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
      throw new Error('ECONNREFUSED');
    });
    const answer = await call(handler, anEnvoyCheck({ key: 'sk-any-0123456789', body: chat('gpt-4o') }));
    expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
  });
});
