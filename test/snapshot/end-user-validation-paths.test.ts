/**
 * validate_end_user_id_in_db on every path a Check can take: whatever the caller (virtual key,
 * master key, no key at all on a public route, an open proxy, an unauthenticated pass-through
 * endpoint), an end user nothing names reaches no identity header, no dynamic metadata and no
 * spend attribution, and one a customer row names does.
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom, type Settings } from '../../src/config/settings';
import type { RequestFacts } from '../../src/domain/request';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { attributionFromDecision } from '../../src/metering/admitted-identity';
import { createLogger } from '../../src/observability/logger';
import { Admission } from '../../src/server/admission';
import { createCheckHandler } from '../../src/server/check-handler';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { hashKey } from '../../src/auth/key-hash';
import { aKey, anEndUser } from '../checks/fixtures';
import { anEnvoyCheck, chat, isAllowed, metadataOf, upstreamHeaders } from '../support/envoy-requests';
import { MemoryStore } from '../support/memory-store';

const MASTER = 'sk-master-paths-0123456789';

interface Answered {
  readonly response: CheckResponse;
  readonly charged: string | null;
}

/** One Check through the real handler and authorizer; `charged` is the end user spend would name. */
function check(settings: Settings, masterKey: string | null, store: MemoryStore, request: CheckRequest): Promise<Answered> {
  const authorizer = new Authorizer({ store, policy: settings.policy, masterKey });
  let charged: string | null = null;
  const onDecision = (outcome: Outcome | null, facts: RequestFacts | null): void => {
    if (outcome !== null && facts !== null && outcome.decision.kind === 'allow') charged = attributionFromDecision(outcome.decision, facts).endUserId;
  };
  const handler = createCheckHandler({ settings, authorizer, logger: createLogger('silent'), admission: new Admission(4), onDecision });
  const unary = { request, getDeadline: () => Date.now() + 1_000 } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
  return new Promise((resolve, reject) =>
    handler(unary, (error, response) => (error !== null || response == null ? reject(error ?? new Error('no answer')) : resolve({ response, charged }))),
  );
}

function settingsWith(yaml: string, masterKey: string | null): Settings {
  const env = masterKey === null ? {} : { LITELLM_MASTER_KEY: masterKey };
  return settingsFrom(parseLiteLlmConfig(yaml, env), env);
}

const VALIDATING = 'litellm_settings:\n  validate_end_user_id_in_db: true\ngeneral_settings:\n  pass_through_endpoints:\n    - path: /open-pt\n      target: https://upstream.example.com\n      auth: false\n';

function storeKnowing(...customers: string[]): MemoryStore {
  const store = new MemoryStore();
  for (const id of customers) store.endUsers.set(id, anEndUser({ user_id: id }));
  return store;
}

const KEYLESS_PATHS: ReadonlyArray<readonly [string, string | null, (user: string) => CheckRequest]> = [
  ['a public route', MASTER, (user) => anEnvoyCheck({ method: 'GET', path: '/health/liveliness', headers: { 'x-litellm-end-user-id': user } })],
  ['an open proxy (no master key)', null, (user) => anEnvoyCheck({ body: chat('gpt-4o', { user }) })],
  ['an unauthenticated pass-through endpoint', MASTER, (user) => anEnvoyCheck({ path: '/open-pt', body: { user } })],
];

describe('validate_end_user_id_in_db on the paths that need no key', () => {
  for (const [path, masterKey, requestNaming] of KEYLESS_PATHS) {
    describe(path, () => {
      const settings = settingsWith(VALIDATING, masterKey);

      it('sends no end user nothing names: no header, no metadata, no spend', async () => {
        const { response, charged } = await check(settings, masterKey, storeKnowing(), requestNaming('session-1234'));
        expect(isAllowed(response)).to.equal(true);
        expect(upstreamHeaders(response)['x-tollgate-end-user-id']).to.equal(undefined);
        expect(metadataOf(response)['end_user_id']).to.equal(undefined);
        expect(charged).to.equal(null);
      });

      it('sends a customer a row names', async () => {
        const { response, charged } = await check(settings, masterKey, storeKnowing('cust-1'), requestNaming('cust-1'));
        expect(upstreamHeaders(response)['x-tollgate-end-user-id']).to.equal('cust-1');
        expect(charged).to.equal('cust-1');
      });

      it('allows without the end user when the lookup fails, as it needs no database', async () => {
        const failing = storeKnowing('cust-1');
        failing.findEndUser = () => Promise.reject(new StoreUnavailableError('database call findEndUser failed'));
        const { response, charged } = await check(settings, masterKey, failing, requestNaming('cust-1'));
        expect(isAllowed(response)).to.equal(true);
        expect(upstreamHeaders(response)['x-tollgate-end-user-id']).to.equal(undefined);
        expect(charged).to.equal(null);
      });

      it('looks nothing up, and sends the end user as named, with the setting off', async () => {
        const store = storeKnowing();
        const { response } = await check(settingsWith(VALIDATING.replace('true', 'false'), masterKey), masterKey, store, requestNaming('session-1234'));
        expect(upstreamHeaders(response)['x-tollgate-end-user-id']).to.equal('session-1234');
        expect(store.calls).to.deep.equal([]);
      });
    });
  }
});

describe('validate_end_user_id_in_db for the callers with a key', () => {
  const settings = settingsWith(VALIDATING, MASTER);
  const VIRTUAL = 'sk-paths-virtual-0123456789';

  function storeWithKey(...customers: string[]): MemoryStore {
    const store = storeKnowing(...customers);
    store.keys.set(hashKey(VIRTUAL), aKey({ token: hashKey(VIRTUAL) }));
    return store;
  }

  for (const [caller, key] of [
    ['the master key', MASTER],
    ['a virtual key', VIRTUAL],
  ] as const) {
    it(`${caller}: an end user nothing names gets no header, no metadata, no spend, from the body or a header`, async () => {
      for (const request of [
        anEnvoyCheck({ key, body: chat('gpt-4o', { user: 'session-1234' }) }),
        anEnvoyCheck({ key, body: chat('gpt-4o', { metadata: { user_id: 'session-1234' } }) }),
        anEnvoyCheck({ key, body: chat('gpt-4o'), headers: { 'x-litellm-customer-id': 'session-1234' } }),
      ]) {
        const { response, charged } = await check(settings, MASTER, storeWithKey(), request);
        expect(isAllowed(response)).to.equal(true);
        expect(upstreamHeaders(response)['x-tollgate-end-user-id']).to.equal(undefined);
        expect(metadataOf(response)['end_user_id']).to.equal(undefined);
        expect(charged).to.equal(null);
      }
    });

    it(`${caller}: a customer a row names is sent and charged`, async () => {
      const { response, charged } = await check(settings, MASTER, storeWithKey('cust-1'), anEnvoyCheck({ key, body: chat('gpt-4o', { user: 'cust-1' }) }));
      expect(upstreamHeaders(response)['x-tollgate-end-user-id']).to.equal('cust-1');
      expect(charged).to.equal('cust-1');
    });
  }
});
