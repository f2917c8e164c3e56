import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import type { BudgetWindowLimit, WindowSpend } from '../../src/domain/entities';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { dialectOf } from '../../src/store/dialect';
import { toSqlUtc } from '../../src/store/spend-window';
import { budgetWindowStart, type WindowEntity } from '../../src/spend/window-limits';
import { FULL_SUM_EVERY_MS, SETTLE_LAG_MS, windowSpendTotal } from '../../src/spend/window-spend';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

type Window = Pick<BudgetWindowLimit, 'budget_duration' | 'reset_at'>;

const T0 = Date.parse('2030-03-31T15:00:00.000Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

interface Log {
  readonly api_key: string;
  readonly team_id?: string | null;
  readonly spend: number;
  readonly startTime: number;
}

/** SpendLogs request ids for this run: random ones (uniqueId's 40 bits) collide among 200 000 rows in about one run in fifty. */
const RUN = uniqueId('req');
let logsInserted = 0;

/** Many SpendLogs rows in few statements, straight into the table. */
async function insertLogs(ds: DataSource, logs: readonly Log[]): Promise<void> {
  const q = (name: string) => (dialectOf(ds) === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const columns = ['request_id', 'call_type', 'api_key', 'team_id', 'spend', 'startTime', 'endTime'].map(q).join(', ');
  for (let i = 0; i < logs.length; i += 2000) {
    const chunk = logs.slice(i, i + 2000);
    const values: unknown[] = [];
    for (const log of chunk) {
      const at = toSqlUtc(new Date(log.startTime));
      values.push(`${RUN}-${(logsInserted += 1)}`, 'acompletion', log.api_key, log.team_id ?? null, log.spend, at, at);
    }
    await ds.query(`INSERT INTO ${q('LiteLLM_SpendLogs')} (${columns}) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`, values);
  }
}

/** The reference: the whole window summed by a statement of its own. */
async function fullSum(ds: DataSource, entity: WindowEntity, id: string, window: Window, now: number): Promise<number> {
  const q = (name: string) => (dialectOf(ds) === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const start = budgetWindowStart(window, now) as Date;
  const rows = (await ds.query(
    `SELECT SUM(${q('spend')}) AS total FROM ${q('LiteLLM_SpendLogs')} WHERE ${q(entity === 'key' ? 'api_key' : 'team_id')} = ? AND ${q('startTime')} >= ?`,
    [id, toSqlUtc(start)],
  )) as { total: number | string | null }[];
  return Number(rows[0]?.total ?? 0);
}

/** The SpendLogs statements `work` sends, with their parameters. */
async function statementsOf(ds: DataSource, work: () => Promise<unknown>): Promise<{ query: string; parameters: unknown[] }[]> {
  const seen: { query: string; parameters: unknown[] }[] = [];
  const logger = ds.logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    if (query.includes('LiteLLM_SpendLogs')) seen.push({ query, parameters: parameters ?? [] });
    return original(query, parameters, runner);
  };
  try {
    await work();
  } finally {
    logger.logQuery = original;
  }
  return seen;
}

/** mulberry32: the same rows and steps on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectClose(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).to.be.at.most(1e-9 * Math.max(1, Math.abs(expected)));
}

describeEachBackend('window spend kept incrementally (refreshWindowSpend)', (backend) => {
  let now = T0;
  let store: TypeOrmAuthStore;
  let ds: DataSource;

  before(() => {
    ds = backend().dataSource;
    store = new TypeOrmAuthStore(ds, backend().settings, () => new Date(now));
  });

  beforeEach(() => {
    now = T0;
  });

  it('equals a full SUM at every refresh, as rows arrive (late ones within the lag too), age out of rolling windows, or lie beyond every window', async () => {
    const next = random(0x5eed);
    const spend = () => Math.round(next() * 5e6) / 1e6;
    const key = uniqueId('tok');
    const team = uniqueId('team');
    const windows: [WindowEntity, string, Window][] = [
      ['key', key, { budget_duration: '2h', reset_at: null }],
      ['key', key, { budget_duration: '1d', reset_at: new Date(T0 + 12 * HOUR) }],
      ['team', team, { budget_duration: '3h', reset_at: null }],
    ];
    const seed: Log[] = [];
    for (let i = 0; i < 400; i += 1) {
      const startTime = T0 - Math.floor(next() * 30 * HOUR);
      seed.push({ api_key: next() < 0.8 ? key : uniqueId('tok'), team_id: next() < 0.6 ? team : null, spend: spend(), startTime });
    }
    await insertLogs(ds, seed);

    const states = new Map<number, WindowSpend | null>();
    let steps = 0;
    let fullSums = 0;
    let agedOut = 0;
    for (let step = 0; step < 80; step += 1) {
      now += Math.floor(next() * 4 * MINUTE);
      const arriving: Log[] = [];
      for (let n = Math.floor(next() * 6); n > 0; n -= 1) {
        const kind = next();
        // Mostly just now; some late by up to the settle lag; a few from the clock of a host ahead;
        // some before any window's start (written late, and counted by no window).
        const startTime =
          kind < 0.5 ? now : kind < 0.8 ? now - Math.floor(next() * (SETTLE_LAG_MS - SECOND)) : kind < 0.85 ? now + 3 * SECOND : now - 40 * HOUR;
        arriving.push({ api_key: next() < 0.9 ? key : uniqueId('tok'), team_id: next() < 0.7 ? team : null, spend: spend(), startTime });
      }
      await insertLogs(ds, arriving);
      for (const [i, [entity, id, window]] of windows.entries()) {
        const previous = states.get(i) ?? null;
        const state = await store.refreshWindowSpend(entity, id, window, previous);
        states.set(i, state);
        expectClose(windowSpendTotal(state), await fullSum(ds, entity, id, window, now), `step ${step}, ${entity} ${window.budget_duration}`);
        steps += 1;
        if (state?.fullAt === now) fullSums += 1;
        else if (previous !== null && state !== null && state.settledRows < previous.settledRows) agedOut += 1;
      }
    }
    // The first refresh of each window, and one each FULL_SUM_EVERY_MS of simulated time.
    const hours = Math.ceil((now - T0) / FULL_SUM_EVERY_MS);
    expect(fullSums, `${fullSums} full sums of ${steps} refreshes`).to.be.at.most(windows.length * (hours + 1));
    expect(steps - fullSums).to.be.at.least(steps * 0.8);
    expect(agedOut, 'continued refreshes that rows aged out of').to.be.at.least(10);
  });

  it('sends one statement per refresh, full or continued', async () => {
    const key = uniqueId('tok');
    const window: Window = { budget_duration: '30d', reset_at: null };
    await insertLogs(ds, [{ api_key: key, spend: 1, startTime: T0 - HOUR }]);
    let state = null as WindowSpend | null;
    expect(await statementsOf(ds, async () => (state = await store.refreshWindowSpend('key', key, window, null)))).to.have.length(1);
    now += 5 * SECOND;
    expect(await statementsOf(ds, async () => (state = await store.refreshWindowSpend('key', key, window, state)))).to.have.length(1);
    expect(state).to.include({ settled: 1, settledRows: 1, tail: 0, fullAt: T0 });
  });

  it('sums in full when the start moved: backwards, or past the settled end (a reset_at LiteLLM moved on)', async () => {
    const key = uniqueId('tok');
    await insertLogs(ds, [
      { api_key: key, spend: 1, startTime: T0 - 30 * HOUR },
      { api_key: key, spend: 2, startTime: T0 - 3 * HOUR },
      { api_key: key, spend: 4, startTime: T0 - MINUTE },
    ]);
    const daily = await store.refreshWindowSpend('key', key, { budget_duration: '1d', reset_at: null }, null);
    now += 5 * SECOND;
    const longer = { budget_duration: '2d', reset_at: null };
    const backwards = await store.refreshWindowSpend('key', key, longer, daily);
    expect(backwards).to.include({ fullAt: now, settled: 3, tail: 4 });
    const moved = { budget_duration: '1h', reset_at: new Date(now + 30 * MINUTE) };
    const forwards = await store.refreshWindowSpend('key', key, moved, daily);
    expect(forwards?.fullAt).to.equal(now);
    expect(windowSpendTotal(forwards)).to.equal(4);
  });

  it('sums again when a step comes out inconsistent: rows deleted under the settled part, then aged out', async () => {
    const key = uniqueId('tok');
    const window: Window = { budget_duration: '1h', reset_at: null };
    await insertLogs(ds, [
      { api_key: key, spend: 5, startTime: T0 - 59 * MINUTE },
      { api_key: key, spend: 1, startTime: T0 - 30 * MINUTE },
    ]);
    const first = await store.refreshWindowSpend('key', key, window, null);
    expect(first).to.include({ settled: 6, settledRows: 2 });
    const q = (name: string) => (dialectOf(ds) === 'mysql' ? `\`${name}\`` : `"${name}"`);
    await ds.query(`DELETE FROM ${q('LiteLLM_SpendLogs')} WHERE ${q('api_key')} = ?`, [key]);
    await insertLogs(ds, [{ api_key: key, spend: 5, startTime: T0 - 59 * MINUTE }]);
    await ds.query(`UPDATE ${q('LiteLLM_SpendLogs')} SET ${q('spend')} = 9 WHERE ${q('api_key')} = ?`, [key]);
    now += 2 * MINUTE;
    let second = null as WindowSpend | null;
    const statements = await statementsOf(ds, async () => (second = await store.refreshWindowSpend('key', key, window, first)));
    expect(statements).to.have.length(2);
    expect(second).to.include({ fullAt: now, settled: 0, settledRows: 0 });
    expect(windowSpendTotal(second)).to.equal(await fullSum(ds, 'key', key, window, now));
  });

  it('misses a row written more than the settle lag late until the next full sum, at most FULL_SUM_EVERY_MS on', async () => {
    const key = uniqueId('tok');
    const window: Window = { budget_duration: '1d', reset_at: null };
    let state = await store.refreshWindowSpend('key', key, window, null);
    await insertLogs(ds, [{ api_key: key, spend: 3, startTime: now - SETTLE_LAG_MS - MINUTE }]);
    now += 5 * SECOND;
    state = await store.refreshWindowSpend('key', key, window, state);
    expect(windowSpendTotal(state)).to.equal(0);
    now = T0 + FULL_SUM_EVERY_MS;
    state = await store.refreshWindowSpend('key', key, window, state);
    expect(state?.fullAt).to.equal(now);
    expect(windowSpendTotal(state)).to.equal(3);
  });

  it('reads only the recent ranges of a window with 200 000 rows: what aged out and the last settle lag, through the index', async function () {
    this.timeout(120_000);
    const key = uniqueId('tok');
    const window: Window = { budget_duration: '30d', reset_at: null };
    const span = 30 * 24 * HOUR;
    const rows = 200_000;
    const logs: Log[] = [];
    for (let i = 0; i < rows; i += 1) logs.push({ api_key: key, spend: 0.001, startTime: T0 - span + Math.floor((i / rows) * span) });
    await insertLogs(ds, logs);
    const full = await store.refreshWindowSpend('key', key, window, null);
    expectClose(windowSpendTotal(full), 200, 'the full sum');
    now += 5 * SECOND;
    let step = null as WindowSpend | null;
    const [statement, ...more] = await statementsOf(ds, async () => (step = await store.refreshWindowSpend('key', key, window, full)));
    expect(more).to.have.length(0);
    expect(step?.fullAt).to.equal(T0);
    expectClose(windowSpendTotal(step), await fullSum(ds, 'key', key, window, now), 'the step');
    const { query, parameters } = statement as { query: string; parameters: unknown[] };
    const inWindowTail = Math.ceil((SETTLE_LAG_MS / span) * rows);
    if (dialectOf(ds) === 'mysql') {
      const plan = (await ds.query(`EXPLAIN ${query}`, parameters)) as { key: string | null; rows: number | string; Extra: string | null }[];
      expect(plan.map((p) => p.key)).to.deep.equal(['LiteLLM_SpendLogs_api_key_startTime_idx']);
      // Read from the index alone (it holds spend): no row fetched from the table.
      expect((plan[0]?.Extra ?? '').split(';').map((part) => part.trim())).to.include('Using index'); // not "Using index condition"
      expect(Number(plan[0]?.rows), 'estimated rows').to.be.below(inWindowTail * 3);
      // Executed, with the rows the engine actually read counted.
      const analyzed = (await ds.query(`ANALYZE FORMAT=JSON ${query}`, parameters)) as { ANALYZE: string }[];
      const read = (JSON.parse(analyzed[0]?.ANALYZE ?? '{}') as { query_block: { nested_loop: { table: { r_rows: number } }[] } }).query_block
        .nested_loop[0]?.table.r_rows;
      expect(read, 'rows read').to.be.within(1, inWindowTail * 2);
    } else {
      const plan = (await ds.query(`EXPLAIN QUERY PLAN ${query}`, parameters)) as { detail: string }[];
      const details = plan.map((p) => p.detail);
      const searches = details.filter((d) => d.startsWith('SEARCH'));
      expect(details.some((d) => d.startsWith('SCAN')), details.join('\n')).to.equal(false);
      // Two ranges of the index (SQLite's MULTI-INDEX OR), one bounded on both sides.
      expect(searches.map((d) => d.replace(/^SEARCH \w+ /, 'SEARCH ')), details.join('\n')).to.deep.equal([
        'SEARCH USING INDEX LiteLLM_SpendLogs_api_key_startTime_idx (api_key=? AND startTime>? AND startTime<?)',
        'SEARCH USING INDEX LiteLLM_SpendLogs_api_key_startTime_idx (api_key=? AND startTime>?)',
      ]);
    }
  });
});
