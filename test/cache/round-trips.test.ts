/**
 * What the cache promises the request path, counted on the real stack (MariaDB + Redis, the
 * drivers' own diagnostics channels and the TypeORM statement counter — never timed):
 * concurrent misses of one key cost one database query, and a warm key costs no database query
 * and no Redis command at all.
 */
import { expect } from 'chai';
import { Authorizer } from '../../src/authorize/authorize';
import { hashKey } from '../../src/auth/key-hash';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { createRedisClient, RedisSharedCache, type StandaloneRedisClient } from '../../src/cache/redis-shared-cache';
import { settingsFrom } from '../../src/config/settings';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { cachePolicyFrom } from '../../src/server/runtime';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { queryCounterOf } from '../../src/store/query-counter';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import type { DataSource } from 'typeorm';
import { anEnvoyCheck, chat } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';
import { probeRoundTrips } from '../support/round-trip-probe';

describe('cache round trips on MariaDB + Redis', function () {
  this.timeout(30_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let dataSource: DataSource;
  let client: StandaloneRedisClient;
  const rawKey = `sk-round-trips-${uniqueId('k')}`;
  const settings = settingsFrom({}, {});

  before(async function () {
    database = await requireMysql(this);
    redis = await requireRedis(this);
    dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const org = await rows.anOrganization();
    const team = await rows.aTeam({ models: ['gpt-4o'], organization_id: org.organization_id, max_budget: 10 });
    const user = await rows.aUser({ max_budget: 5 });
    await rows.aTeamMembership({ user_id: user.user_id, team_id: team.team_id });
    await rows.aKey({ token: hashKey(rawKey), team_id: team.team_id, user_id: user.user_id });
    client = createRedisClient({ url: redis.url, commandTimeoutMs: 1000, onError: () => undefined });
    await client.connect();
  });

  after(async () => {
    if (client?.isOpen) client.destroy();
    await dataSource?.destroy();
    await database?.drop();
    await redis?.cleanup();
  });

  /** Polls a condition about fire-and-forget work; a generous limit, so slowness never fails a test. */
  async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 200 && !(await condition()); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function sharedEntries(): Promise<number> {
    let count = 0;
    for await (const keys of client.scanIterator({ MATCH: `${redis.prefix}*`, COUNT: 100 })) count += keys.length;
    return count;
  }

  function cachedStore(): CachedAuthStore {
    const policy = { ...cachePolicyFrom(settings), sharedPrefix: redis.prefix };
    return new CachedAuthStore(new TypeOrmAuthStore(dataSource, settings), policy, new RedisSharedCache(client, 1000));
  }

  it('answers 25 concurrent misses of one key with one database query', async () => {
    const store = cachedStore();
    const statements = queryCounterOf(dataSource);
    const statementsBefore = statements.count;
    const probe = probeRoundTrips({ database: database.name, redisPrefix: redis.prefix });
    try {
      const keys = await Promise.all(Array.from({ length: 25 }, () => store.findKey(hashKey(rawKey))));
      // The shared-tier write is sent after the answer: wait for it (or give up after a while).
      await until(() => probe.redis >= 2);
      expect(keys.every((key) => key !== null && key === keys[0])).to.equal(true);
      expect(statements.count - statementsBefore).to.equal(1);
      expect(probe.mysql).to.equal(1);
      // One shared-tier read before the database, one write after it: not one per caller.
      expect(probe.redis).to.equal(2);
    } finally {
      probe.close();
    }
  });

  it('decides a warm key 50 times without a database query or a Redis command', async () => {
    // With no master key LiteLLM (and Tollgate) allow everything unchecked: set one so the key is looked up.
    const authorizer = new Authorizer({ store: cachedStore(), policy: settings.policy, masterKey: 'sk-master-round-trips' });
    const facts = parseCheckRequest(anEnvoyCheck({ key: rawKey, body: chat('gpt-4o') }), settings);
    const first = await authorizer.authorize(facts); // loads key, team, user, membership, organization
    expect(first.decision.kind).to.equal('allow');
    expect(first.decision.identity.teamId).to.be.a('string');

    // Let the warm-up's shared-tier writes (key, team, user, membership, organization) land first.
    await until(async () => (await sharedEntries()) >= 5);

    const statements = queryCounterOf(dataSource);
    const statementsBefore = statements.count;
    const probe = probeRoundTrips({ database: database.name, redisPrefix: redis.prefix });
    try {
      for (let i = 0; i < 50; i += 1) {
        const outcome = await authorizer.authorize(facts);
        expect(outcome.decision.kind).to.equal('allow');
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(statements.count - statementsBefore).to.equal(0);
      expect({ mysql: probe.mysql, redis: probe.redis }).to.deep.equal({ mysql: 0, redis: 0 });
    } finally {
      probe.close();
    }
  });

  it('revalidates many stale keys with one statement per entity kind, not one per key', async () => {
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'] });
    const rawKeys: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const user = await rows.aUser();
      await rows.aTeamMembership({ user_id: user.user_id, team_id: team.team_id });
      const raw = `sk-revalidate-${uniqueId('k')}`;
      await rows.aKey({ token: hashKey(raw), team_id: team.team_id, user_id: user.user_id });
      rawKeys.push(raw);
    }
    let now = Date.now();
    // A gathering window far longer than the 20 decisions take, so the count cannot depend on speed.
    const policy = { ...cachePolicyFrom(settings), sharedPrefix: redis.prefix, refreshGatherMs: 1_000 };
    const store = new CachedAuthStore(new TypeOrmAuthStore(dataSource, settings), policy, new RedisSharedCache(client, 1000), undefined, () => now);
    const authorizer = new Authorizer({ store, policy: settings.policy, masterKey: 'sk-master-round-trips' });
    const requests = rawKeys.map((raw) => parseCheckRequest(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }), settings));
    for (const facts of requests) expect((await authorizer.authorize(facts)).decision.kind).to.equal('allow');

    now += policy.refreshAfterMs + 1; // every entry is now stale: each use starts a background revalidation
    const statements = queryCounterOf(dataSource);
    const before = statements.count;
    for (const facts of requests) expect((await authorizer.authorize(facts)).decision.kind).to.equal('allow');
    // Key, user, membership and team: each kind gathered into one statement (20 keys, 20 users,
    // 20 memberships, 1 team), where one statement per entry would be 61.
    await until(() => statements.count - before >= 4);
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // a second gathering would show up by now
    expect(statements.count - before).to.equal(4);
    now += 1;
    // The revalidated entries are fresh again: the next uses cost nothing.
    const after = statements.count;
    for (const facts of requests) expect((await authorizer.authorize(facts)).decision.kind).to.equal('allow');
    expect(statements.count - after).to.equal(0);
  });
});
