/** An embedded SQLite store with LiteLLM rows, for end-to-end tests of the real server. */
import { hashKey } from '../../../src/auth/key-hash';
import { createDataSource } from '../../../src/store/data-source';
import { runMigrations } from '../../../src/store/migrations';
import { LiteLlmRows } from '../../support/litellm-rows';
import { tempSqlitePath } from '../../support/mysql';

export interface SeededStore {
  readonly env: Record<string, string>;
  readonly teamId: string;
  readonly orgId: string;
  cleanup(): void;
}

/** One team in one organization; each raw key in `teamKeys` is stored as its hash, on that team. */
export async function seededSqlite(teamKeys: readonly string[], blockedKeys: readonly string[] = []): Promise<SeededStore> {
  const file = tempSqlitePath();
  const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const org = await rows.anOrganization({});
    const team = await rows.aTeam({ models: ['gpt-4o'], organization_id: org.organization_id });
    for (const raw of teamKeys) await rows.aKey({ token: hashKey(raw), team_id: team.team_id, key_alias: 'e2e-key' });
    for (const raw of blockedKeys) await rows.aKey({ token: hashKey(raw), team_id: team.team_id, blocked: true });
    return { env: { TOLLGATE_SQLITE_PATH: file.path }, teamId: team.team_id, orgId: org.organization_id, cleanup: file.cleanup };
  } finally {
    await dataSource.destroy();
  }
}
