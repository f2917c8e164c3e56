/**
 * validate_end_user_id_in_db on the real stack (MariaDB + Redis): which ids are kept, what a
 * dropped one leaves downstream (checks, identity headers, dynamic metadata, spend attribution),
 * and that a warm Check still costs no database query and no Redis command.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { Authorizer, type Outcome } from '../../src/authorize/authorize';
import { hashKey } from '../../src/auth/key-hash';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { createRedisClient, RedisSharedCache, type RedisClient } from '../../src/cache/redis-shared-cache';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom, type Settings } from '../../src/config/settings';
import type { RequestFacts } from '../../src/domain/request';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { toCheckResponse } from '../../src/envoy/response';
import { attributionFromDecision } from '../../src/metering/admitted-identity';
import { cachePolicyFrom } from '../../src/server/runtime';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { queryCounterOf } from '../../src/store/query-counter';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { anEnvoyCheck, chat, isAllowed, metadataOf, upstreamHeaders } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';
import { probeRoundTrips } from '../support/round-trip-probe';

const MASTER_KEY = 'sk-master-end-user-validation';

describe('validate_end_user_id_in_db on MariaDB + Redis', function () {
  this.timeout(30_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let dataSource: DataSource;
  let client: RedisClient;
  const rawKey = `sk-euv-${uniqueId('k')}`;
  const ids = { overBudget: uniqueId('cust-over'), user: uniqueId('user'), email: `${uniqueId('mail')}@Example.com`, budget: '' };

  before(async function () {
    database = await requireMysql(this);
    redis = await requireRedis(this);
    dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'] });
    await rows.aKey({ token: hashKey(rawKey), team_id: team.team_id });
    const overBudget = await rows.aBudget({ max_budget: 1 });
    await rows.anEndUser({ user_id: ids.overBudget, budget_id: overBudget.budget_id, spend: 2 });
    await rows.aUser({ user_id: ids.user });
    await rows.aUser({ user_email: ids.email });
    ids.budget = (await rows.aBudget({ max_budget: 100 })).budget_id;
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await dataSource?.destroy();
    await database?.drop();
    await redis?.cleanup();
  });

  function settingsWith(litellmSettings: string): Settings {
    return settingsFrom(parseLiteLlmConfig(`litellm_settings:\n${litellmSettings}`, {}), {});
  }
  const ON = (): Settings => settingsWith('  validate_end_user_id_in_db: true\n');
  const OFF = (): Settings => settingsWith('  validate_end_user_id_in_db: false\n');

  interface Checked {
    readonly outcome: Outcome;
    readonly allowed: boolean;
    readonly header: string | undefined;
    readonly metadataEndUser: unknown;
    readonly attributed: string | null;
    readonly facts: RequestFacts;
  }

  function authorizerFor(settings: Settings): Authorizer {
    const policy = { ...cachePolicyFrom(settings), sharedPrefix: redis.prefix };
    const store = new CachedAuthStore(new TypeOrmAuthStore(dataSource, settings), policy, new RedisSharedCache(client, 1000));
    return new Authorizer({ store, policy: settings.policy, masterKey: MASTER_KEY });
  }

  /** As the server answers: headers, metadata and spend read the facts the decision was made on. */
  async function check(authorizer: Authorizer, settings: Settings, body: Record<string, unknown>, key = rawKey): Promise<Checked> {
    const facts = parseCheckRequest(anEnvoyCheck({ key, body }), settings);
    const outcome = await authorizer.authorize(facts);
    const decided = outcome.facts ?? facts;
    const response = toCheckResponse(outcome.decision, decided, settings);
    return {
      outcome,
      allowed: isAllowed(response),
      header: upstreamHeaders(response)['x-tollgate-end-user-id'],
      metadataEndUser: isAllowed(response) ? metadataOf(response).end_user_id : undefined,
      attributed: attributionFromDecision(outcome.decision, decided).endUserId,
      facts: decided,
    };
  }

  it("keeps a customer id: its budget applies as before", async () => {
    const settings = ON();
    const checked = await check(authorizerFor(settings), settings, chat('gpt-4o', { user: ids.overBudget }));
    expect(checked.outcome.refusedBy).to.equal('end_user_budget_before_key_lookup');
    expect(checked.outcome.facts).to.equal(undefined);
  });

  it("keeps a user's id and a user's email (up to case), as the request wrote them", async () => {
    const settings = ON();
    const authorizer = authorizerFor(settings);
    const byId = await check(authorizer, settings, chat('gpt-4o', { user: ids.user }));
    expect([byId.allowed, byId.header, byId.metadataEndUser, byId.attributed]).to.deep.equal([true, ids.user, ids.user, ids.user]);
    const written = ids.email.toUpperCase();
    const byEmail = await check(authorizer, settings, chat('gpt-4o', { user: written }));
    expect([byEmail.allowed, byEmail.header, byEmail.attributed]).to.deep.equal([true, written, written]);
  });

  it('drops an unknown id: no end-user budget, header, metadata or spend attribution', async () => {
    const settings = ON();
    const authorizer = authorizerFor(settings);
    for (const unknown of [uniqueId('nobody'), ids.overBudget.toUpperCase(), ids.user.toUpperCase()]) {
      const checked = await check(authorizer, settings, chat('gpt-4o', { user: unknown }));
      expect(checked.allowed, unknown).to.equal(true);
      expect([checked.header, checked.metadataEndUser, checked.attributed, checked.facts.endUserId]).to.deep.equal([undefined, undefined, null, null]);
    }
  });

  it('drops it for the master key too (whose end-user budget check comes first)', async () => {
    const settings = ON();
    const checked = await check(authorizerFor(settings), settings, chat('gpt-4o', { user: uniqueId('nobody') }), MASTER_KEY);
    expect([checked.allowed, checked.header, checked.attributed]).to.deep.equal([true, undefined, null]);
  });

  it('keeps an unknown id when max_end_user_budget_id is set, so the default budget can apply', async () => {
    const settings = settingsWith(`  validate_end_user_id_in_db: true\n  max_end_user_budget_id: ${ids.budget}\n`);
    const unknown = uniqueId('new-customer');
    const checked = await check(authorizerFor(settings), settings, chat('gpt-4o', { user: unknown }));
    expect([checked.allowed, checked.header, checked.attributed]).to.deep.equal([true, unknown, unknown]);
  });

  it('changes nothing with the setting off: the unknown id and a JSON blob are kept', async () => {
    const settings = OFF();
    const authorizer = authorizerFor(settings);
    const unknown = uniqueId('nobody');
    const checked = await check(authorizer, settings, chat('gpt-4o', { user: unknown }));
    expect([checked.allowed, checked.header, checked.attributed, checked.outcome.facts]).to.deep.equal([true, unknown, unknown, undefined]);
    const blob = '{"device_id":"d1","session_id":"s1"}';
    expect((await check(authorizer, settings, chat('gpt-4o', { user: blob }))).header).to.equal(blob);
    expect((await check(authorizer, settings, chat('gpt-4o', { user: ids.overBudget }))).outcome.refusedBy).to.equal('end_user_budget_before_key_lookup');
  });

  it('decides warm Checks with the setting on without a database query or a Redis command', async () => {
    const settings = ON();
    const authorizer = authorizerFor(settings);
    const bodies = [uniqueId('nobody'), ids.user, ids.email, ids.overBudget].map((user) => chat('gpt-4o', { user }));
    for (const body of bodies) await check(authorizer, settings, body);
    // The warm-up's shared-tier writes are sent after the answers: let them land.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const statements = queryCounterOf(dataSource);
    const before = statements.count;
    const probe = probeRoundTrips({ database: database.name, redisPrefix: redis.prefix });
    try {
      for (let i = 0; i < 10; i += 1) for (const body of bodies) await check(authorizer, settings, body);
      await new Promise((resolve) => setImmediate(resolve));
      expect(statements.count - before).to.equal(0);
      expect({ mysql: probe.mysql, redis: probe.redis }).to.deep.equal({ mysql: 0, redis: 0 });
    } finally {
      probe.close();
    }
  });
});
