/**
 * The benchmark tenant, written with multi-row INSERTs straight into LiteLLM's tables (a million
 * keys through an ORM would take minutes): 1 organization, 50 teams, 10 000 users with their team
 * memberships, budgets, access groups, and keys — the tenant's 100 000 plus enough others to
 * bring the key table to 1 000 000 for the cold-key figures.
 *
 * Raw keys are derived from the key's index, so the bench can rebuild any of them without keeping
 * a million strings around; each row stores only sha256(raw key), as LiteLLM does.
 */
import { createHash } from 'node:crypto';
import type { Connection } from 'mysql2/promise';

export const TEAMS = 50;
export const USERS = 10_000;
export const TENANT_KEYS = 100_000;
export const ACCESS_GROUPS = 5;
export const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'text-embedding-3-small'] as const;

const ORG_ID = 'org-bench';
const ROWS_PER_INSERT = 2_000;

export function rawKey(runTag: string, index: number): string {
  return `sk-bench-${runTag}-${index}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const teamId = (t: number): string => `team-${t}`;
const userId = (u: number): string => `user-${u}`;

/** The LiteLLM config.yaml the bench's Tollgate runs with: models and their access groups. */
export function benchConfigYaml(): string {
  const models = MODELS.map(
    (model, i) =>
      `  - model_name: ${model}\n    litellm_params: { model: openai/${model} }\n    model_info: { access_groups: [config-group-${i % 2}] }`,
  );
  return `model_list:\n${models.join('\n')}\ngeneral_settings: {}\n`;
}

async function insertRows(db: Connection, table: string, columns: readonly string[], rows: Iterable<unknown[]>): Promise<void> {
  const head = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES `;
  let batch: unknown[][] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const placeholders = batch.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await db.query(head + placeholders, batch.flat());
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= ROWS_PER_INSERT) await flush();
  }
  await flush();
}

function* range<T>(count: number, make: (i: number) => T): Generator<T> {
  for (let i = 0; i < count; i += 1) yield make(i);
}

export async function seedTenant(db: Connection): Promise<void> {
  await insertRows(db, 'LiteLLM_BudgetTable', ['budget_id', 'max_budget', 'created_by', 'updated_by'], [
    ['budget-org', 1_000_000, 'bench', 'bench'],
    ...range(5, (b) => [`budget-member-${b}`, 500 + b * 100, 'bench', 'bench']),
  ]);
  await insertRows(db, 'LiteLLM_OrganizationTable', ['organization_id', 'organization_alias', 'budget_id', 'spend', 'created_by', 'updated_by'], [
    [ORG_ID, 'Bench Org', 'budget-org', 10, 'bench', 'bench'],
  ]);
  await insertRows(
    db,
    'LiteLLM_AccessGroupTable',
    ['access_group_id', 'access_group_name', 'access_model_names', 'created_by', 'updated_by'],
    range(ACCESS_GROUPS, (g) => [`ag-${g}`, `group ${g}`, JSON.stringify([MODELS[g % MODELS.length]]), 'bench', 'bench']),
  );
  await insertRows(
    db,
    'LiteLLM_TeamTable',
    ['team_id', 'team_alias', 'organization_id', 'models', 'max_budget', 'spend', 'access_group_ids', 'metadata'],
    range(TEAMS, (t) => [
      teamId(t),
      `Team ${t}`,
      ORG_ID,
      JSON.stringify(['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet']),
      10_000,
      t,
      JSON.stringify([`ag-${t % ACCESS_GROUPS}`]),
      JSON.stringify({ cost_center: `cc-${t % 7}` }),
    ]),
  );
  await insertRows(
    db,
    'LiteLLM_UserTable',
    ['user_id', 'user_email', 'user_role', 'team_id', 'organization_id', 'teams', 'max_budget', 'spend'],
    range(USERS, (u) => [
      userId(u),
      `user${u}@example.com`,
      'internal_user',
      teamId(u % TEAMS),
      ORG_ID,
      JSON.stringify([teamId(u % TEAMS)]),
      1_000,
      u % 13,
    ]),
  );
  await insertRows(
    db,
    'LiteLLM_TeamMembership',
    ['user_id', 'team_id', 'spend', 'budget_id'],
    range(USERS, (u) => [userId(u), teamId(u % TEAMS), u % 5, `budget-member-${u % 5}`]),
  );
}

/** Keys [from, to): key i belongs to user i mod USERS and that user's team. */
export async function seedKeys(db: Connection, runTag: string, from: number, to: number): Promise<void> {
  // Inserted in primary-key (hash) order: InnoDB appends to its clustered index instead of
  // splitting random pages, several times faster for a million rows.
  const keys = Array.from({ length: to - from }, (_, offset) => ({ token: sha256(rawKey(runTag, from + offset)), i: from + offset }));
  keys.sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
  await db.query('SET SESSION unique_checks = 0');
  await insertRows(
    db,
    'LiteLLM_VerificationToken',
    ['token', 'key_alias', 'user_id', 'team_id', 'max_budget', 'spend', 'models', 'metadata'],
    keys.map(({ token, i }) => {
      const user = i % USERS;
      return [token, `key-${i}`, userId(user), teamId(user % TEAMS), 100, (i % 50) / 10, '[]', '{}'];
    }),
  );
  await db.query('SET SESSION unique_checks = 1');
}
