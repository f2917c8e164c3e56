import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { dialectOf } from '../../src/store/dialect';
import { LITELLM_TABLES, LiteLlmTables1764115200000 } from '../../src/store/migrations/1764115200000-litellm-tables';
import { AGENTS_TABLE } from '../../src/store/migrations/1764115400000-agents-table';
import { DEPRECATED_KEYS_TABLE } from '../../src/store/migrations/1764115600000-deprecated-keys';
import { JWT_KEY_MAPPING_TABLE } from '../../src/store/migrations/1764115800000-jwt-key-mapping';
import { MIGRATIONS, runMigrations } from '../../src/store/migrations';
import { USER_EMAIL_LOWER_COLUMN, USER_EMAIL_LOWER_INDEX, UserEmailIndex1764115500000 } from '../../src/store/migrations/1764115500000-user-email-index';
import { describeEachBackend } from '../support/store-backends';

const EXPECTED_TABLES = [
  'LiteLLM_AccessGroupTable',
  'LiteLLM_AgentsTable',
  'LiteLLM_BudgetTable',
  'LiteLLM_Config',
  'LiteLLM_DeprecatedVerificationToken',
  'LiteLLM_EndUserTable',
  'LiteLLM_JWTKeyMapping',
  'LiteLLM_ModelTable',
  'LiteLLM_ObjectPermissionTable',
  'LiteLLM_OrganizationMembership',
  'LiteLLM_OrganizationTable',
  'LiteLLM_ProjectTable',
  'LiteLLM_ProxyModelTable',
  'LiteLLM_SpendLogs',
  'LiteLLM_TagTable',
  'LiteLLM_TeamMembership',
  'LiteLLM_TeamTable',
  'LiteLLM_UserTable',
  'LiteLLM_VerificationToken',
];

// LiteLLM's schema.prisma, in its order.
const KEY_COLUMNS = [
  'token', 'key_name', 'key_alias', 'soft_budget_cooldown', 'spend', 'expires', 'models', 'aliases', 'config',
  'router_settings', 'user_id', 'team_id', 'agent_id', 'project_id', 'permissions', 'max_parallel_requests',
  'metadata', 'blocked', 'tpm_limit', 'rpm_limit', 'max_budget', 'budget_duration', 'budget_reset_at',
  'allowed_cache_controls', 'allowed_routes', 'policies', 'access_group_ids', 'model_spend', 'model_max_budget',
  'budget_id', 'organization_id', 'object_permission_id', 'created_at', 'created_by', 'updated_at', 'updated_by',
  'last_active', 'rotation_count', 'auto_rotate', 'rotation_interval', 'last_rotation_at', 'key_rotation_at',
  'budget_limits',
];

async function tableNames(dataSource: DataSource): Promise<string[]> {
  const rows: { name: string }[] =
    dialectOf(dataSource) === 'mysql'
      ? await dataSource.query('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()')
      : await dataSource.query("SELECT name FROM sqlite_master WHERE type = 'table'");
  return rows.map((r) => r.name);
}

async function columnNames(dataSource: DataSource, table: string): Promise<string[]> {
  if (dialectOf(dataSource) === 'mysql') {
    const rows: { name: string }[] = await dataSource.query(
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
      [table],
    );
    return rows.map((r) => r.name);
  }
  const rows: { name: string }[] = await dataSource.query('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table]);
  return rows.map((r) => r.name);
}

async function indexNames(dataSource: DataSource, table: string): Promise<string[]> {
  const rows: { name: string }[] =
    dialectOf(dataSource) === 'mysql'
      ? await dataSource.query(
          'SELECT DISTINCT index_name AS name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?',
          [table],
        )
      : await dataSource.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]);
  return rows.map((r) => r.name);
}

describeEachBackend('migrations', (backend) => {
  it('creates every LiteLLM table under its exact mixed-case name', async () => {
    const names = await tableNames(backend().dataSource);
    for (const table of EXPECTED_TABLES) expect(names, table).to.include(table);
    // Nothing was created under a lower-cased or otherwise altered name.
    expect(names.filter((n) => n.toLowerCase().startsWith('litellm_')).sort()).to.deep.equal([...EXPECTED_TABLES].sort());
  });

  it("gives LiteLLM_VerificationToken LiteLLM's columns, in LiteLLM's order", async () => {
    expect(await columnNames(backend().dataSource, 'LiteLLM_VerificationToken')).to.deep.equal(KEY_COLUMNS);
  });

  it('keeps camelCase column names of LiteLLM_SpendLogs and `aliases` on LiteLLM_ModelTable', async () => {
    const spendLogColumns = await columnNames(backend().dataSource, 'LiteLLM_SpendLogs');
    expect(spendLogColumns).to.include.members(['request_id', 'spend', 'startTime', 'endTime', 'completionStartTime', 'api_key', 'user', 'end_user', 'team_id', 'request_tags', 'model']);
    expect(await columnNames(backend().dataSource, 'LiteLLM_ModelTable')).to.include('aliases');
  });

  it("creates LiteLLM's indexes", async () => {
    const ds = backend().dataSource;
    expect(await indexNames(ds, 'LiteLLM_VerificationToken')).to.include.members([
      'LiteLLM_VerificationToken_user_id_team_id_idx',
      'LiteLLM_VerificationToken_team_id_idx',
      'LiteLLM_VerificationToken_budget_reset_at_expires_idx',
    ]);
    expect(await indexNames(ds, 'LiteLLM_TeamTable')).to.include.members([
      'LiteLLM_TeamTable_organization_id_idx',
      'LiteLLM_TeamTable_team_alias_idx',
      'LiteLLM_TeamTable_created_at_idx',
      'LiteLLM_TeamTable_model_id_key',
    ]);
    expect(await indexNames(ds, 'LiteLLM_UserTable')).to.include('LiteLLM_UserTable_sso_user_id_key');
    expect(await indexNames(ds, 'LiteLLM_AccessGroupTable')).to.include('LiteLLM_AccessGroupTable_access_group_name_key');
    expect(await indexNames(ds, 'LiteLLM_AgentsTable')).to.include('LiteLLM_AgentsTable_agent_name_key');
    expect(await indexNames(ds, 'LiteLLM_SpendLogs')).to.include.members(['LiteLLM_SpendLogs_startTime_idx', 'LiteLLM_SpendLogs_end_user_idx']);
  });

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    const ds = backend().dataSource;
    const before = await tableNames(ds);
    expect(await runMigrations(ds)).to.deep.equal([]);
    expect((await tableNames(ds)).sort()).to.deep.equal(before.sort());
  });

  it('re-running the table migration itself over existing tables and indexes is harmless', async () => {
    const ds = backend().dataSource;
    const queryRunner = ds.createQueryRunner();
    try {
      await new LiteLlmTables1764115200000().up(queryRunner);
    } finally {
      await queryRunner.release();
    }
    expect(await indexNames(ds, 'LiteLLM_TeamTable')).to.include('LiteLLM_TeamTable_team_alias_idx');
  });

  it('records every migration as applied', async () => {
    const executed: { name: string }[] = await backend().dataSource.query('SELECT name FROM tollgate_migrations');
    expect(executed.map((m) => m.name).sort()).to.deep.equal(MIGRATIONS.map((m) => m.name).sort());
  });

  it('matches the entities: every mapped column exists in the migrated table', async () => {
    const ds = backend().dataSource;
    for (const metadata of ds.entityMetadatas) {
      const actual = await columnNames(ds, metadata.tableName);
      const mapped = metadata.columns.map((c) => c.databaseName);
      expect(actual, metadata.tableName).to.include.members(mapped);
    }
  });

  it("gives LiteLLM_AgentsTable LiteLLM's columns, in LiteLLM's order (§2.15)", async () => {
    expect(await columnNames(backend().dataSource, 'LiteLLM_AgentsTable')).to.deep.equal(AGENTS_TABLE.columns.map((c) => c.name));
    expect(AGENTS_TABLE.columns.map((c) => c.name)).to.include.members(['agent_id', 'agent_name', 'litellm_params', 'object_permission_id']);
  });

  it("gives LiteLLM_DeprecatedVerificationToken LiteLLM's columns, in LiteLLM's order, and its three indexes (§2.15)", async () => {
    const ds = backend().dataSource;
    expect(await columnNames(ds, 'LiteLLM_DeprecatedVerificationToken')).to.deep.equal(['id', 'token', 'active_token_id', 'revoke_at', 'created_at']);
    expect(await indexNames(ds, 'LiteLLM_DeprecatedVerificationToken')).to.include.members([
      'LiteLLM_DeprecatedVerificationToken_token_key',
      'LiteLLM_DeprecatedVerificationToken_token_revoke_at_idx',
      'LiteLLM_DeprecatedVerificationToken_revoke_at_idx',
    ]);
  });

  it("gives LiteLLM_JWTKeyMapping LiteLLM's columns, in LiteLLM's order, unique by claim name and value", async () => {
    const ds = backend().dataSource;
    expect(await columnNames(ds, 'LiteLLM_JWTKeyMapping')).to.deep.equal([
      'id', 'jwt_claim_name', 'jwt_claim_value', 'token', 'description', 'is_active', 'created_at', 'created_by', 'updated_at', 'updated_by',
    ]);
    expect(await indexNames(ds, 'LiteLLM_JWTKeyMapping')).to.include.members(['LiteLLM_JWTKeyMapping_jwt_claim_name_jwt_claim_value_key']);
  });

  it('matches the schema description: every described column is mapped by an entity', () => {
    const ds = backend().dataSource;
    for (const table of [...LITELLM_TABLES, AGENTS_TABLE, DEPRECATED_KEYS_TABLE, JWT_KEY_MAPPING_TABLE]) {
      const metadata = ds.entityMetadatas.find((m) => m.tableName === table.name);
      expect(metadata, table.name).to.not.equal(undefined);
      expect(metadata?.columns.map((c) => c.databaseName)).to.include.members(table.columns.map((c) => c.name));
    }
  });

  it("indexes LiteLLM_UserTable's emails up to case, MySQL's column invisible to SELECT * and positional INSERTs", async () => {
    const ds = backend().dataSource;
    expect(await indexNames(ds, 'LiteLLM_UserTable')).to.include(USER_EMAIL_LOWER_INDEX);
    if (dialectOf(ds) !== 'mysql') return;
    const [column] = (await ds.query(
      'SELECT extra FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?',
      ['LiteLLM_UserTable', USER_EMAIL_LOWER_COLUMN],
    )) as { extra: string }[];
    expect(column?.extra).to.match(/VIRTUAL/i).and.match(/INVISIBLE/i);
    const plan: { key: string | null }[] = await ds.query(
      `EXPLAIN SELECT user_id FROM LiteLLM_UserTable WHERE ${USER_EMAIL_LOWER_COLUMN} = LOWER(?)`,
      ['Someone@Example.com'],
    );
    expect(plan.map((p) => p.key)).to.deep.equal([USER_EMAIL_LOWER_INDEX]);
  });

  it('re-running the email index migration is harmless', async () => {
    const queryRunner = backend().dataSource.createQueryRunner();
    try {
      await new UserEmailIndex1764115500000().up(queryRunner);
    } finally {
      await queryRunner.release();
    }
    expect(await indexNames(backend().dataSource, 'LiteLLM_UserTable')).to.include(USER_EMAIL_LOWER_INDEX);
  });

  it('creates the cache generation counter with its single row', async () => {
    const rows: { generation: number | string }[] = await backend().dataSource.query(
      'SELECT generation FROM Tollgate_CacheGeneration WHERE id = ?',
      [1],
    );
    expect(rows.map((r) => Number(r.generation))).to.deep.equal([0]);
  });
});
