/**
 * The invalidation generation counter in the database: concurrent writers each get their own
 * generation (a listener counts on it to notice a lost message), and a call that hangs is bounded.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { DbGenerationCounter } from '../../src/cache/db-generation-counter';
import { StoreTimeoutError } from '../../src/store/deadline';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';

function counterOn(dataSource: DataSource): DbGenerationCounter {
  return new DbGenerationCounter(
    (sql, params) => dataSource.query(sql, [...params]),
    (work) => dataSource.transaction((manager) => work((sql, params) => manager.query(sql, [...params]))),
    2_000,
  );
}

describe('DbGenerationCounter on MariaDB', function () {
  this.timeout(30_000);
  let database: TestMysqlDatabase;
  let dataSources: DataSource[] = [];

  before(async function () {
    database = await requireMysql(this);
    const first = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await first.initialize();
    await runMigrations(first);
    const second = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await second.initialize();
    dataSources = [first, second];
  });

  after(async () => {
    for (const dataSource of dataSources) await dataSource.destroy();
    await database?.drop();
  });

  it('gives every one of many concurrent bumps, from two processes, a generation of its own', async () => {
    const counters = dataSources.map(counterOn);
    const start = await (counters[0] as DbGenerationCounter).current();
    const bumps = await Promise.all(Array.from({ length: 40 }, (_, i) => (counters[i % 2] as DbGenerationCounter).bump()));
    expect(new Set(bumps).size).to.equal(40);
    expect(Math.min(...bumps)).to.equal(start + 1);
    expect(Math.max(...bumps)).to.equal(start + 40);
    expect(await (counters[1] as DbGenerationCounter).current()).to.equal(start + 40);
  });
});

describe('DbGenerationCounter without its row', () => {
  it('fails a bump instead of reporting generation 0, which no poll could tell from no change', async () => {
    const noRow = (): Promise<unknown> => Promise.resolve([]);
    const counter = new DbGenerationCounter(noRow, (work) => work(noRow), 1_000);
    expect(await counter.current(), 'a read still answers').to.equal(0);
    const error = await counter.bump().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.include('tollgate migrate');
  });
});

describe('DbGenerationCounter on a database that does not answer', () => {
  const never = (): Promise<never> => new Promise<never>(() => undefined);

  it('gives up a read or a bump at its deadline, so the next poll can run', async () => {
    const counter = new DbGenerationCounter(never, never, 20);
    expect(await counter.current().catch((e: unknown) => e)).to.be.instanceOf(StoreTimeoutError);
    expect(await counter.bump().catch((e: unknown) => e)).to.be.instanceOf(StoreTimeoutError);
  });
});
