/**
 * `LiteLLM_JWTKeyMapping` (litellm-schema.md §2; LiteLLM's JWT → virtual-key mapping), with its
 * columns in schema.prisma's order, the unique (jwt_claim_name, jwt_claim_value) LiteLLM looks rows
 * up by, and an index on the key hash so a key's mappings can be found when the key changes.
 * Later changes go in new migrations, never here.
 *
 * A database LiteLLM migrated before the table existed, and that `tollgate migrate` never ran on,
 * has no such table: the store then reads it as holding no mapping (typeorm-auth-store.ts).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../dialect';
import { bool, createdAt, dropTable, ensureTable, str, text, token, updatedAt, type TableSpec } from './ddl';

export const JWT_KEY_MAPPING_TABLE: TableSpec = {
  name: 'LiteLLM_JWTKeyMapping',
  primaryKey: ['id'],
  columns: [
    str('id', { nullable: false }),
    str('jwt_claim_name', { nullable: false }),
    str('jwt_claim_value', { nullable: false }),
    token('token'),
    text('description'),
    bool('is_active', true),
    createdAt(),
    str('created_by'),
    updatedAt(),
    str('updated_by'),
  ],
  indexes: [
    { name: 'LiteLLM_JWTKeyMapping_jwt_claim_name_jwt_claim_value_key', columns: ['jwt_claim_name', 'jwt_claim_value'], unique: true },
    { name: 'LiteLLM_JWTKeyMapping_token_idx', columns: ['token'] },
  ],
};

export class JwtKeyMapping1764115800000 implements MigrationInterface {
  readonly name = 'JwtKeyMapping1764115800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureTable(queryRunner, dialectOf(queryRunner.connection), JWT_KEY_MAPPING_TABLE);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTable(queryRunner, dialectOf(queryRunner.connection), JWT_KEY_MAPPING_TABLE);
  }
}
