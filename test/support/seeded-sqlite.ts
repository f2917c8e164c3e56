/** A migrated embedded store in a temporary file, with the rows an end-to-end suite starts from. */
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { LiteLlmRows } from './litellm-rows';
import { tempSqlitePath, type TempSqlite } from './mysql';

/**
 * Migrates a fresh file and runs `seed` on it over a connection of its own, closed before the
 * file is handed to a server; a file that could not be made ready is removed before the error
 * reaches the suite, whose `after` would not know of it.
 */
export async function seededTempSqlite(seed: (rows: LiteLlmRows) => Promise<void>): Promise<TempSqlite> {
  const file = tempSqlitePath();
  try {
    const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 });
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
      await seed(new LiteLlmRows(dataSource));
    } finally {
      await dataSource.destroy();
    }
  } catch (error) {
    file.cleanup();
    throw error;
  }
  return file;
}
