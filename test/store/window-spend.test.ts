import { expect } from 'chai';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { dialectOf } from '../../src/store/dialect';
import { SPEND_LOGS_WINDOW_INDEXES } from '../../src/store/migrations/1764115700000-spend-logs-window-indexes';
import type { BudgetWindowLimit } from '../../src/domain/entities';
import { parseBudgetLimits } from '../../src/spend/window-limits';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

describeEachBackend('windowSpend (multi-window budgets, SpendCounterReseed.window_from_spend_logs)', (backend) => {
  const now = new Date('2030-03-31T15:00:00.000Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings, () => now);
    rows = new LiteLlmRows(backend().dataSource);
  });

  it("sums a key's logs (api_key) since now - duration: a rolling window; other keys and older logs not counted", async () => {
    const token = uniqueId('tok');
    await rows.aSpendLog({ api_key: token, spend: 1.25, startTime: hoursAgo(1) });
    await rows.aSpendLog({ api_key: token, spend: 2, startTime: hoursAgo(23) });
    await rows.aSpendLog({ api_key: token, spend: 100, startTime: hoursAgo(25) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), spend: 7, startTime: hoursAgo(1) });
    expect(await store.windowSpend('key', token, { budget_duration: '24h', reset_at: null })).to.equal(3.25);
    expect(await store.windowSpend('key', token, { budget_duration: '2d', reset_at: null })).to.equal(103.25);
  });

  it("sums a team's logs (team_id), whichever key wrote them", async () => {
    const teamId = uniqueId('team');
    await rows.aSpendLog({ api_key: uniqueId('tok'), team_id: teamId, spend: 1, startTime: hoursAgo(2) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), team_id: teamId, spend: 2, startTime: hoursAgo(3) });
    await rows.aSpendLog({ api_key: uniqueId('tok'), team_id: uniqueId('team'), spend: 50, startTime: hoursAgo(2) });
    expect(await store.windowSpend('team', teamId, { budget_duration: '1d', reset_at: null })).to.equal(3);
  });

  it('starts a window with reset_at at reset_at - duration (the first instant in, the last one out)', async () => {
    const token = uniqueId('tok');
    const resetAt = new Date('2030-04-01T00:00:00.000Z');
    await rows.aSpendLog({ api_key: token, spend: 1, startTime: new Date('2030-03-31T00:00:00.000Z') });
    await rows.aSpendLog({ api_key: token, spend: 10, startTime: new Date('2030-03-30T23:59:59.999Z') });
    expect(await store.windowSpend('key', token, { budget_duration: '1d', reset_at: resetAt })).to.equal(1);
  });

  it('sums every row for a window longer than any date can reach, where the start would be no date at all', async () => {
    const token = uniqueId('tok');
    await rows.aSpendLog({ api_key: token, spend: 1.25, startTime: hoursAgo(1) });
    await rows.aSpendLog({ api_key: token, spend: 2, startTime: new Date('1999-01-01T00:00:00.000Z') });
    for (const budget_duration of ['1000000000d', '99999999999mo']) {
      expect(await store.windowSpend('key', token, { budget_duration, reset_at: null }), budget_duration).to.equal(3.25);
    }
  });

  it('counts no row for a window that starts after 9999-12-31 in UTC (a reset_at that late, with a negative offset)', async () => {
    const token = uniqueId('tok');
    await rows.aSpendLog({ api_key: token, spend: 1.25, startTime: hoursAgo(1) });
    const [window] = parseBudgetLimits([{ budget_duration: '1h', max_budget: 1, reset_at: '9999-12-31T23:59:59-14:00' }]);
    expect(await store.windowSpend('key', token, window as BudgetWindowLimit)).to.equal(0);
  });

  it('is 0 without logs, and binds the id as a parameter', async () => {
    expect(await store.windowSpend('key', uniqueId('tok'), { budget_duration: '1d', reset_at: null })).to.equal(0);
    expect(await store.windowSpend('team', `' OR '1'='1`, { budget_duration: '30d', reset_at: null })).to.equal(0);
  });

  for (const [entity, index] of [
    ['key', SPEND_LOGS_WINDOW_INDEXES[0]?.name],
    ['team', SPEND_LOGS_WINDOW_INDEXES[1]?.name],
  ] as const) {
    it(`reads a ${entity}'s window through the (${entity === 'key' ? 'api_key' : 'team_id'}, startTime) index`, async () => {
      const ds = backend().dataSource;
      const seen: { query: string; parameters: unknown[] }[] = [];
      const logger = ds.logger;
      const original = logger.logQuery.bind(logger);
      logger.logQuery = (query, parameters, runner) => {
        seen.push({ query, parameters: parameters ?? [] });
        return original(query, parameters, runner);
      };
      try {
        await store.windowSpend(entity, uniqueId('id'), { budget_duration: '30d', reset_at: null });
      } finally {
        logger.logQuery = original;
      }
      const sum = seen.find((q) => q.query.includes('LiteLLM_SpendLogs'));
      expect(sum, seen.map((q) => q.query).join('\n')).to.not.equal(undefined);
      const { query, parameters } = sum as { query: string; parameters: unknown[] };
      const plan = (await ds.query(dialectOf(ds) === 'mysql' ? `EXPLAIN ${query}` : `EXPLAIN QUERY PLAN ${query}`, parameters)) as Record<string, unknown>[];
      const text = JSON.stringify(plan);
      expect(text, text).to.include(index as string);
    });
  }
});
