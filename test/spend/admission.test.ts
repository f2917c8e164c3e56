import { expect } from 'chai';
import type { RedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { PriceTable } from '../../src/metering/prices';
import { RedisAdmitter, ReservationUnavailableError, type AdmissionOptions } from '../../src/spend/admission';
import { SpendKeys } from '../../src/spend/redis-keys';
import { aContext, aKey, aRequest, aSnapshot } from '../checks/fixtures';

const PRICES = new PriceTable(
  parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n', {}),
);
/** A client that is never connected: every Redis path fails. */
const DOWN = { isReady: false } as unknown as RedisClient;

function admitter(options: Partial<AdmissionOptions>, errors: unknown[] = []): RedisAdmitter {
  return new RedisAdmitter(DOWN, new SpendKeys('t:'), PRICES, {
    prefix: 't:',
    enforceRateLimits: true,
    reservation: null,
    rateLimitMetadata: false,
    tagsMetadata: false,
    timeoutMs: 50,
    idleCounterMs: 1000,
    onError: (error) => errors.push(error),
    ...options,
  });
}

describe('spend: admission when Redis cannot answer', () => {
  const limited = aSnapshot({ key: aKey({ rpm_limit: 1, max_budget: 10 }) });
  const request = aRequest({ requestId: 'req-1', route: '/v1/chat/completions', model: 'gpt-4o', body: { model: 'gpt-4o', max_tokens: 10, metadata: { tags: ['prod'] } } });

  it('lets rate limits fail open, reported, and still returns the metadata', async () => {
    const errors: unknown[] = [];
    const verdict = await admitter({ tagsMetadata: true }, errors).admit(aContext({ snapshot: limited, request }));
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { request_tags: ['prod'] } });
    expect(errors).to.have.length(1);
  });

  it('cannot decide when a budget reservation cannot be taken (never admits without the bound it promised)', async () => {
    const reserving = admitter({ reservation: { ttlMs: 1000, defaultOutputTokens: 100 } });
    let thrown: unknown = null;
    await Promise.resolve(reserving.admit(aContext({ snapshot: limited, request }))).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ReservationUnavailableError);
  });

  it('answers at once, without a promise, when Redis has nothing to decide (a warm Check stays synchronous)', () => {
    const verdict = admitter({ tagsMetadata: true }).admit(aContext({ request }));
    expect(verdict).to.not.be.instanceOf(Promise);
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: { request_tags: ['prod'] } });
  });

  it('touches nothing for a request with no limit and no budget', async () => {
    const errors: unknown[] = [];
    const verdict = await admitter({ reservation: { ttlMs: 1000, defaultOutputTokens: 100 } }, errors).admit(
      aContext({ snapshot: aSnapshot({ key: aKey() }), request }),
    );
    expect(verdict).to.deep.equal({ kind: 'admit', metadata: {} });
    expect(errors).to.have.length(0);
  });
});
