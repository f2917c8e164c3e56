/**
 * A JWKS outage is "cannot decide" (UNAVAILABLE) and, unlike a database outage, is never turned
 * into an allow by general_settings.allow_requests_on_db_unavailable.
 */
import { status as GrpcStatus, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createJwtAuthenticator } from '../../src/auth/jwt/create';
import { Authorizer } from '../../src/authorize/authorize';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';
import type { CheckRequest, CheckResponse } from '../../src/envoy/messages';
import { createLogger } from '../../src/observability/logger';
import { createCheckHandler } from '../../src/server/check-handler';
import { DeferredJwtDirectory } from '../../src/server/jwt-wiring';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { aSigningKey, aToken } from '../support/jwt';
import { MemoryStore } from '../support/memory-store';

function call(handler: ReturnType<typeof createCheckHandler>, request: CheckRequest): Promise<{ error: ServiceError | null; response?: CheckResponse }> {
  const unary = { request, getDeadline: () => Infinity } as unknown as ServerUnaryCall<CheckRequest, CheckResponse>;
  return new Promise((resolve) => handler(unary, (error, response) => resolve({ error: (error as ServiceError | null) ?? null, response: response ?? undefined })));
}

describe('check handler: JWT key source outages', () => {
  const yaml = [
    'general_settings:',
    '  allow_requests_on_db_unavailable: true',
    '  enable_jwt_auth: true',
    '  litellm_jwtauth: {team_id_jwt_field: tid}',
    'tollgate:',
    '  jwt: {jwks_fetch_timeout_ms: 500}',
  ].join('\n');
  const env = { LITELLM_MASTER_KEY: 'sk-master-h', JWT_PUBLIC_KEY_URL: 'http://127.0.0.1:9/certs' };
  const settings = settingsFrom(parseLiteLlmConfig(yaml, env), env);
  const store = new MemoryStore();
  const jwt = createJwtAuthenticator({ settings, store, directory: new DeferredJwtDirectory() });
  const handler = createCheckHandler({
    settings,
    authorizer: new Authorizer({ store, policy: settings.policy, masterKey: settings.masterKey, jwt }),
    logger: createLogger('silent'),
  });

  it('answers UNAVAILABLE, not an allow, even with allow_requests_on_db_unavailable', async () => {
    const key = await aSigningKey('RS256');
    const answer = await call(handler, anEnvoyCheck({ key: await aToken(key, { tid: 't1' }), body: chat('gpt-4o') }));
    expect(answer.response).to.equal(undefined);
    expect(answer.error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(answer.error?.details).to.equal('identity provider keys unavailable');
  });

  it('while a database outage for a virtual key is still allowed as LiteLLM does', async () => {
    class DownStore extends MemoryStore {
      override findKey(): never {
        throw new StoreUnavailableError('database call findKey failed: Error: connect ECONNREFUSED');
      }
    }
    const dbDown = new Authorizer({ store: new DownStore(), policy: settings.policy, masterKey: settings.masterKey });
    const answer = await call(createCheckHandler({ settings, authorizer: dbDown, logger: createLogger('silent') }), anEnvoyCheck({ key: 'sk-some-key', body: chat('gpt-4o') }));
    expect(answer.response !== undefined && isAllowed(answer.response)).to.equal(true);
  });
});
