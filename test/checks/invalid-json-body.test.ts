import { expect } from 'chai';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { hashKey } from '../../src/auth/key-hash';
import { invalidJsonBody } from '../../src/checks/invalid-json-body';
import type { CheckContext } from '../../src/checks/types';
import type { RequestFacts } from '../../src/domain/request';
import { INVALID_JSON_MESSAGE } from '../../src/envoy/body';
import type { Admitter } from '../../src/spend/admission';
import { MemoryStore } from '../support/memory-store';
import { JwtAuthenticator } from '../../src/auth/jwt/authenticator';
import { aVerifier, jwtSettings, MemoryDirectory } from '../auth/jwt/fixtures';
import { aSigningKey, aToken, type SigningKey } from '../support/jwt';
import { aKey, aPolicy, aRequest, aTeam, aUser, decide, NOW, RAW_KEY } from './fixtures';

const MASTER_KEY = 'sk-master-0000';

/** A whole body that is not JSON, as the parser hands it on: no body, no model (LiteLLM's `{}`). */
const notJson: Partial<RequestFacts> = { body: null, bodyInvalid: true, bodyBytes: 19, model: null, invalidJson: INVALID_JSON_MESSAGE };

const INVALID_JSON_DENIAL = { status: 400, type: 'invalid_request_error', message: INVALID_JSON_MESSAGE, param: 'request_body' };

function denialOf(outcome: Outcome): unknown {
  return outcome.decision.kind === 'deny' ? outcome.decision.denial : null;
}

describe('invalid JSON body — newer LiteLLM refuses a whole body that is not JSON, after every other check', () => {
  const admitted: CheckContext[] = [];
  const admission: Admitter = {
    admit: (ctx) => {
      admitted.push(ctx);
      return { kind: 'admit', metadata: {} };
    },
  };

  function authorizer(options: { key?: Parameters<typeof aKey>[0] | null; masterKey?: string | null; publicRoutes?: readonly string[] } = {}): Authorizer {
    const store = new MemoryStore();
    if (options.key !== null) store.keys.set(hashKey(RAW_KEY), aKey({ token: hashKey(RAW_KEY), ...options.key }));
    const masterKey = options.masterKey === undefined ? MASTER_KEY : options.masterKey;
    return new Authorizer({ store, policy: aPolicy({ publicRoutes: options.publicRoutes ?? [] }), masterKey, now: () => NOW, admission });
  }

  beforeEach(() => {
    admitted.length = 0;
  });

  it('lets every other body through, cut short, no object or none', () => {
    expect(decide(invalidJsonBody, { request: {} })).to.equal(null);
    expect(decide(invalidJsonBody, { request: { body: null, bodyInvalid: true, model: null } }), 'JSON that is no object').to.equal(null);
    expect(decide(invalidJsonBody, { request: { body: {}, bodyTruncated: true } }), 'a cut body').to.equal(null);
  });

  it("refuses with 400 invalid_request_error, param request_body, and LiteLLM's 'Invalid JSON payload' text", () => {
    expect(decide(invalidJsonBody, { request: notJson })).to.deep.equal(INVALID_JSON_DENIAL);
  });

  it('refuses a key allowed every model, which the unread model let through before, and takes no rate limit or reservation', async () => {
    const outcome = await authorizer().authorize(aRequest(notJson));
    expect(outcome.refusedBy).to.equal('invalid_json_body');
    expect(denialOf(outcome)).to.deep.equal(INVALID_JSON_DENIAL);
    expect(admitted, 'admission never reached').to.deep.equal([]);
  });

  it('refuses a key limited to some models with the 400 too, as LiteLLM decides the body as an empty one (no model to check)', async () => {
    const outcome = await authorizer({ key: { models: ['gpt-4o-mini'] } }).authorize(aRequest(notJson));
    expect(outcome.refusedBy).to.equal('invalid_json_body');
  });

  it("answers a key that does not exist with the key's 401, not the 400: LiteLLM authenticates first", async () => {
    const outcome = await authorizer({ key: null }).authorize(aRequest(notJson));
    expect(outcome.refusedBy).to.equal('key_found');
    expect(denialOf(outcome)).to.deep.include({ status: 401 });
  });

  it("answers a blocked key, an over-budget key and a route the key may not call with their own refusals first", async () => {
    expect((await authorizer({ key: { blocked: true } }).authorize(aRequest(notJson))).refusedBy).to.equal('key_blocked');
    expect((await authorizer({ key: { max_budget: 1, spend: 2 } }).authorize(aRequest(notJson))).refusedBy).to.equal('key_budget');
    expect((await authorizer({ key: { allowed_routes: ['/embeddings'] } }).authorize(aRequest(notJson))).refusedBy).to.equal('key_allowed_routes');
  });

  it('refuses the callers that pass no check as they would be allowed: the master key and an open proxy', async () => {
    const master = await authorizer().authorize(aRequest({ ...notJson, credential: { kind: 'present', value: MASTER_KEY, header: 'authorization' } }));
    expect(master.refusedBy).to.equal('invalid_json_body');
    expect(denialOf(master)).to.deep.equal(INVALID_JSON_DENIAL);
    expect(master.decision.kind === 'deny' && master.decision.identity.userRole, 'naming the caller it let through').to.equal('proxy_admin');
    const open = await authorizer({ masterKey: null }).authorize(aRequest({ ...notJson, credential: { kind: 'none' } }));
    expect(open.refusedBy).to.equal('invalid_json_body');
  });

  it('refuses it on a route made public in general_settings.public_routes, naming no one: LiteLLM still runs user_api_key_auth there', async () => {
    for (const [route, credential] of [
      ['/open/thing', { kind: 'none' }],
      ['/open/wild/x', { kind: 'present', value: RAW_KEY, header: 'authorization' }],
    ] as const) {
      const outcome = await authorizer({ publicRoutes: ['/open/thing', '/open/wild/*'] }).authorize(aRequest({ ...notJson, route, path: route, credential }));
      expect(outcome.refusedBy, route).to.equal('invalid_json_body');
      expect(denialOf(outcome)).to.deep.equal(INVALID_JSON_DENIAL);
      const identity = outcome.decision.identity as Record<string, unknown>;
      expect(Object.keys(identity).filter((name) => identity[name] !== undefined), 'no key, user, team or end user named').to.deep.equal([]);
    }
    expect(admitted, 'admission never reached').to.deep.equal([]);
  });

  it("lets LiteLLM's own public routes through, whose endpoints mostly read no body (/health/liveliness runs no auth)", async () => {
    for (const route of ['/health/liveliness', '/routes']) {
      const outcome = await authorizer({ publicRoutes: [route] }).authorize(aRequest({ ...notJson, route, path: route, credential: { kind: 'none' } }));
      expect(outcome.decision.kind, route).to.equal('allow');
    }
  });

  it('lets a valid body through on a route made public in general_settings.public_routes', async () => {
    const outcome = await authorizer({ publicRoutes: ['/open/thing'] }).authorize(aRequest({ route: '/open/thing', path: '/open/thing', credential: { kind: 'none' } }));
    expect(outcome.decision.kind).to.equal('allow');
  });

  describe('a JWT caller', () => {
    let signingKey: SigningKey;
    before(async () => {
      signingKey = await aSigningKey('ES256', 'unit');
    });

    function jwtAuthorizer(): Authorizer {
      const store = new MemoryStore();
      store.teams.set('t-ok', aTeam({ team_id: 't-ok' }));
      store.teams.set('t-over', aTeam({ team_id: 't-over', max_budget: 10, spend: 10.5 }));
      store.users.set('alice', aUser({ user_id: 'alice', user_role: 'internal_user' }));
      const settings = jwtSettings({ jwtauth: { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub' }, tollgate: { public_keys: [signingKey.jwk], envoy_metadata_namespace: 'jwt' }, env: { publicKeyUrl: null } });
      const jwt = new JwtAuthenticator({ settings, policy: aPolicy(), store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
      return new Authorizer({ store, policy: aPolicy(), masterKey: MASTER_KEY, jwt, now: () => NOW, admission });
    }

    async function withToken(claims: Record<string, unknown>, request: Partial<RequestFacts> = {}): Promise<RequestFacts> {
      return aRequest({ ...notJson, credential: { kind: 'present', value: await aToken(signingKey, claims), header: 'authorization' }, ...request });
    }

    it('is refused the 400 after its checks pass, and takes no rate limit or reservation', async () => {
      const outcome = await jwtAuthorizer().authorize(await withToken({ tid: 't-ok', sub: 'alice' }));
      expect(outcome.refusedBy).to.equal('invalid_json_body');
      expect(denialOf(outcome)).to.deep.equal(INVALID_JSON_DENIAL);
      expect(admitted, 'admission never reached').to.deep.equal([]);
    });

    it("keeps its team's refusal when the team is over budget", async () => {
      expect((await jwtAuthorizer().authorize(await withToken({ tid: 't-over', sub: 'alice' }))).refusedBy).to.equal('team_budget');
    });

    it('is refused the 400 as a proxy admin on an admin route, whom no check is run for', async () => {
      const outcome = await jwtAuthorizer().authorize(await withToken({ scope: 'litellm_proxy_admin', sub: 'root' }, { route: '/team/new', path: '/team/new' }));
      expect(outcome.refusedBy).to.equal('invalid_json_body');
      expect(outcome.decision.identity).to.include({ userId: 'root', userRole: 'proxy_admin' });
      expect(admitted).to.deep.equal([]);
    });
  });

  it('decides a cut body as before: allowed for a key allowed every model', async () => {
    const outcome = await authorizer().authorize(aRequest({ body: {}, bodyTruncated: true, bodyBytes: 1_048_576, model: 'gpt-4o' }));
    expect(outcome.decision.kind).to.equal('allow');
    expect(admitted).to.have.length(1);
  });
});
