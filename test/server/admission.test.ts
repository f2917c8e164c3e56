/**
 * Overload: at most `tollgate.max_in_flight` Checks are worked on at once; the rest are refused
 * with UNAVAILABLE at once instead of queueing (server/admission.ts).
 */
import { status as GrpcStatus, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import { settingsFrom } from '../../src/config/settings';
import type { VirtualKey } from '../../src/domain/entities';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { createLogger } from '../../src/observability/logger';
import { Admission } from '../../src/server/admission';
import { createCheckHandler } from '../../src/server/check-handler';
import { aKey } from '../checks/fixtures';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { MemoryStore } from '../support/memory-store';

describe('Admission', () => {
  it('hands out at most `limit` slots and counts refusals', () => {
    const admission = new Admission(2);
    const first = admission.tryAcquire();
    const second = admission.tryAcquire();
    expect(first).to.be.a('function');
    expect(second).to.be.a('function');
    expect(admission.tryAcquire()).to.equal(null);
    expect(admission.refusedTotal).to.equal(1);
    first?.();
    expect(admission.inFlight).to.equal(1);
    expect(admission.tryAcquire()).to.be.a('function');
  });

  it('gives a slot back once, however often its release is called', () => {
    const admission = new Admission(1);
    const release = admission.tryAcquire();
    release?.();
    release?.();
    expect(admission.inFlight).to.equal(0);
  });

  it('reports overload at most once per 10 s', () => {
    const admission = new Admission(1);
    expect(admission.shouldReport(1_000)).to.equal(true);
    expect(admission.shouldReport(5_000)).to.equal(false);
    expect(admission.shouldReport(11_000)).to.equal(true);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new Admission(0)).to.throw(/positive integer/);
  });
});

/** A store whose key lookups wait until the test lets them finish: Checks stay in flight. */
class HeldStore extends MemoryStore {
  private readonly waiting: Array<() => void> = [];

  override findKey(hash: string): Promise<VirtualKey | null> {
    return new Promise((resolve) => this.waiting.push(() => resolve(this.keys.get(hash) ?? null)));
  }

  finishAll(): void {
    for (const finish of this.waiting.splice(0)) finish();
  }
}

interface Answer {
  readonly error: ServiceError | null;
  readonly response: CheckResponse | undefined;
}

describe('check handler under overload', () => {
  const RAW = 'sk-admission-0123456789';
  const settings = settingsFrom({ tollgate: { max_in_flight: 2 } }, { LITELLM_MASTER_KEY: 'sk-master-admission' });
  const silent = createLogger('silent');

  function call(handler: ReturnType<typeof createCheckHandler>, request: CheckRequest, deadline: number = Infinity): Promise<Answer> {
    const unary = { request, getDeadline: () => deadline } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
    return new Promise((resolve) =>
      handler(unary, (error, response) => resolve({ error: (error as ServiceError | null) ?? null, response: response ?? undefined })),
    );
  }

  it('reads tollgate.max_in_flight (default 1024)', () => {
    expect(settings.maxInFlight).to.equal(2);
    expect(settingsFrom({}, {}).maxInFlight).to.equal(1024);
  });

  it('refuses the Check beyond the limit with UNAVAILABLE at once, and admits again once work settles', async () => {
    const store = new HeldStore();
    store.keys.set(hashKey(RAW), aKey({ token: hashKey(RAW), team_id: null }));
    const authorizer = new Authorizer({ store, policy: settings.policy, masterKey: settings.masterKey });
    const handler = createCheckHandler({ settings, authorizer, logger: silent });
    const request = anEnvoyCheck({ key: RAW, body: chat('gpt-4o') });

    const held = [call(handler, request), call(handler, request)];
    const refused = await call(handler, request);
    expect(refused.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(refused.error?.details).to.match(/overloaded/);

    // Checks that need no store are refused too: the bound is on all work, not only DB work.
    const noKey = await call(handler, anEnvoyCheck({ body: chat('gpt-4o') }));
    expect(noKey.error?.code).to.equal(GrpcStatus.UNAVAILABLE);

    store.finishAll();
    for (const answer of await Promise.all(held)) expect(answer.response && isAllowed(answer.response)).to.equal(true);
    const again = call(handler, request);
    store.finishAll();
    const answer = await again;
    expect(answer.error).to.equal(null);
  });

  it('keeps the slot of a Check answered at its deadline until its store call has settled', async () => {
    const store = new HeldStore();
    const admission = new Admission(1);
    const authorizer = new Authorizer({ store, policy: settings.policy, masterKey: settings.masterKey });
    const handler = createCheckHandler({ settings, authorizer, logger: silent, admission });
    const late = await call(handler, anEnvoyCheck({ key: RAW, body: chat('gpt-4o') }), Date.now() + 30);
    expect(late.error?.details).to.match(/deadline/);
    expect(admission.inFlight, 'the lookup is still running').to.equal(1);
    store.finishAll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(admission.inFlight).to.equal(0);
  });

  it('gives the slot back when parsing fails before any work started', async () => {
    const admission = new Admission(1);
    const authorizer = new Authorizer({ store: new MemoryStore(), policy: settings.policy, masterKey: settings.masterKey });
    const handler = createCheckHandler({ settings, authorizer, logger: silent, admission });
    // Stands in for any bug in parsing: the first read (telemetry) works, parsing's read throws.
    let reads = 0;
    const broken = {
      get attributes(): CheckRequest['attributes'] {
        reads += 1;
        if (reads > 1) throw new Error('parser bug');
        return {};
      },
    } as CheckRequest;
    const answer = await call(handler, broken);
    expect(answer.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(admission.inFlight).to.equal(0);
  });
});
