import { expect } from 'chai';
import { createDataSource } from '../../src/store/data-source';
import { inTransaction } from '../../src/store/transactions';
import { tempSqlitePath } from '../support/mysql';

/** A transaction that writes, yields to the event loop (as a query round trip does), and writes again. */
const twoWrites = (label: string) => async (manager: { query(sql: string, parameters?: unknown[]): Promise<unknown> }) => {
  await manager.query('INSERT INTO t (label) VALUES (?)', [`${label}-1`]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await manager.query('INSERT INTO t (label) VALUES (?)', [`${label}-2`]);
  return label;
};

describe("transactions of a server process's own DataSource (store/transactions.ts)", () => {
  it('runs concurrent transactions on the embedded SQLite store one after another, all of them committed, where SQLite refuses to nest them', async () => {
    const file = tempSqlitePath();
    const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 1000 });
    try {
      await dataSource.initialize();
      await dataSource.query('CREATE TABLE t (label TEXT NOT NULL)');
      // Why the queue: begun while another runs, a transaction on the one connection fails.
      const raw = await Promise.allSettled([dataSource.transaction(twoWrites('a')), dataSource.transaction(twoWrites('b'))]);
      expect(raw.map((r) => r.status)).to.include('rejected');
      await dataSource.query('DELETE FROM t');

      // The spend writer, the generation counter and auto_register, each queued behind the others.
      const labels = ['spend', 'generation', 'register', 'spend-again', 'register-again'];
      const done = await Promise.all(labels.map((label) => inTransaction(dataSource, twoWrites(label))));
      expect(done).to.deep.equal(labels);
      const rows = (await dataSource.query('SELECT label FROM t')) as { label: string }[];
      expect(rows.map((r) => r.label).sort()).to.deep.equal(labels.flatMap((l) => [`${l}-1`, `${l}-2`]).sort());
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      file.cleanup();
    }
  });

  it('goes on with the next transaction after one fails (its rollback frees the connection)', async () => {
    const file = tempSqlitePath();
    const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 1000 });
    try {
      await dataSource.initialize();
      await dataSource.query('CREATE TABLE t (label TEXT NOT NULL)');
      const failing = inTransaction(dataSource, async (manager) => {
        await manager.query('INSERT INTO t (label) VALUES (?)', ['rolled-back']);
        throw new Error('boom');
      });
      const next = inTransaction(dataSource, twoWrites('after'));
      const error = await failing.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Error).with.property('message', 'boom');
      expect(await next).to.equal('after');
      const rows = (await dataSource.query('SELECT label FROM t')) as { label: string }[];
      expect(rows.map((r) => r.label)).to.deep.equal(['after-1', 'after-2']);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      file.cleanup();
    }
  });
});
