/**
 * The LiteLLM rows each spend target is written to, and the SQL that adds to them.
 * Names are constants here, never input; values are always bound parameters.
 */
import type { Dialect } from '../store/dialect';
import { quote } from '../store/migrations/ddl';
import { toSqlUtc } from '../store/spend-window';
import { NO_WINDOW } from './budget-window';
import type { SpendTarget, SpendTargetKind } from './targets';

interface SpendTable {
  readonly table: string;
  /** Primary key columns, bound in order to [id] or [id, teamId]. */
  readonly keys: readonly string[];
}

const TABLES: Readonly<Record<SpendTargetKind, SpendTable>> = {
  key: { table: 'LiteLLM_VerificationToken', keys: ['token'] },
  user: { table: 'LiteLLM_UserTable', keys: ['user_id'] },
  team: { table: 'LiteLLM_TeamTable', keys: ['team_id'] },
  team_member: { table: 'LiteLLM_TeamMembership', keys: ['user_id', 'team_id'] },
  organization: { table: 'LiteLLM_OrganizationTable', keys: ['organization_id'] },
  project: { table: 'LiteLLM_ProjectTable', keys: ['project_id'] },
  end_user: { table: 'LiteLLM_EndUserTable', keys: ['user_id'] },
  tag: { table: 'LiteLLM_TagTable', keys: ['tag_name'] },
};

/**
 * Rows that carry their own `budget_reset_at`. The others' window is on a LiteLLM_BudgetTable row
 * shared by many entities, which LiteLLM's reset job moves on for all of them at once: for those,
 * Tollgate resets only the counter and adds to the column.
 */
const OWN_WINDOW_KINDS: ReadonlySet<SpendTargetKind> = new Set(['key', 'team', 'user']);

export interface Statement {
  readonly sql: string;
  readonly params: readonly (string | number)[];
}

function keyValues(target: SpendTarget): string[] {
  return target.teamId === undefined ? [target.id] : [target.id, target.teamId];
}

/**
 * The target's row and no other, byte for byte as LiteLLM's Postgres compares: MariaDB's collations
 * take 'research ' (and 'Research') for 'research', so spend charged to an id with no row of its
 * own would land on another entity's. The plain comparison keeps the primary key's index; the
 * BINARY one rejects the other spelling. SQLite compares bytes already.
 */
function rowOf(dialect: Dialect, target: SpendTarget, q: (name: string) => string): { where: string; params: string[] } {
  const { keys } = TABLES[target.kind];
  const values = keyValues(target);
  if (dialect !== 'mysql') return { where: keys.map((k) => `${q(k)} = ?`).join(' AND '), params: values };
  return { where: keys.map((k) => `${q(k)} = ? AND BINARY ${q(k)} = ?`).join(' AND '), params: values.flatMap((v) => [v, v]) };
}

/**
 * `spend += amount` on the target's row. A key, team or user charged in budget window `windowEnd`
 * follows its own `budget_reset_at`:
 * - a newer window, once the row's own has ended by `now`, first resets the row (spend = amount,
 *   reset date moved on);
 * - an ended window the row has moved past (a late event from before a reset) leaves the column
 *   alone: it stays in LiteLLM_SpendLogs;
 * - otherwise the amount is added. That includes a row whose window was edited while its counter
 *   still ran in the old one: an admin's shorter window is never overwritten by the old end.
 * LiteLLM creates end-user rows on their first spend; so does this.
 */
export function addSpendStatement(dialect: Dialect, target: SpendTarget, amount: number, windowEnd: number, now: number): Statement {
  const q = (name: string): string => quote(dialect, name);
  const { table } = TABLES[target.kind];
  const row = rowOf(dialect, target, q);
  if (target.kind === 'end_user') {
    // MariaDB: an id that collides with another end user's under the collation cannot have a row
    // of its own; its spend stays in LiteLLM_SpendLogs rather than being added to the other's.
    const upsert =
      dialect === 'mysql'
        ? `ON DUPLICATE KEY UPDATE ${q('spend')} = IF(BINARY ${q('user_id')} = BINARY VALUES(${q('user_id')}), ${q('spend')} + VALUES(${q('spend')}), ${q('spend')})`
        : `ON CONFLICT (${q('user_id')}) DO UPDATE SET ${q('spend')} = ${q('spend')} + excluded.${q('spend')}`;
    return {
      sql: `INSERT INTO ${q(table)} (${q('user_id')}, ${q('spend')}, ${q('blocked')}) VALUES (?, ?, ?) ${upsert}`,
      params: [target.id, amount, 0],
    };
  }
  if (OWN_WINDOW_KINDS.has(target.kind) && windowEnd !== NO_WINDOW) {
    const at = toSqlUtc(new Date(windowEnd));
    const current = toSqlUtc(new Date(now));
    const ended = `${q('budget_reset_at')} IS NOT NULL AND ${q('budget_reset_at')} < ? AND ${q('budget_reset_at')} <= ?`;
    const windowOver = windowEnd <= now;
    // MySQL assigns left to right and later assignments see earlier ones: spend must come first.
    return {
      sql:
        `UPDATE ${q(table)} SET ${q('spend')} = CASE WHEN ${ended} THEN ? ELSE COALESCE(${q('spend')}, 0) + ? END, ` +
        `${q('budget_reset_at')} = CASE WHEN ${ended} THEN ? ELSE ${q('budget_reset_at')} END ` +
        `WHERE ${row.where}` +
        (windowOver ? ` AND (${q('budget_reset_at')} IS NULL OR ${q('budget_reset_at')} <= ?)` : ''),
      params: [at, current, amount, amount, at, current, at, ...row.params, ...(windowOver ? [at] : [])],
    };
  }
  return {
    sql: `UPDATE ${q(table)} SET ${q('spend')} = COALESCE(${q('spend')}, 0) + ? WHERE ${row.where}`,
    params: [amount, ...row.params],
  };
}
