/**
 * An index for `validate_end_user_id_in_db`'s email lookup (TypeOrmAuthStore.findUserIdByEmail),
 * which matches `user_email` up to case: without one, every end-user id no customer row or user id
 * names costs a full scan of LiteLLM_UserTable (a table of a million users: hundreds of ms a scan).
 *
 * MySQL/MariaDB: a VIRTUAL generated column `user_email_lower` = LOWER(user_email), INVISIBLE so
 * that `SELECT *` and positional INSERTs (a mysqldump, a sync tool) see LiteLLM's columns only, with
 * an index on it. A server without invisible columns (MySQL before 8.0.23) keeps the table as it is
 * and the lookup scans as before (the store asks which it has). SQLite: an index on the expression
 * LOWER(user_email), which its planner uses for the same expression in the query.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../dialect';
import { mysqlColumnExists, mysqlIndexExists } from './ddl';

export const USER_EMAIL_LOWER_COLUMN = 'user_email_lower';
export const USER_EMAIL_LOWER_INDEX = 'LiteLLM_UserTable_user_email_lower_idx';

/** MySQL's and MariaDB's error for syntax they do not know (here: INVISIBLE). */
const ER_PARSE_ERROR = 1064;

export class UserEmailIndex1764115500000 implements MigrationInterface {
  readonly name = 'UserEmailIndex1764115500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (dialectOf(queryRunner.connection) === 'sqlite') {
      await queryRunner.query(`CREATE INDEX IF NOT EXISTS "${USER_EMAIL_LOWER_INDEX}" ON "LiteLLM_UserTable" (LOWER("user_email"))`);
      return;
    }
    if (!(await mysqlColumnExists(queryRunner, 'LiteLLM_UserTable', USER_EMAIL_LOWER_COLUMN))) {
      try {
        await queryRunner.query(
          `ALTER TABLE \`LiteLLM_UserTable\` ADD COLUMN \`${USER_EMAIL_LOWER_COLUMN}\` VARCHAR(255) GENERATED ALWAYS AS (LOWER(\`user_email\`)) VIRTUAL INVISIBLE`,
        );
      } catch (error) {
        if ((error as { errno?: number }).errno === ER_PARSE_ERROR) return; // no invisible columns: left unindexed
        throw error;
      }
    }
    if (!(await mysqlIndexExists(queryRunner, 'LiteLLM_UserTable', USER_EMAIL_LOWER_INDEX))) {
      await queryRunner.query(`CREATE INDEX \`${USER_EMAIL_LOWER_INDEX}\` ON \`LiteLLM_UserTable\` (\`${USER_EMAIL_LOWER_COLUMN}\`)`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (dialectOf(queryRunner.connection) === 'sqlite') {
      await queryRunner.query(`DROP INDEX IF EXISTS "${USER_EMAIL_LOWER_INDEX}"`);
      return;
    }
    if (await mysqlColumnExists(queryRunner, 'LiteLLM_UserTable', USER_EMAIL_LOWER_COLUMN)) {
      await queryRunner.query(`ALTER TABLE \`LiteLLM_UserTable\` DROP COLUMN \`${USER_EMAIL_LOWER_COLUMN}\``);
    }
  }
}
