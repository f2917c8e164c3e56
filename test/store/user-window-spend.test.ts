import { expect } from 'chai';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { TypeOrmJwtDirectory } from '../../src/store/jwt-directory';
import { dialectOf } from '../../src/store/dialect';
import {
  BUDGET_LIMITS_TABLES,
  SPEND_LOGS_USER_WINDOW_INDEXES,
  UserEndUserBudgetLimits1764115900000,
} from '../../src/store/migrations/1764115900000-user-end-user-budget-limits';
import type { WindowEntity } from '../../src/spend/window-limits';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

describeEachBackend('user and end-user multi-window budgets (budget_limits, window spend by user and end_user)', (backend) => {
  const now = new Date('2030-03-31T15:00:00.000Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings, () => now);
    rows = new LiteLlmRows(backend().dataSource);
  });

  it("reads a user's budget_limits column into its windows, malformed entries left out", async () => {
    const user = await rows.aUser({
      budget_limits: [
        { budget_duration: '1d', max_budget: 5, reset_at: null },
        { budget_duration: '', max_budget: 1 },
        { budget_duration: '30d', max_budget: 100, reset_at: '2030-04-01T00:00:00Z' },
      ],
    });
    expect((await store.findUser(user.user_id))?.budget_limits).to.deep.equal([
      { budget_duration: '1d', max_budget: 5, reset_at: null },
      { budget_duration: '30d', max_budget: 100, reset_at: new Date('2030-04-01T00:00:00Z') },
    ]);
    const bare = await rows.aUser();
    expect((await store.findUser(bare.user_id))?.budget_limits).to.deep.equal([]);
  });

  it("reads an end user's budget_limits column, also as a JSON string per entry", async () => {
    const endUser = await rows.anEndUser({ budget_limits: ['{"budget_duration": "1h", "max_budget": 2}'] });
    expect((await store.findEndUser(endUser.user_id))?.budget_limits).to.deep.equal([{ budget_duration: '1h', max_budget: 2, reset_at: null }]);
  });

  it("sums a user's logs (the `user` column, the key owner) since now - duration, whichever key wrote them", async () => {
    const userId = uniqueId('user');
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: userId, spend: 1.5, startTime: hoursAgo(1) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: userId, spend: 2, startTime: hoursAgo(23) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: userId, spend: 100, startTime: hoursAgo(25) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: uniqueId('user'), spend: 7, startTime: hoursAgo(1) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), end_user: userId, spend: 9, startTime: hoursAgo(1) });
    expect(await store.windowSpend('user', userId, { budget_duration: '1d', reset_at: null })).to.equal(3.5);
    expect(await store.windowSpend('user', userId, { budget_duration: '2d', reset_at: null })).to.equal(103.5);
  });

  it("sums an end user's logs (end_user), not the rows where the same id is a key owner", async () => {
    const endUserId = uniqueId('customer');
    await rows.aSpendLog({ api_key: uniqueId('tok'), end_user: endUserId, spend: 0.25, startTime: hoursAgo(0.5) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), end_user: endUserId, spend: 4, startTime: hoursAgo(2) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: endUserId, spend: 50, startTime: hoursAgo(0.5) });
    expect(await store.windowSpend('end_user', endUserId, { budget_duration: '1h', reset_at: null })).to.equal(0.25);
    expect(await store.windowSpend('end_user', endUserId, { budget_duration: '1d', reset_at: null })).to.equal(4.25);
  });

  it('continues a window incrementally for a user as for a key (refreshWindowSpend)', async () => {
    const userId = uniqueId('user');
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: userId, spend: 1, startTime: hoursAgo(3) });
    const first = await store.refreshWindowSpend('user', userId, { budget_duration: '1d', reset_at: null }, null);
    await rows.aSpendLog({ api_key: uniqueId('tok'), user: userId, spend: 2, startTime: hoursAgo(0.1) });
    const next = await store.refreshWindowSpend('user', userId, { budget_duration: '1d', reset_at: null }, first);
    expect(next === null ? null : next.settled + next.tail).to.equal(3);
  });

  for (const [entity, index, column] of [
    ['user', SPEND_LOGS_USER_WINDOW_INDEXES[0]?.name, 'user'],
    ['end_user', SPEND_LOGS_USER_WINDOW_INDEXES[1]?.name, 'end_user'],
  ] as const) {
    it(`reads a${entity === 'user' ? '' : 'n'} ${entity}'s window through the (${column}, startTime) index`, async () => {
      const ds = backend().dataSource;
      const seen: { query: string; parameters: unknown[] }[] = [];
      const logger = ds.logger;
      const original = logger.logQuery.bind(logger);
      logger.logQuery = (query, parameters, runner) => {
        seen.push({ query, parameters: parameters ?? [] });
        return original(query, parameters, runner);
      };
      try {
        await store.windowSpend(entity satisfies WindowEntity, uniqueId('id'), { budget_duration: '30d', reset_at: null });
      } finally {
        logger.logQuery = original;
      }
      const sum = seen.find((q) => q.query.includes('LiteLLM_SpendLogs'));
      expect(sum, seen.map((q) => q.query).join('\n')).to.not.equal(undefined);
      const { query, parameters } = sum as { query: string; parameters: unknown[] };
      if (dialectOf(ds) === 'mysql') {
        // The index chosen (not merely a candidate), and read alone: it holds spend (windowIndexFor).
        const plan = (await ds.query(`EXPLAIN ${query}`, parameters)) as { key: string | null; Extra: string | null }[];
        expect(plan.map((p) => p.key), JSON.stringify(plan)).to.deep.equal([index]);
        // "Using index" itself: "Using index condition" reads the rows too.
        expect((plan[0]?.Extra ?? '').split(';').map((part) => part.trim()), JSON.stringify(plan)).to.include('Using index');
      } else {
        const plan = (await ds.query(`EXPLAIN QUERY PLAN ${query}`, parameters)) as { detail: string }[];
        const details = plan.map((p) => p.detail);
        expect(details.some((d) => d.startsWith('SCAN')), details.join('\n')).to.equal(false);
        expect(details.filter((d) => d.startsWith('SEARCH')).every((d) => d.includes(`USING INDEX ${index as string} (${column}=?`)), details.join('\n')).to.equal(true);
      }
    });
  }

  it('reads users and end users without windows from a database the migration has not reached, and with them once it has', async () => {
    const ds = backend().dataSource;
    const user = await rows.aUser({ max_budget: 3 });
    const endUser = await rows.anEndUser();
    const migration = new UserEndUserBudgetLimits1764115900000();
    let at = now.getTime();
    const unmigrated = new TypeOrmAuthStore(ds, backend().settings, () => new Date(at));
    const runner = ds.createQueryRunner();
    try {
      await migration.down(runner);
      expect((await unmigrated.findUser(user.user_id))?.max_budget).to.equal(3);
      expect((await unmigrated.findUser(user.user_id))?.budget_limits).to.deep.equal([]);
      expect((await unmigrated.batch.findUsers([user.user_id])).get(user.user_id)?.budget_limits).to.deep.equal([]);
      expect((await unmigrated.findEndUser(endUser.user_id))?.user_id).to.equal(endUser.user_id);
      // The JWT path: a user upserted (user_id_upsert) and one found by email.
      const jwtUsers = new TypeOrmJwtDirectory(ds, backend().settings);
      const jwtUserId = uniqueId('jwt-user');
      expect((await jwtUsers.upsertUser({ userId: jwtUserId, email: `${jwtUserId}@example.com`, role: null, maxBudget: null, models: [] }))?.user_id).to.equal(jwtUserId);
      expect((await jwtUsers.findUserBySsoIdOrEmail(null, `${jwtUserId}@example.com`))?.budget_limits).to.deep.equal([]);
    } finally {
      await migration.up(runner);
      await runner.release();
    }
    const windows = [{ budget_duration: '1d', max_budget: 5 }];
    const withWindows = await rows.aUser({ budget_limits: windows });
    const endUserWithWindows = await rows.anEndUser({ budget_limits: windows });
    // A column added while the store runs is read within a refresh interval.
    at += 60_000;
    expect((await unmigrated.findUser(withWindows.user_id))?.budget_limits).to.deep.equal([{ ...windows[0], reset_at: null }]);
    expect((await unmigrated.findEndUser(endUserWithWindows.user_id))?.budget_limits).to.deep.equal([{ ...windows[0], reset_at: null }]);
  });

  it('the migration is idempotent and its down drops the columns and indexes it added', async () => {
    const ds = backend().dataSource;
    const runner = ds.createQueryRunner();
    const migration = new UserEndUserBudgetLimits1764115900000();
    const columns = async (table: string): Promise<string[]> =>
      dialectOf(ds) === 'mysql'
        ? ((await ds.query('SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?', [table])) as { name: string }[]).map((r) => r.name)
        : ((await ds.query('SELECT name FROM pragma_table_info(?)', [table])) as { name: string }[]).map((r) => r.name);
    try {
      await migration.up(runner);
      for (const table of BUDGET_LIMITS_TABLES) expect(await columns(table), table).to.include('budget_limits');
      await migration.down(runner);
      for (const table of BUDGET_LIMITS_TABLES) expect(await columns(table), table).to.not.include('budget_limits');
      await migration.up(runner);
      for (const table of BUDGET_LIMITS_TABLES) expect(await columns(table), table).to.include('budget_limits');
    } finally {
      await runner.release();
    }
  });
});
