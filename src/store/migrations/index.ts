/**
 * Schema migrations, applied by `tollgate migrate` (and by tests) through `runMigrations`.
 *
 * TypeORM records applied migrations in `tollgate_migrations` (a name of our own, so it never
 * collides with LiteLLM's `_prisma_migrations`), and each migration is itself idempotent: running
 * `runMigrations` twice, or over tables that already exist, changes nothing.
 */
import type { DataSource, Migration } from 'typeorm';
import { LiteLlmTables1764115200000 } from './1764115200000-litellm-tables';
import { CacheGeneration1764115300000 } from './1764115300000-cache-generation';
import { AgentsTable1764115400000 } from './1764115400000-agents-table';
import { UserEmailIndex1764115500000 } from './1764115500000-user-email-index';
import { DeprecatedKeys1764115600000 } from './1764115600000-deprecated-keys';
import { SpendLogsWindowIndexes1764115700000 } from './1764115700000-spend-logs-window-indexes';
import { JwtKeyMapping1764115800000 } from './1764115800000-jwt-key-mapping';
import { UserEndUserBudgetLimits1764115900000 } from './1764115900000-user-end-user-budget-limits';

export const MIGRATIONS_TABLE = 'tollgate_migrations';

/** In the order they apply. */
export const MIGRATIONS = [
  LiteLlmTables1764115200000,
  CacheGeneration1764115300000,
  AgentsTable1764115400000,
  UserEmailIndex1764115500000,
  DeprecatedKeys1764115600000,
  SpendLogsWindowIndexes1764115700000,
  JwtKeyMapping1764115800000,
  UserEndUserBudgetLimits1764115900000,
];

/** Applies pending migrations; resolves with the ones applied now (none on a second run). */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  return dataSource.runMigrations({ transaction: 'each' });
}
