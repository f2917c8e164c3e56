import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import type { Policy } from '../../src/config/policy';
import type { RequestFacts } from '../../src/domain/request';
import { aKey, aPolicy, aRequest, NOW } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

const MASTER = 'sk-master-preflight-0000';
const BLOCKED = 'sk-blocked-preflight-1234';
const PREFLIGHT_HEADERS = { origin: 'https://chat.example.com', 'access-control-request-method': 'POST' };

function authorizer(policy: Partial<Policy> = {}): Authorizer {
  const store = new MemoryStore();
  store.keys.set(hashKey(BLOCKED), aKey({ token: hashKey(BLOCKED), blocked: true }));
  return new Authorizer({ store, policy: aPolicy(policy), masterKey: MASTER, now: () => NOW });
}

/** A browser's preflight carries no credential and no body. */
function preflight(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return aRequest({ method: 'OPTIONS', headers: PREFLIGHT_HEADERS, credential: { kind: 'none' }, body: null, model: null, ...overrides });
}

describe('CORS preflight (answered by LiteLLM\'s CORS middleware before its auth)', () => {
  it('lets a preflight through without a credential, naming no one', async () => {
    const { decision, refusedBy } = await authorizer().authorize(preflight());
    expect(refusedBy).to.equal(null);
    expect(decision).to.deep.equal({ kind: 'allow', identity: {}, credentialHeader: null });
  });

  it('does not read a credential sent with it, and still removes it upstream', async () => {
    const credential = { kind: 'present', value: BLOCKED, header: 'authorization' } as const;
    const { decision } = await authorizer().authorize(preflight({ credential }));
    expect(decision).to.deep.equal({ kind: 'allow', identity: {}, credentialHeader: 'authorization' });
  });

  it("lets through a preflight declaring an empty body (content-length: 0)", async () => {
    const { decision } = await authorizer().authorize(preflight({ headers: { ...PREFLIGHT_HEADERS, 'content-length': '0' } }));
    expect(decision.kind).to.equal('allow');
  });

  it('comes before the disabled routes and the body rules, as the middleware comes before every route', async () => {
    const disabled = { disabledRoutes: { management: true, llmApi: true } };
    const { decision } = await authorizer(disabled).authorize(preflight({ bodyInvalid: true, invalidJson: 'Invalid JSON payload: x' }));
    expect(decision.kind).to.equal('allow');
  });

  for (const [name, overrides] of [
    ['OPTIONS without Origin', { headers: { 'access-control-request-method': 'POST' } }],
    ['OPTIONS without Access-Control-Request-Method', { headers: { origin: 'https://chat.example.com' } }],
    ['a POST with both headers', { method: 'POST' }],
    ['a lower-case method (Starlette compares "OPTIONS")', { method: 'options' }],
    ['an OPTIONS upgrading to a WebSocket (uvicorn upgrades it, the middleware passes it on)', { headers: { ...PREFLIGHT_HEADERS, upgrade: 'websocket', connection: 'Upgrade' } }],
    ['an extended CONNECT\'s :protocol', { headers: { ...PREFLIGHT_HEADERS, ':protocol': 'websocket' } }],
    ['an OPTIONS with a body', { bodyBytes: 12 }],
    ['an OPTIONS declaring a body Envoy did not send', { headers: { ...PREFLIGHT_HEADERS, 'content-length': '12' } }],
    ['an OPTIONS with a chunked body', { headers: { ...PREFLIGHT_HEADERS, 'transfer-encoding': 'chunked' } }],
    ['an OPTIONS overriding its method (x-http-method-override)', { headers: { ...PREFLIGHT_HEADERS, 'x-http-method-override': 'POST' } }],
    ['an OPTIONS overriding its method (x-http-method)', { headers: { ...PREFLIGHT_HEADERS, 'x-http-method': 'POST' } }],
    ['an OPTIONS overriding its method (x-method-override)', { headers: { ...PREFLIGHT_HEADERS, 'x-method-override': 'POST' } }],
  ] as const) {
    it(`decides ${name} as any other request: no key, 401`, async () => {
      const { decision, refusedBy } = await authorizer().authorize(preflight(overrides));
      expect(refusedBy).to.equal('identify');
      expect(decision.kind === 'deny' && decision.denial.status).to.equal(401);
    });
  }
});
