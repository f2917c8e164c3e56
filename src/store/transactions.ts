/**
 * Transactions a server process opens on its own DataSource: the spend writer's, the cache
 * generation counter's bump and auto_register's key registration. On MySQL each takes a pooled
 * connection of its own. SQLite has one connection per DataSource and cannot nest transactions,
 * so a second one begun while another runs fails with "cannot start a transaction within a
 * transaction", which every caller would read as an outage: there they run one after another,
 * all of them in one queue per DataSource.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from './dialect';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/** `work` in one transaction of `dataSource`: at once on MySQL, after the ones queued before it on SQLite. */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const run = (): Promise<T> => dataSource.transaction(work);
  if (dialectOf(dataSource) !== 'sqlite') return run();
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  const next = previous.then(run, run);
  sqliteQueues.set(
    dataSource,
    next.catch(() => undefined),
  );
  return next;
}
