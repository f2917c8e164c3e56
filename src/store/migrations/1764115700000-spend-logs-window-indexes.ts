/**
 * Indexes for the spend of a multi-window budget (`budget_limits`; TypeOrmAuthStore.windowSpend):
 * `SUM(spend) WHERE api_key = ? AND startTime >= ?` for a key, `team_id` for a team. LiteLLM's
 * SpendLogs indexes lead with `startTime`, so without these each sum reads every request of every
 * caller in the window (a 30-day window of a busy proxy: millions of rows, every refresh).
 * With them the sum reads the entity's own rows of the window and no others; on MySQL/MariaDB from
 * the index alone (a million rows of one key summed in about 0.2 s instead of 4 s, which outran
 * `tollgate.db_timeout_ms`).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../dialect';
import { createIndexSql, mysqlIndexExists, quote, type IndexSpec } from './ddl';

const SPEND_LOGS = 'LiteLLM_SpendLogs';

export const SPEND_LOGS_WINDOW_INDEXES: readonly IndexSpec[] = [
  { name: 'LiteLLM_SpendLogs_api_key_startTime_idx', columns: ['api_key', 'startTime'] },
  { name: 'LiteLLM_SpendLogs_team_id_startTime_idx', columns: ['team_id', 'startTime'] },
];

/**
 * On MySQL/MariaDB the indexes also hold `spend`, so a sum is read from the index alone. Not on
 * SQLite: without table statistics its planner then prefers reading all of one key's entries of a
 * covering index to the two range searches a refresh asks for (spend/window-spend.ts).
 */
export function windowIndexFor(dialect: ReturnType<typeof dialectOf>, index: IndexSpec): IndexSpec {
  return dialect === 'mysql' ? { ...index, columns: [...index.columns, 'spend'] } : index;
}

export class SpendLogsWindowIndexes1764115700000 implements MigrationInterface {
  readonly name = 'SpendLogsWindowIndexes1764115700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner.connection);
    for (const index of SPEND_LOGS_WINDOW_INDEXES) {
      if (dialect === 'mysql' && (await mysqlIndexExists(queryRunner, SPEND_LOGS, index.name))) continue;
      await queryRunner.query(createIndexSql(dialect, SPEND_LOGS, windowIndexFor(dialect, index)));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner.connection);
    for (const index of SPEND_LOGS_WINDOW_INDEXES) {
      if (dialect === 'sqlite') {
        await queryRunner.query(`DROP INDEX IF EXISTS ${quote(dialect, index.name)}`);
      } else if (await mysqlIndexExists(queryRunner, SPEND_LOGS, index.name)) {
        await queryRunner.query(`DROP INDEX ${quote(dialect, index.name)} ON ${quote(dialect, SPEND_LOGS)}`);
      }
    }
  }
}
