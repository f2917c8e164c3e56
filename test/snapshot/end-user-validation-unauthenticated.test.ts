/**
 * validate_end_user_id_in_db must not let a stranger make the database work: an end user no
 * customer row names is looked for among the users (by id, then by email, a scan of
 * LiteLLM_UserTable) only for a caller whose credential was accepted. A key that does not exist,
 * a value that cannot be a key, a token that fails verification: the customer row is looked up
 * (as the snapshot does anyway), the users are not, and the decision is the one validating first
 * made. A caller with an accepted credential has its end user kept or dropped exactly as before.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { JwtAuthenticator } from '../../src/auth/jwt/authenticator';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { createRedisClient, RedisSharedCache, type RedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import type { Policy } from '../../src/config/policy';
import { settingsFrom, type Settings } from '../../src/config/settings';
import type { RequestFacts } from '../../src/domain/request';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { toCheckResponse } from '../../src/envoy/response';
import { cachePolicyFrom } from '../../src/server/runtime';
import { validatedEndUserId } from '../../src/snapshot/end-user-validation';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { queryCounterOf } from '../../src/store/query-counter';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { aVerifier, jwtSettings, MemoryDirectory } from '../auth/jwt/fixtures';
import { aBudget, aKey, anEndUser, aPolicy, aRequest, aTeam, aUser, NOW } from '../checks/fixtures';
import { anEnvoyCheck, chat, isAllowed, upstreamHeaders } from '../support/envoy-requests';
import { aSigningKey, aToken } from '../support/jwt';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { MemoryStore } from '../support/memory-store';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';

const MASTER = 'sk-master-unauthenticated-0123';
const VALID = 'sk-valid-unauthenticated-0123';
const BLOCKED = 'sk-blocked-unauthenticated-0123';
const UNKNOWN = 'sk-unknown-unauthenticated-0123';
const NOT_A_KEY = 'not-a-virtual-key-0123';

const VALIDATING: Policy = aPolicy({ validateEndUserIdInDb: true });

/** Customers (one over its budget), a user, a user with an email, a valid and a blocked key. */
function aStore(): MemoryStore {
  const store = new MemoryStore();
  store.endUsers.set('cust-1', anEndUser({ user_id: 'cust-1' }));
  store.endUsers.set('cust-over', anEndUser({ user_id: 'cust-over', spend: 2, budget: aBudget({ max_budget: 1 }) }));
  store.users.set('u-1', aUser({ user_id: 'u-1', user_email: 'Alice@Example.com' }));
  store.keys.set(hashKey(VALID), aKey({ token: hashKey(VALID) }));
  store.keys.set(hashKey(BLOCKED), aKey({ token: hashKey(BLOCKED), blocked: true }));
  return store;
}

function naming(endUserId: string, key: string): RequestFacts {
  return aRequest({ endUserId, credential: { kind: 'present', value: key, header: 'authorization' } });
}

function userLookups(store: MemoryStore, endUserId: string): string[] {
  return store.calls.filter((call) => call === `findUser:${endUserId}` || call.startsWith('findUserIdByEmail:'));
}

describe('validate_end_user_id_in_db for a caller whose credential is refused', () => {
  it('looks no user up for a key that does not exist, whatever the id; refused as before (401 token_not_found_in_db)', async () => {
    for (const endUserId of ['nobody', 'u-1', 'ALICE@example.com']) {
      const store = aStore();
      const outcome = await new Authorizer({ store, policy: VALIDATING, masterKey: MASTER }).authorize(naming(endUserId, UNKNOWN));
      expect(outcome.refusedBy, endUserId).to.equal('key_found');
      expect([...store.calls].sort(), endUserId).to.deep.equal([`findEndUser:${endUserId}`, `findKey:${hashKey(UNKNOWN)}`]);
    }
  });

  it('looks up only the customer row for a value that cannot be a key (no sk-)', async () => {
    const store = aStore();
    const outcome = await new Authorizer({ store, policy: VALIDATING, masterKey: MASTER }).authorize(naming('ALICE@example.com', NOT_A_KEY));
    expect(outcome.refusedBy).to.equal('virtual_key_format');
    expect(store.calls).to.deep.equal(['findEndUser:ALICE@example.com']);
  });

  it('still asks the users for a key that exists, blocked or not', async () => {
    for (const key of [VALID, BLOCKED]) {
      const store = aStore();
      await new Authorizer({ store, policy: VALIDATING, masterKey: MASTER }).authorize(naming('ALICE@example.com', key));
      expect(userLookups(store, 'ALICE@example.com'), key).to.deep.equal(['findUser:ALICE@example.com', 'findUserIdByEmail:ALICE@example.com']);
    }
  });

  /**
   * Today's rule, as a reference: the id validated first (validatedEndUserId), then the decision on
   * those facts with nothing more to validate.
   */
  async function validatedFirst(facts: RequestFacts): Promise<{ readonly outcome: Outcome; readonly endUserId: string | null }> {
    const endUserId = await validatedEndUserId(aStore(), facts.endUserId, VALIDATING);
    const outcome = await new Authorizer({ store: aStore(), policy: aPolicy(), masterKey: MASTER }).authorize({ ...facts, endUserId });
    return { outcome, endUserId };
  }

  it('decides every key and end user as validating first did: the same refusal, the same allow and end user', async () => {
    const allowed: string[] = [];
    for (const key of [VALID, BLOCKED, UNKNOWN, NOT_A_KEY]) {
      for (const endUserId of ['cust-1', 'cust-over', 'u-1', 'ALICE@example.com', 'nobody', 'U-1']) {
        const facts = naming(endUserId, key);
        const outcome = await new Authorizer({ store: aStore(), policy: VALIDATING, masterKey: MASTER }).authorize(facts);
        const expected = await validatedFirst(facts);
        const label = `${key} naming ${endUserId}`;
        expect(outcome.refusedBy, label).to.equal(expected.outcome.refusedBy);
        const { decision } = outcome;
        if (decision.kind === 'allow') allowed.push(`${endUserId}:${decision.identity.endUserId ?? (outcome.facts ?? facts).endUserId}`);
        const want = expected.outcome.decision;
        if (key === VALID || key === BLOCKED) {
          // Allowed, or refused past the key lookup: everything, the end user answered included.
          expect(decision, label).to.deep.equal(want);
          expect((outcome.facts ?? facts).endUserId, label).to.equal(expected.endUserId);
          continue;
        }
        // A key that does not exist is refused alike; its refusal names only an end user a customer
        // row confirms (a user's id or email is no longer looked up for it).
        expect(want.kind, label).to.equal('deny');
        expect(decision.kind === 'deny' && want.kind === 'deny' ? decision.denial : null, label).to.deep.equal(want.kind === 'deny' ? want.denial : null);
        expect({ ...decision.identity, endUserId: undefined }, label).to.deep.equal({ ...want.identity, endUserId: undefined });
        const customer = endUserId.startsWith('cust-') ? endUserId : null;
        expect((outcome.facts ?? facts).endUserId, label).to.equal(customer);
      }
    }
    // The valid key, over every id but the customer over its budget: kept or dropped.
    expect(allowed).to.deep.equal(['cust-1:cust-1', 'u-1:u-1', 'ALICE@example.com:ALICE@example.com', 'nobody:null', 'U-1:null']);
  });

  describe('a JWT caller', () => {
    const JWTAUTH = { team_id_jwt_field: 'tid', user_id_jwt_field: 'sub' };

    async function authorize(store: MemoryStore, facts: RequestFacts): Promise<Outcome> {
      const key = await signingKey;
      const settings = jwtSettings({ jwtauth: JWTAUTH, tollgate: { public_keys: [key.jwk] }, env: { publicKeyUrl: null } });
      const jwt = new JwtAuthenticator({ settings, policy: VALIDATING, store, directory: new MemoryDirectory(store), verifier: aVerifier(settings) });
      return new Authorizer({ store, policy: VALIDATING, masterKey: MASTER, jwt, now: () => NOW }).authorize(facts);
    }

    const signingKey = aSigningKey('ES256', 'unauthenticated');

    function jwtStore(): MemoryStore {
      const store = aStore();
      store.teams.set('t-gpt', aTeam({ team_id: 't-gpt', models: ['gpt-4o'] }));
      store.users.set('alice', aUser({ user_id: 'alice', user_role: 'internal_user' }));
      return store;
    }

    it('looks no user up for a token that fails verification; refused as before (jwt_verify)', async () => {
      const stranger = await aSigningKey('ES256', 'stranger');
      const store = jwtStore();
      const outcome = await authorize(store, naming('ALICE@example.com', await aToken(stranger, { tid: 't-gpt', sub: 'alice' })));
      expect(outcome.refusedBy).to.equal('jwt_verify');
      expect(userLookups(store, 'ALICE@example.com')).to.deep.equal([]);
      expect(store.calls).to.include('findEndUser:ALICE@example.com');
      expect(outcome.facts?.endUserId).to.equal(null);
    });

    it('keeps or drops the end user of a verified token as before', async () => {
      const token = await aToken(await signingKey, { tid: 't-gpt', sub: 'alice' });
      for (const [endUserId, kept] of [
        ['cust-1', true],
        ['u-1', true],
        ['ALICE@example.com', true],
        ['nobody', false],
      ] as const) {
        const store = jwtStore();
        const outcome = await authorize(store, naming(endUserId, token));
        expect(outcome.refusedBy, endUserId).to.equal(null);
        expect(outcome.facts, endUserId).to.deep.equal(kept ? undefined : { ...naming(endUserId, token), endUserId: null });
      }
    });
  });
});

describe('validate_end_user_id_in_db for a refused credential, on MariaDB + Redis', function () {
  this.timeout(30_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let dataSource: DataSource;
  let client: RedisClient;
  const rawKey = `sk-euv-unauth-${uniqueId('k')}`;
  // Each test its own users: an answer one test caches would spare the other its lookup.
  const ids = { user: uniqueId('user'), email: `${uniqueId('mail')}@Example.com` };
  const validKeyIds = { user: uniqueId('user'), email: `${uniqueId('mail')}@Example.com` };
  const settings: Settings = settingsFrom(parseLiteLlmConfig('litellm_settings:\n  validate_end_user_id_in_db: true\n', {}), {});

  before(async function () {
    database = await requireMysql(this);
    redis = await requireRedis(this);
    dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'] });
    await rows.aKey({ token: hashKey(rawKey), team_id: team.team_id });
    await rows.aUser({ user_id: ids.user });
    await rows.aUser({ user_email: ids.email });
    await rows.aUser({ user_id: validKeyIds.user });
    await rows.aUser({ user_email: validKeyIds.email });
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await dataSource?.destroy();
    await database?.drop();
    await redis?.cleanup();
  });

  function authorizer(): Authorizer {
    return authorizerOver(cachedStore());
  }

  function cachedStore(): CachedAuthStore {
    const policy = { ...cachePolicyFrom(settings), sharedPrefix: redis.prefix };
    return new CachedAuthStore(new TypeOrmAuthStore(dataSource, settings), policy, new RedisSharedCache(client, 1000));
  }

  function authorizerOver(store: CachedAuthStore): Authorizer {
    return new Authorizer({ store, policy: settings.policy, masterKey: MASTER });
  }

  /** What `run` returns, and the SQL sent while it ran (every statement the QueryCounter counts). */
  async function withStatements<T>(run: () => Promise<T>): Promise<{ readonly result: T; readonly statements: string[] }> {
    const counter = queryCounterOf(dataSource);
    const statements: string[] = [];
    const logQuery = counter.logQuery;
    const before = counter.count;
    counter.logQuery = (query, parameters, runner) => {
      statements.push(query);
      logQuery.call(counter, query, parameters, runner);
    };
    try {
      const result = await run();
      expect(counter.count - before).to.equal(statements.length);
      return { result, statements };
    } finally {
      counter.logQuery = logQuery;
    }
  }

  const ofUserTable = (statements: readonly string[]): string[] => statements.filter((sql) => sql.includes('LiteLLM_UserTable'));

  it('an unknown key naming ids no customer row knows costs the customer row and the key: no user lookup, no email scan, no rotated-out key', async () => {
    const store = cachedStore();
    // As a running server knows by then: no key is in a grace period (cache/live-rotations.ts).
    await store.rotations?.refresh();
    const auth = authorizerOver(store);
    const names = [uniqueId('nobody'), `${uniqueId('nobody')}@example.com`, ids.user, ids.email.toUpperCase()];
    const { statements } = await withStatements(async () => {
      for (const user of names) {
        const facts = parseCheckRequest(anEnvoyCheck({ key: `sk-${uniqueId('random')}`, body: chat('gpt-4o', { user }) }), settings);
        const outcome = await auth.authorize(facts);
        expect(outcome.refusedBy, user).to.equal('key_found');
      }
    });
    expect(ofUserTable(statements)).to.deep.equal([]);
    expect(statements).to.have.length(2 * names.length);
  });

  it('a valid key naming the same kinds of ids keeps a user\'s id and email and drops the rest, as before', async () => {
    const auth = authorizer();
    for (const [user, kept] of [
      [uniqueId('nobody'), false],
      [validKeyIds.user, true],
      [validKeyIds.email.toUpperCase(), true],
    ] as const) {
      const facts = parseCheckRequest(anEnvoyCheck({ key: rawKey, body: chat('gpt-4o', { user }) }), settings);
      const { result: outcome, statements } = await withStatements(() => auth.authorize(facts));
      const response = toCheckResponse(outcome.decision, outcome.facts ?? facts, settings);
      expect(isAllowed(response), user).to.equal(true);
      expect(upstreamHeaders(response)['x-tollgate-end-user-id'], user).to.equal(kept ? user : undefined);
      expect(ofUserTable(statements).length, user).to.be.greaterThan(0);
    }
  });
});
