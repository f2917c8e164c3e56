/**
 * `LiteLLM_DeprecatedVerificationToken` (litellm-schema.md §2.15; LiteLLM's migration
 * `add_deprecated_verification_token_table`), with its columns in schema.prisma's order and its
 * three indexes: a rotated-out key hash, the hash its key row carries now, and when it stops working.
 * Later changes go in new migrations, never here.
 *
 * A database LiteLLM migrated before the table existed, and that `tollgate migrate` never ran on,
 * has no such table: the store asks once whether it is there and, if not, knows no rotations.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../dialect';
import { createdAt, datetime, dropTable, ensureTable, str, token, type TableSpec } from './ddl';

export const DEPRECATED_KEYS_TABLE: TableSpec = {
  name: 'LiteLLM_DeprecatedVerificationToken',
  primaryKey: ['id'],
  columns: [
    str('id', { nullable: false }),
    token('token'),
    str('active_token_id', { nullable: false }),
    datetime('revoke_at', { nullable: false }),
    createdAt(),
  ],
  indexes: [
    { name: 'LiteLLM_DeprecatedVerificationToken_token_key', columns: ['token'], unique: true },
    { name: 'LiteLLM_DeprecatedVerificationToken_token_revoke_at_idx', columns: ['token', 'revoke_at'] },
    { name: 'LiteLLM_DeprecatedVerificationToken_revoke_at_idx', columns: ['revoke_at'] },
  ],
};

export class DeprecatedKeys1764115600000 implements MigrationInterface {
  readonly name = 'DeprecatedKeys1764115600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureTable(queryRunner, dialectOf(queryRunner.connection), DEPRECATED_KEYS_TABLE);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTable(queryRunner, dialectOf(queryRunner.connection), DEPRECATED_KEYS_TABLE);
  }
}
