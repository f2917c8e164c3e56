/**
 * Multi-window budgets on users and end users *[newer]*: a nullable JSON `budget_limits` column on
 * LiteLLM_UserTable and LiteLLM_EndUserTable (as LiteLLM's migration adds it), and the SpendLogs
 * indexes their window spend is summed through (TypeOrmAuthStore.sumWindow): `user` (the key
 * owner) and `end_user`, each with `startTime`, as 1764115700000 does for `api_key` and `team_id`.
 * LiteLLM's own `end_user` index leads with `end_user` alone, so a window's range on `startTime`
 * would read every row the end user ever made; its older schema has none on `user`. Newer LiteLLM
 * creates `(user, startTime)` under the same name: a database that has it keeps LiteLLM's. A column
 * LiteLLM's schema already added (`Json?`, the same type) is kept too. The store reads a table
 * without the column as users without windows (TypeOrmAuthStore.withBudgetLimits).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf, type Dialect } from '../dialect';
import { createIndexSql, mysqlColumnExists, mysqlIndexExists, quote, type IndexSpec } from './ddl';
import { windowIndexFor } from './1764115700000-spend-logs-window-indexes';

const SPEND_LOGS = 'LiteLLM_SpendLogs';
export const BUDGET_LIMITS_TABLES = ['LiteLLM_UserTable', 'LiteLLM_EndUserTable'] as const;
export const BUDGET_LIMITS_COLUMN = 'budget_limits';

export const SPEND_LOGS_USER_WINDOW_INDEXES: readonly IndexSpec[] = [
  { name: 'LiteLLM_SpendLogs_user_startTime_idx', columns: ['user', 'startTime'] },
  { name: 'LiteLLM_SpendLogs_end_user_startTime_idx', columns: ['end_user', 'startTime'] },
];

async function columnExists(queryRunner: QueryRunner, dialect: Dialect, table: string, column: string): Promise<boolean> {
  if (dialect === 'mysql') return mysqlColumnExists(queryRunner, table, column);
  const rows = (await queryRunner.query('SELECT 1 AS present FROM pragma_table_info(?) WHERE name = ?', [table, column])) as unknown[];
  return rows.length > 0;
}

export class UserEndUserBudgetLimits1764115900000 implements MigrationInterface {
  readonly name = 'UserEndUserBudgetLimits1764115900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner.connection);
    const type = dialect === 'mysql' ? 'JSON' : 'TEXT';
    for (const table of BUDGET_LIMITS_TABLES) {
      if (await columnExists(queryRunner, dialect, table, BUDGET_LIMITS_COLUMN)) continue;
      await queryRunner.query(`ALTER TABLE ${quote(dialect, table)} ADD COLUMN ${quote(dialect, BUDGET_LIMITS_COLUMN)} ${type} NULL`);
    }
    for (const index of SPEND_LOGS_USER_WINDOW_INDEXES) {
      if (dialect === 'mysql' && (await mysqlIndexExists(queryRunner, SPEND_LOGS, index.name))) continue;
      await queryRunner.query(createIndexSql(dialect, SPEND_LOGS, windowIndexFor(dialect, index)));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner.connection);
    for (const index of SPEND_LOGS_USER_WINDOW_INDEXES) {
      if (dialect === 'sqlite') {
        await queryRunner.query(`DROP INDEX IF EXISTS ${quote(dialect, index.name)}`);
      } else if (await mysqlIndexExists(queryRunner, SPEND_LOGS, index.name)) {
        await queryRunner.query(`DROP INDEX ${quote(dialect, index.name)} ON ${quote(dialect, SPEND_LOGS)}`);
      }
    }
    for (const table of BUDGET_LIMITS_TABLES) {
      if (await columnExists(queryRunner, dialect, table, BUDGET_LIMITS_COLUMN)) {
        await queryRunner.query(`ALTER TABLE ${quote(dialect, table)} DROP COLUMN ${quote(dialect, BUDGET_LIMITS_COLUMN)}`);
      }
    }
  }
}
