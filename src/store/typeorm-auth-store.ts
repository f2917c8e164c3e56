/**
 * AuthStore over LiteLLM's tables with TypeORM (MySQL/MariaDB or SQLite).
 *
 * Each method is exactly one parameterized statement (joins included), so the cache layer can
 * reason about cost: one miss, one query. Each is bounded by `dbTimeoutMs` and rejects with
 * StoreTimeoutError past it. "Not found" is null or a shorter list, never an error. The `batch`
 * lookups read many keys, teams, users or memberships in one statement per 100 distinct ids.
 */
import type { DataSource, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { USER_EMAIL_LOWER_COLUMN } from './migrations/1764115500000-user-email-index';
import { mysqlColumnExists, tableExists } from './migrations/ddl';
import { BUDGET_LIMITS_COLUMN } from './migrations/1764115900000-user-end-user-budget-limits';
import { DEPRECATED_KEYS_TABLE } from './migrations/1764115600000-deprecated-keys';
import { JWT_KEY_MAPPING_TABLE } from './migrations/1764115800000-jwt-key-mapping';
import type { Settings } from '../config/settings';
import type {
  AccessGroup,
  Agent,
  Budget,
  EndUser,
  ObjectPermission,
  Organization,
  Project,
  Tag,
  Team,
  TeamMembership,
  User,
  VirtualKey,
  WindowSpend,
} from '../domain/entities';
import type { DeprecatedKey } from '../domain/deprecated-key';
import { membershipId, type AuthStore, type BatchLookups, type WindowOfBudget } from './auth-store';
import { withDeadline } from './deadline';
import { dialectOf } from './dialect';
import {
  AccessGroupRecord,
  AgentRecord,
  BudgetRecord,
  DeprecatedVerificationTokenRecord,
  EndUserRecord,
  JwtKeyMappingRecord,
  ObjectPermissionRecord,
  OrganizationRecord,
  ProjectRecord,
  SpendLogRecord,
  TagRecord,
  TeamMembershipRecord,
  TeamRecord,
  UserRecord,
  VerificationTokenRecord,
} from './entities';
import { JoinedLookup } from './joined-lookup';
import { queryCounterOf, type QueryCounter } from './query-counter';
import { MAX_KEYS_PER_STATEMENT, PrimaryKeyLookup } from './primary-key-lookup';
import { globalSpendCutoff, toSqlUtc } from './spend-window';
import { budgetWindowStart, type WindowEntity } from '../spend/window-limits';
import {
  applyWindowSums,
  fullRefresh,
  planWindowRefresh,
  rangesOf,
  wholeWindowSpend,
  windowSpendTotal,
  type WindowSums,
  type WindowSumRanges,
} from '../spend/window-spend';
import {
  toAccessGroup,
  toAgent,
  toBudget,
  toDeprecatedKey,
  toEndUser,
  toObjectPermission,
  toOrganization,
  toProject,
  toTag,
  toTeam,
  toTeamMembership,
  toUser,
  toVirtualKey,
} from './to-domain';

export type StoreSettings = Pick<Settings, 'dbTimeoutMs'>;

/** How long a missing optional table is believed missing before it is asked about again. */
const MISSING_TABLE_RECHECK_MS = 30_000;

/** The tables migration 1764115900000 adds `budget_limits` to (TypeOrmAuthStore.withBudgetLimits). */
export type BudgetLimitsTable = 'user' | 'end_user';

/** MySQL's/MariaDB's `Unknown column '…budget_limits'` (ER_BAD_FIELD_ERROR), SQLite's `no such column: …budget_limits` or, inserting, `has no column named budget_limits`. */
function isMissingBudgetLimitsColumn(error: unknown): boolean {
  return error instanceof Error && error.message.includes(BUDGET_LIMITS_COLUMN) && /unknown column|no such column|has no column named/i.test(error.message);
}

function orNull<R, D>(row: R | null, map: (row: R) => D): D | null {
  return row === null ? null : map(row);
}

/** Distinct, in first-seen order: `IN (...)` needs each value once. */
function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * The records of `ids` (deduplicated by `idOf`), loaded one statement per chunk of at most
 * MAX_KEYS_PER_STATEMENT, mapped by `keyOf` — the record's own primary key, not the requested id.
 */
async function inChunks<I, R, D>(
  ids: readonly I[],
  idOf: (id: I) => string,
  load: (chunk: I[]) => Promise<R[]>,
  keyOf: (record: R) => string,
  toDomain: (record: R) => D,
): Promise<ReadonlyMap<string, D>> {
  const unique = [...new Map(ids.map((id) => [idOf(id), id] as const)).values()];
  const found = new Map<string, D>();
  // One chunk after the other: this is background revalidation, it need not hold many connections.
  for (let start = 0; start < unique.length; start += MAX_KEYS_PER_STATEMENT) {
    for (const record of await load(unique.slice(start, start + MAX_KEYS_PER_STATEMENT))) found.set(keyOf(record), toDomain(record));
  }
  return found;
}

const same = (id: string): string => id;

function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * The row only when its key is the id asked for, byte for byte. MySQL's collations also match ids
 * that differ in trailing spaces (PAD SPACE) or in case (`_ci`); LiteLLM's Postgres does not. A row
 * found under another spelling would also be cached under that spelling, where the invalidation
 * of its own id never reaches it.
 */
function exactly<R>(row: R | null, isAsked: (row: R) => boolean): R | null {
  return row !== null && isAsked(row) ? row : null;
}

/** The LiteLLM_SpendLogs column naming each window entity's rows (indexed with startTime by migrations 1764115700000 and 1764115900000). */
const WINDOW_SPEND_COLUMNS: Readonly<Record<WindowEntity, string>> = {
  key: 'log.api_key',
  team: 'log.team_id',
  user: 'log.user',
  end_user: 'log.end_user',
};

/** The rows whose key is one of the ids asked for, byte for byte (see `exactly`). */
function onlyAsked<R>(rows: readonly R[], asked: readonly string[], keyOf: (row: R) => string): R[] {
  const wanted = new Set(asked);
  return rows.filter((row) => wanted.has(keyOf(row)));
}

export class TypeOrmAuthStore implements AuthStore {
  /** Several rows of a kind, one statement per 100 distinct ids (see BatchLookups). */
  readonly batch: BatchLookups = {
    findKeys: (tokenHashes) => this.findKeys(tokenHashes),
    findTeams: (teamIds) => this.findTeams(teamIds),
    findUsers: (userIds) => this.findUsers(userIds),
    findMemberships: (pairs) => this.findMemberships(pairs),
  };

  private readonly timeoutMs: number;
  /** The lookup a cold Check waits on; built on first use (the DataSource must be initialized). */
  private keys: PrimaryKeyLookup<VerificationTokenRecord> | null = null;
  /** The other lookups of a cold Check, each with its one relation joined; built on first use too. */
  private teams: JoinedLookup<TeamRecord> | null = null;
  private memberships: JoinedLookup<TeamMembershipRecord> | null = null;
  private users: JoinedLookup<UserRecord> | null = null;
  private usersWithWindows: JoinedLookup<UserRecord> | null = null;
  /** Since when each table has been believed to lack `budget_limits` (withBudgetLimits); null while it has it. */
  private readonly budgetLimitsMissingSince: Record<BudgetLimitsTable, number | null> = { user: null, end_user: null };
  /** Whether the email lookup can use the indexed column (hasLoweredEmailColumn). */
  private loweredEmailColumn: Promise<boolean> | null = null;
  /** Whether the database has LiteLLM_DeprecatedVerificationToken (hasDeprecatedKeysTable). */
  private deprecatedKeysTable: Promise<boolean> | null = null;
  /** Whether the database has LiteLLM_JWTKeyMapping, and when a missing table is asked about again. */
  private jwtKeyMappingTable: { readonly present: Promise<boolean>; readonly askedAt: number } | null = null;

  constructor(
    private readonly dataSource: DataSource,
    settings: StoreSettings,
    /** Clock for the spend window; tests pin it. */
    private readonly now: () => Date = () => new Date(),
  ) {
    this.timeoutMs = settings.dbTimeoutMs;
  }

  /** Statements sent through this store's DataSource (see QueryCounter). */
  get queryCounter(): QueryCounter {
    return queryCounterOf(this.dataSource);
  }

  findKey(tokenHash: string): Promise<VirtualKey | null> {
    return this.bounded('findKey', async () => orNull(exactly(await this.keyLookup().find(tokenHash), (k) => k.token === tokenHash), toVirtualKey));
  }

  /**
   * By the unique `token` index. `revoke_at` is not compared here: the row is cached like any
   * other and the grace period judged at each use, so one answer serves until the row changes.
   */
  findDeprecatedKey(tokenHash: string): Promise<DeprecatedKey | null> {
    return this.bounded('findDeprecatedKey', async () => {
      if (!(await this.hasDeprecatedKeysTable())) return null;
      const row = await this.repo(DeprecatedVerificationTokenRecord)
        .createQueryBuilder('deprecated')
        .select(['deprecated.id', 'deprecated.token', 'deprecated.active_token_id', 'deprecated.revoke_at'])
        .where('deprecated.token = :tokenHash', { tokenHash })
        .getOne();
      return orNull(exactly(row, (r) => r.token === tokenHash), toDeprecatedKey);
    });
  }

  /**
   * By the `revoke_at` index, one row. A table found missing is asked about again here, so one that
   * `tollgate migrate` or LiteLLM creates while the server runs is seen within a refresh interval.
   */
  latestRevokeAt(): Promise<Date | null> {
    return this.bounded('latestRevokeAt', async () => {
      if (this.deprecatedKeysTable !== null && !(await this.deprecatedKeysTable)) this.deprecatedKeysTable = null;
      if (!(await this.hasDeprecatedKeysTable())) return null;
      const row = await this.repo(DeprecatedVerificationTokenRecord)
        .createQueryBuilder('deprecated')
        .select(['deprecated.id', 'deprecated.revoke_at'])
        .orderBy('deprecated.revoke_at', 'DESC')
        .limit(1)
        .getOne();
      return row?.revoke_at ?? null;
    });
  }

  /**
   * Asked once per store, as the email column is: an operator's database may predate LiteLLM's key
   * rotation, and then an unknown key must still be refused as unknown, not fail the Check. A failed
   * probe is asked again next time, and a missing table by each latestRevokeAt.
   */
  private hasDeprecatedKeysTable(): Promise<boolean> {
    this.deprecatedKeysTable ??= tableExists(this.dataSource, dialectOf(this.dataSource), DEPRECATED_KEYS_TABLE.name).catch((error: unknown) => {
      this.deprecatedKeysTable = null;
      throw error;
    });
    return this.deprecatedKeysTable;
  }

  /**
   * The key hash an active LiteLLM_JWTKeyMapping row maps (claim name, claim value) to
   * (`get_jwt_key_mapping_object`), by the unique (jwt_claim_name, jwt_claim_value) index. Compared
   * byte for byte as on LiteLLM's Postgres: a MySQL collation that matches another case or a
   * trailing space finds no mapping. Null without such a row, or without the table.
   */
  findJwtKeyMapping(claimName: string, claimValue: string): Promise<string | null> {
    return this.bounded('findJwtKeyMapping', async () => {
      if (!(await this.hasJwtKeyMappingTable())) return null;
      const rows = await this.repo(JwtKeyMappingRecord)
        .createQueryBuilder('mapping')
        .select(['mapping.id', 'mapping.jwt_claim_name', 'mapping.jwt_claim_value', 'mapping.token', 'mapping.is_active'])
        .where('mapping.jwt_claim_name = :claimName', { claimName })
        .andWhere('mapping.jwt_claim_value = :claimValue', { claimValue })
        .andWhere('mapping.is_active = :active', { active: true })
        .getMany();
      const row = rows.find((r) => r.jwt_claim_name === claimName && r.jwt_claim_value === claimValue && Boolean(r.is_active));
      return row === undefined || row.token === '' ? null : row.token;
    });
  }

  /**
   * A database whose LiteLLM schema predates the mapping holds no mapping: every token is then
   * unmapped (refused under `reject`, on the team path otherwise) instead of every JWT Check
   * failing as LiteLLM's would. A missing table is asked about again after a while, so one that
   * `tollgate migrate` creates while the server runs is seen; a failed probe, next time.
   */
  private hasJwtKeyMappingTable(): Promise<boolean> {
    const nowMs = this.now().getTime();
    const known = this.jwtKeyMappingTable;
    if (known !== null) {
      const stillAbsent = known.present.then((present) => !present && nowMs - known.askedAt >= MISSING_TABLE_RECHECK_MS);
      return stillAbsent.then((recheck) => (recheck ? this.probeJwtKeyMappingTable(nowMs) : known.present));
    }
    return this.probeJwtKeyMappingTable(nowMs);
  }

  private probeJwtKeyMappingTable(nowMs: number): Promise<boolean> {
    const present = tableExists(this.dataSource, dialectOf(this.dataSource), JWT_KEY_MAPPING_TABLE.name).catch((error: unknown) => {
      this.jwtKeyMappingTable = null;
      throw error;
    });
    this.jwtKeyMappingTable = { present, askedAt: nowMs };
    return present;
  }

  findTeam(teamId: string): Promise<Team | null> {
    return this.bounded('findTeam', async () => orNull(exactly(await this.teamLookup().find([teamId]), (t) => t.team_id === teamId), toTeam));
  }

  findMembership(userId: string, teamId: string): Promise<TeamMembership | null> {
    return this.bounded('findMembership', async () => orNull(
        exactly(await this.membershipLookup().find([userId, teamId]), (m) => m.user_id === userId && m.team_id === teamId),
        toTeamMembership,
      ));
  }

  findUser(userId: string): Promise<User | null> {
    return this.bounded('findUser', async () =>
      orNull(exactly(await this.withBudgetLimits('user', (withWindows) => this.userLookup(withWindows).find([userId])), (u) => u.user_id === userId), toUser),
    );
  }

  findEndUser(endUserId: string): Promise<EndUser | null> {
    return this.bounded('findEndUser', async () => {
      const row = await this.withBudgetLimits('end_user', (withWindows) => {
        const query = this.repo(EndUserRecord)
          .createQueryBuilder('end_user')
          .leftJoinAndSelect('end_user.litellm_budget_table', 'budget')
          .where('end_user.user_id = :endUserId', { endUserId });
        return (withWindows ? query.addSelect(`end_user.${BUDGET_LIMITS_COLUMN}`) : query).getOne();
      });
      return orNull(exactly(row, (r) => r.user_id === endUserId), toEndUser);
    });
  }

  /**
   * `read` with the `budget_limits` column of LiteLLM_UserTable or LiteLLM_EndUserTable (migration
   * 1764115900000; LiteLLM's older schema has neither), or without it where the table lacks it: its
   * rows then have no windows, instead of every lookup of a user or end user failing (a rolling
   * upgrade before `tollgate migrate`). Asked by reading it, so a migrated database pays nothing; a
   * missing column costs a second statement when first found missing, then is read without until
   * MISSING_TABLE_RECHECK_MS has passed, so one `tollgate migrate` adds while the server runs is read.
   */
  async withBudgetLimits<T>(table: BudgetLimitsTable, read: (withWindows: boolean) => Promise<T>): Promise<T> {
    const missingSince = this.budgetLimitsMissingSince[table];
    if (missingSince !== null && this.now().getTime() - missingSince < MISSING_TABLE_RECHECK_MS) return read(false);
    try {
      const found = await read(true);
      this.budgetLimitsMissingSince[table] = null;
      return found;
    } catch (error) {
      if (!isMissingBudgetLimitsColumn(error)) throw error;
      this.budgetLimitsMissingSince[table] = this.now().getTime();
      return read(false);
    }
  }

  /**
   * The candidates are the database's, then checked here as LiteLLM's Postgres compares: MariaDB's
   * collations also take `bob@x.io ` or `böb@x.io` for `bob@x.io`, which Postgres's case-insensitive
   * equality does not. SQLite's LOWER() folds ASCII only, so there an email beyond ASCII is checked
   * against every user's (the embedded store holds few; the answer is cached like any other).
   */
  findUserIdByEmail(email: string): Promise<string | null> {
    return this.bounded('findUserIdByEmail', async () => {
      const query = this.repo(UserRecord).createQueryBuilder('u').select('u.user_id', 'id').addSelect('u.user_email', 'email');
      const everyEmail = dialectOf(this.dataSource) === 'sqlite' && !isAscii(email);
      // The migrated index (user-email-index migration): on MySQL a generated column, which the query
      // must name; on SQLite an index on the expression, used for LOWER(user_email) as it stands.
      const lowered = (await this.hasLoweredEmailColumn()) ? `u.${USER_EMAIL_LOWER_COLUMN}` : 'LOWER(u.user_email)';
      const rows = await (everyEmail ? query.where('u.user_email IS NOT NULL') : query.where(`${lowered} = LOWER(:email)`, { email }))
        .orderBy('u.user_id')
        .getRawMany<{ id: string; email: string | null }>();
      const wanted = email.toLowerCase();
      return rows.find((row) => row.email?.toLowerCase() === wanted)?.id ?? null;
    });
  }

  /**
   * Whether LiteLLM_UserTable has the indexed lower-cased email column (MySQL/MariaDB with invisible
   * columns, after `tollgate migrate`): asked once per store; a failed probe is asked again next time.
   */
  private hasLoweredEmailColumn(): Promise<boolean> {
    if (dialectOf(this.dataSource) !== 'mysql') return Promise.resolve(false);
    this.loweredEmailColumn ??= mysqlColumnExists(this.dataSource, 'LiteLLM_UserTable', USER_EMAIL_LOWER_COLUMN).catch((error: unknown) => {
      this.loweredEmailColumn = null;
      throw error;
    });
    return this.loweredEmailColumn;
  }

  findOrganization(organizationId: string): Promise<Organization | null> {
    return this.bounded('findOrganization', async () => {
      const row = await this.repo(OrganizationRecord)
        .createQueryBuilder('org')
        .leftJoinAndSelect('org.litellm_budget_table', 'budget')
        .where('org.organization_id = :organizationId', { organizationId })
        .getOne();
      return orNull(exactly(row, (r) => r.organization_id === organizationId), toOrganization);
    });
  }

  findProject(projectId: string): Promise<Project | null> {
    return this.bounded('findProject', async () => {
      const row = await this.repo(ProjectRecord)
        .createQueryBuilder('project')
        .leftJoinAndSelect('project.litellm_budget_table', 'budget')
        .where('project.project_id = :projectId', { projectId })
        .getOne();
      return orNull(exactly(row, (r) => r.project_id === projectId), toProject);
    });
  }

  async findTags(names: readonly string[]): Promise<Tag[]> {
    if (names.length === 0) return [];
    return this.bounded('findTags', async () => {
      const rows = await this.repo(TagRecord)
        .createQueryBuilder('tag')
        .leftJoinAndSelect('tag.litellm_budget_table', 'budget')
        .where('tag.tag_name IN (:...names)', { names: distinct(names) })
        .orderBy('tag.tag_name')
        .getMany();
      return onlyAsked(rows, names, (r) => r.tag_name).map(toTag);
    });
  }

  async findAccessGroups(ids: readonly string[]): Promise<AccessGroup[]> {
    if (ids.length === 0) return [];
    return this.bounded('findAccessGroups', async () => {
      const rows = await this.repo(AccessGroupRecord)
        .createQueryBuilder('access_group')
        .where('access_group.access_group_id IN (:...ids)', { ids: distinct(ids) })
        .orderBy('access_group.access_group_id')
        .getMany();
      return onlyAsked(rows, ids, (r) => r.access_group_id).map(toAccessGroup);
    });
  }

  findBudget(budgetId: string): Promise<Budget | null> {
    return this.bounded('findBudget', async () => {
      const row = await this.repo(BudgetRecord)
        .createQueryBuilder('budget')
        .where('budget.budget_id = :budgetId', { budgetId })
        .getOne();
      return orNull(exactly(row, (r) => r.budget_id === budgetId), toBudget);
    });
  }

  async findObjectPermissions(ids: readonly string[]): Promise<ObjectPermission[]> {
    if (ids.length === 0) return [];
    return this.bounded('findObjectPermissions', async () => {
      const rows = await this.repo(ObjectPermissionRecord)
        .createQueryBuilder('permission')
        .where('permission.object_permission_id IN (:...ids)', { ids: distinct(ids) })
        .orderBy('permission.object_permission_id')
        .getMany();
      return onlyAsked(rows, ids, (r) => r.object_permission_id).map(toObjectPermission);
    });
  }

  findAgent(agentId: string): Promise<Agent | null> {
    return this.bounded('findAgent', async () => {
      const row = await this.repo(AgentRecord)
        .createQueryBuilder('agent')
        .where('agent.agent_id = :agentId', { agentId })
        .getOne();
      return orNull(exactly(row, (r) => r.agent_id === agentId), toAgent);
    });
  }

  globalSpend(): Promise<number> {
    return this.bounded('globalSpend', async () => {
      // The cut-off is computed here and bound as UTC text: the same comparison on MySQL
      // (string → DATETIME) and SQLite (TypeORM stores datetimes as sortable UTC text).
      const cutoff = toSqlUtc(globalSpendCutoff(this.now()));
      const row = await this.repo(SpendLogRecord)
        .createQueryBuilder('log')
        .select('COALESCE(SUM(log.spend), 0)', 'total')
        .where('log.startTime >= :cutoff', { cutoff })
        .getRawOne<{ total: number | string | null }>();
      const total = Number(row?.total ?? 0);
      return Number.isFinite(total) ? total : 0;
    });
  }

  /** The window's spend summed in full (refreshWindowSpend from nothing). */
  async windowSpend(entity: WindowEntity, entityId: string, window: WindowOfBudget): Promise<number> {
    return windowSpendTotal(await this.refreshWindowSpend(entity, entityId, window, null));
  }

  refreshWindowSpend(entity: WindowEntity, entityId: string, window: WindowOfBudget, previous: WindowSpend | null): Promise<WindowSpend | null> {
    return this.bounded('windowSpend', async () => {
      const now = this.now().getTime();
      const start = budgetWindowStart(window, now)?.getTime();
      if (start === undefined) return null;
      const refresh = planWindowRefresh(previous, start, now);
      const next = applyWindowSums(refresh, await this.sumWindow(entity, entityId, rangesOf(refresh)));
      if (next !== null) return next;
      // Less left than aged out: rows changed under the settled part, which is summed again.
      const full = fullRefresh(start, now);
      return applyWindowSums(full, await this.sumWindow(entity, entityId, rangesOf(full))) ?? wholeWindowSpend(0, now);
    });
  }

  /**
   * SpendCounterReseed.window_from_spend_logs, by ranges (spend/window-spend.ts): the key's rows by
   * api_key, the team's by team_id, the user's by `user` (the key owner LiteLLM writes there), the
   * end user's by end_user. One statement reading two ranges of the (column, startTime) index: what
   * aged out and everything from the old settled end on.
   */
  private async sumWindow(entity: WindowEntity, entityId: string, ranges: WindowSumRanges): Promise<WindowSums> {
    const column = WINDOW_SPEND_COLUMNS[entity];
    const aged = 'log.startTime >= :agedFrom AND log.startTime < :agedTo';
    const settled = 'log.startTime >= :settledFrom AND log.startTime < :settledTo';
    const row = await this.repo(SpendLogRecord)
      .createQueryBuilder('log')
      .select(`COALESCE(SUM(CASE WHEN ${aged} THEN log.spend ELSE 0 END), 0)`, 'aged')
      .addSelect(`COALESCE(SUM(CASE WHEN ${aged} THEN 1 ELSE 0 END), 0)`, 'agedRows')
      .addSelect(`COALESCE(SUM(CASE WHEN ${settled} THEN log.spend ELSE 0 END), 0)`, 'settled')
      .addSelect(`COALESCE(SUM(CASE WHEN ${settled} THEN 1 ELSE 0 END), 0)`, 'settledRows')
      .addSelect('COALESCE(SUM(CASE WHEN log.startTime >= :settledTo THEN log.spend ELSE 0 END), 0)', 'tail')
      .where(`${column} = :entityId`, { entityId })
      .andWhere(`((${aged}) OR log.startTime >= :settledFrom)`)
      .setParameters({
        agedFrom: toSqlUtc(new Date(ranges.agedFrom)),
        agedTo: toSqlUtc(new Date(ranges.agedTo)),
        settledFrom: toSqlUtc(new Date(ranges.settledFrom)),
        settledTo: toSqlUtc(new Date(ranges.settledTo)),
      })
      .getRawOne<Record<keyof WindowSums, number | string | null>>();
    const read = (field: keyof WindowSums): number => Number(row?.[field] ?? 0);
    return { aged: read('aged'), agedRows: read('agedRows'), settled: read('settled'), settledRows: read('settledRows'), tail: read('tail') };
  }

  ping(): Promise<void> {
    return this.bounded('ping', async () => {
      await this.dataSource.query('SELECT 1');
    });
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  private findKeys(tokenHashes: readonly string[]): Promise<ReadonlyMap<string, VirtualKey>> {
    return this.bounded('findKeys', () =>
      inChunks(tokenHashes, same, (chunk) => this.keyLookup().findMany(chunk), (key) => key.token, toVirtualKey),
    );
  }

  private findTeams(teamIds: readonly string[]): Promise<ReadonlyMap<string, Team>> {
    return this.bounded('findTeams', () =>
      inChunks(teamIds, same, (chunk) => this.teamLookup().findMany(chunk.map((id) => [id])), (team) => team.team_id, toTeam),
    );
  }

  private findUsers(userIds: readonly string[]): Promise<ReadonlyMap<string, User>> {
    return this.bounded('findUsers', () =>
      inChunks(
        userIds,
        same,
        (chunk) => this.withBudgetLimits('user', (withWindows) => this.userLookup(withWindows).findMany(chunk.map((id) => [id]))),
        (user) => user.user_id,
        toUser,
      ),
    );
  }

  private findMemberships(pairs: readonly (readonly [userId: string, teamId: string])[]): Promise<ReadonlyMap<string, TeamMembership>> {
    return this.bounded('findMemberships', () =>
      inChunks(
        pairs,
        ([userId, teamId]) => membershipId(userId, teamId),
        (chunk) => this.membershipLookup().findMany(chunk),
        (membership) => membershipId(membership.user_id, membership.team_id),
        toTeamMembership,
      ),
    );
  }

  private keyLookup(): PrimaryKeyLookup<VerificationTokenRecord> {
    return (this.keys ??= new PrimaryKeyLookup(this.dataSource, VerificationTokenRecord));
  }

  private teamLookup(): JoinedLookup<TeamRecord> {
    return (this.teams ??= new JoinedLookup(this.dataSource, TeamRecord, 'litellm_model_table', ['team_id']));
  }

  private membershipLookup(): JoinedLookup<TeamMembershipRecord> {
    return (this.memberships ??= new JoinedLookup(this.dataSource, TeamMembershipRecord, 'litellm_budget_table', ['user_id', 'team_id']));
  }

  /** The user lookup, with `budget_limits` or without it (withBudgetLimits). */
  private userLookup(withWindows: boolean): JoinedLookup<UserRecord> {
    if (withWindows) return (this.usersWithWindows ??= new JoinedLookup(this.dataSource, UserRecord, 'organization_memberships', ['user_id'], ['budget_limits']));
    return (this.users ??= new JoinedLookup(this.dataSource, UserRecord, 'organization_memberships', ['user_id']));
  }

  private repo<E extends ObjectLiteral>(entity: EntityTarget<E>): Repository<E> {
    return this.dataSource.getRepository(entity);
  }

  private bounded<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return withDeadline(operation, this.timeoutMs, work);
  }
}
