/**
 * `LiteLLM_AgentsTable` (litellm-schema.md §2.15), with LiteLLM's columns in schema.prisma's order.
 * Tollgate reads `litellm_params.require_trace_id_on_calls_by_agent` for the agent named by a key's
 * `agent_id` (litellm-auth.md §4 step 2a). Later changes go in new migrations, never here.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../dialect';
import { createdAt, dropTable, ensureTable, int, json, jsonObject, list, spend, str, updatedAt, type TableSpec } from './ddl';

// Prisma `created_by String` / `updated_by String`; LiteLLM's generated SQL defaults them to ''.
const auditBy = (name: string) => str(name, { nullable: false, default: { value: '' } });

export const AGENTS_TABLE: TableSpec = {
  name: 'LiteLLM_AgentsTable',
  primaryKey: ['agent_id'],
  columns: [
    str('agent_id', { nullable: false }),
    str('agent_name', { nullable: false }),
    json('litellm_params'),
    jsonObject('agent_card_params'),
    json('static_headers', { default: { json: '{}' } }),
    list('extra_headers'),
    list('agent_access_groups'),
    str('object_permission_id'),
    spend('spend'),
    int('tpm_limit'),
    int('rpm_limit'),
    int('session_tpm_limit'),
    int('session_rpm_limit'),
    createdAt(),
    auditBy('created_by'),
    updatedAt(),
    auditBy('updated_by'),
  ],
  indexes: [{ name: 'LiteLLM_AgentsTable_agent_name_key', columns: ['agent_name'], unique: true }],
};

export class AgentsTable1764115400000 implements MigrationInterface {
  readonly name = 'AgentsTable1764115400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureTable(queryRunner, dialectOf(queryRunner.connection), AGENTS_TABLE);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTable(queryRunner, dialectOf(queryRunner.connection), AGENTS_TABLE);
  }
}
