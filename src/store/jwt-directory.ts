/**
 * The lookups and writes only JWT identities need, beyond AuthStore's by-id reads:
 * LiteLLM's fallback user match (`_get_fuzzy_user_object`), alias lookups for
 * `team_alias_jwt_field` / `org_alias_jwt_field`, and the `user_id_upsert` / `team_id_upsert`
 * row creation. They run only when the cached by-id lookup misses, so they go straight to the
 * database, each bounded by `dbTimeoutMs` like every other statement; auto_register's registration,
 * several statements, is bounded by one `dbTimeoutMs` as a whole.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Team, User } from '../domain/entities';
import type { MaybePromise } from '../util/maybe-promise';
import { StoreTimeoutError, withDeadline } from './deadline';
import { dialectOf } from './dialect';
import { inTransaction } from './transactions';
import { JwtKeyMappingRecord, OrganizationRecord, TeamRecord, UserRecord, VerificationTokenRecord } from './entities';
import { newKeyMaterial } from './key-material';
import { toUser } from './to-domain';
import { TypeOrmAuthStore, type StoreSettings } from './typeorm-auth-store';
import { StoreInvariantError } from './invariant-error';
import { isDuplicateKey } from './duplicate-key';
import { StoreUnavailableError } from './unavailable';

/** A client auto_register makes a key for: its claim, and who the token was resolved to. */
export interface NewJwtClientKey {
  readonly claimName: string;
  readonly claimValue: string;
  readonly userId: string | null;
  readonly teamId: string | null;
  readonly organizationId: string | null;
}

/** mappingOf: the value is held only by rows the collation matches, not byte for byte. */
const TAKEN = Symbol('taken under the collation');

/**
 * A registration lost the race to another, whose mapping was gone again when read (deleted at
 * once): LiteLLM answers 503 so that the client retries, rather than deciding it another way.
 */
export class ClientRegistrationRaceError extends Error {
  constructor(claimName: string, claimValue: string) {
    super(`JWT Key Mapping: mapping for ${claimName}='${claimValue}' was concurrently removed. Please retry.`);
    this.name = 'ClientRegistrationRaceError';
  }
}

/**
 * auto_register's key and mapping could not be written (the transaction failed, and not on the
 * mapping's unique index). LiteLLM's `generate_key_helper_fn` turns any failure into
 * HTTPException(500), which its auth handler refuses: never the database outage that
 * `allow_requests_on_db_unavailable` would allow (as the proxy admin). Not a StoreUnavailableError
 * for that reason.
 */
export class ClientKeyCreationError extends Error {
  constructor(claimName: string, claimValue: string, cause: unknown) {
    super(`auto_register could not create the key for ${claimName}='${claimValue}'`, { cause });
    this.name = 'ClientKeyCreationError';
  }
}

/** Who the rows auto_register writes name as their creator. */
const AUTO_REGISTER_ACTOR = 'tollgate:auto_register';

export interface NewJwtUser {
  readonly userId: string;
  readonly email: string | null;
  /** From `litellm_settings.default_internal_user_params`. */
  readonly role: string | null;
  readonly maxBudget: number | null;
  readonly models: readonly string[];
}

/**
 * The reads answer at once where a cache remembers the answer (auth/jwt/directory-cache.ts), so
 * that a warm JWT caller named by alias or e-mail is decided without a promise; the writes always
 * go to the database.
 */
export interface JwtDirectory {
  /** A user whose `sso_user_id` is `ssoUserId`, else whose email matches case-insensitively. */
  findUserBySsoIdOrEmail(ssoUserId: string | null, email: string | null): MaybePromise<User | null>;
  /**
   * Creates the `LiteLLM_UserTable` row unless it exists; returns the row either way. Null when the
   * id cannot have a row of its own: another row's id equals it under the database's collation
   * (MariaDB ignores case and trailing spaces; LiteLLM's Postgres does not).
   */
  upsertUser(input: NewJwtUser): Promise<User | null>;
  /** Creates a bare `LiteLLM_TeamTable` row unless it exists; returns the row either way, or null as upsertUser. */
  upsertTeam(teamId: string): Promise<Team | null>;
  /** Ids of the teams with this alias (LiteLLM refuses 0 or several). */
  teamIdsWithAlias(alias: string): MaybePromise<readonly string[]>;
  /** Ids of the organizations with this alias. */
  organizationIdsWithAlias(alias: string): MaybePromise<readonly string[]>;
  /**
   * `unregistered_jwt_client_behavior: auto_register`: the key (hash) the claim value is mapped to,
   * creating the key and its LiteLLM_JWTKeyMapping row when it has none; the same answer to every
   * replica that races to register one client. Null when the value cannot be mapped: an inactive
   * row holds it, or a row whose value differs only as MariaDB's collation ignores.
   */
  registerClientKey(input: NewJwtClientKey): Promise<string | null>;
}

export class TypeOrmJwtDirectory implements JwtDirectory {
  private readonly reader: TypeOrmAuthStore;
  private readonly timeoutMs: number;

  constructor(
    private readonly dataSource: DataSource,
    settings: StoreSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.reader = new TypeOrmAuthStore(dataSource, settings);
    this.timeoutMs = settings.dbTimeoutMs;
  }

  /**
   * The match is the database's, then checked again here as LiteLLM's Postgres compares: MariaDB's
   * collations take 'alice ' (and an email's trailing spaces) for 'alice', and a row found so
   * would be cached under a spelling its own invalidation never names.
   */
  async findUserBySsoIdOrEmail(ssoUserId: string | null, email: string | null): Promise<User | null> {
    // With the user's multi-window budgets where the table has the column (TypeOrmAuthStore.withBudgetLimits).
    const users = (withWindows: boolean) => {
      const query = this.dataSource.getRepository(UserRecord).createQueryBuilder('u').leftJoinAndSelect('u.organization_memberships', 'om');
      return withWindows ? query.addSelect('u.budget_limits') : query;
    };
    if (ssoUserId !== null) {
      const bySso = await this.bounded('findUserBySsoId', () =>
        this.reader.withBudgetLimits('user', (withWindows) => users(withWindows).where('u.sso_user_id = :ssoUserId', { ssoUserId }).getOne()),
      );
      if (bySso !== null && bySso.sso_user_id === ssoUserId) return toUser(bySso);
    }
    if (email === null) return null;
    // LiteLLM: Prisma `mode: "insensitive"` (case only). LOWER() works the same on MySQL and SQLite.
    const byEmail = await this.bounded('findUserByEmail', () =>
      this.reader.withBudgetLimits('user', (withWindows) =>
        users(withWindows).where('LOWER(u.user_email) = LOWER(:email)', { email }).orderBy('u.user_id').getMany(),
      ),
    );
    const wanted = email.toLowerCase();
    const user = byEmail.find((u) => u.user_email?.toLowerCase() === wanted);
    return user === undefined ? null : toUser(user);
  }

  async upsertUser(input: NewJwtUser): Promise<User | null> {
    const existing = await this.reader.findUser(input.userId);
    if (existing !== null) return existing;
    const at = this.now();
    const created = await this.insertUnlessRaced(
      () =>
        // Without naming `budget_limits` where the table lacks it (TypeOrmAuthStore.withBudgetLimits).
        this.reader.withBudgetLimits('user', (withWindows) =>
          this.dataSource
            .createQueryBuilder()
            .insert()
            .into(UserRecord, withWindows ? undefined : columnsWithout(this.dataSource, UserRecord, 'budget_limits'))
            .values({
              user_id: input.userId,
              user_email: input.email,
              user_role: input.role,
              max_budget: input.maxBudget,
              spend: 0,
              models: [...input.models],
              metadata: {},
              teams: [],
              created_at: at,
              updated_at: at,
            })
            .execute(),
        ),
      () => this.reader.findUser(input.userId),
    );
    if (!created) return null;
    return this.mustRead(this.reader.findUser(input.userId), `user ${input.userId}`);
  }

  async upsertTeam(teamId: string): Promise<Team | null> {
    const existing = await this.reader.findTeam(teamId);
    if (existing !== null) return existing;
    const at = this.now();
    const created = await this.insertUnlessRaced(
      () =>
        this.dataSource.getRepository(TeamRecord).insert({
          team_id: teamId,
          spend: 0,
          models: [],
          blocked: false,
          metadata: {},
          members_with_roles: [],
          created_at: at,
          updated_at: at,
        }),
      () => this.reader.findTeam(teamId),
    );
    if (!created) return null;
    return this.mustRead(this.reader.findTeam(teamId), `team ${teamId}`);
  }

  /**
   * As LiteLLM's `_auto_register_jwt_mapping`: a key of the resolved user, team and organization,
   * with no budget, models or limits of its own (`generate_key_helper_fn`'s defaults) and
   * `metadata.auto_registered`, and the mapping of the claim value to it, in one transaction. The
   * raw key is never known to anyone: the token is the credential. A replica that loses the race
   * (the mapping's unique index) rolls its key back, where LiteLLM deletes it afterwards, and takes
   * the winner's.
   *
   * The read before, the transaction and the read after a lost race share one deadline,
   * `dbTimeoutMs` from the start: each bounded on its own, a slow database could hold a client's
   * first call for three of them, past the ext_authz timeout sized for one (docs/deploy.md). The
   * deadline running out in any of them is the registration's failure (500), never an outage.
   */
  async registerClientKey(input: NewJwtClientKey): Promise<string | null> {
    const registration = new RegistrationDeadline(this.timeoutMs);
    const failed = (error: unknown): unknown =>
      error instanceof StoreUnavailableError ? new ClientKeyCreationError(input.claimName, input.claimValue, error) : error;
    // LiteLLM goes straight to the writes: a failure of this read (the database away, or without
    // the table, which the Check's lookup reads as no mapping) is the registration's 500 too.
    const existing = await this.mappingOf(input.claimName, input.claimValue, registration).catch((error: unknown) => {
      throw failed(error);
    });
    if (existing === TAKEN) return null;
    if (existing !== undefined) return existing;
    const material = newKeyMaterial();
    const at = this.now();
    try {
      await registration.bound('registerClientKey', () =>
        inTransaction(this.dataSource, (manager) =>
          registration.lockWaitBounded(manager, async () => {
            await manager.insert(VerificationTokenRecord, {
              token: material.token,
              key_name: material.keyName,
              key_alias: null,
              user_id: input.userId,
              team_id: input.teamId,
              organization_id: input.organizationId,
              models: [],
              spend: 0,
              metadata: { auto_registered: true },
              allowed_routes: [],
              blocked: null,
              created_at: at,
              updated_at: at,
              created_by: AUTO_REGISTER_ACTOR,
              updated_by: AUTO_REGISTER_ACTOR,
            });
            await manager.insert(JwtKeyMappingRecord, {
              id: randomUUID(),
              jwt_claim_name: input.claimName,
              jwt_claim_value: input.claimValue,
              token: material.token,
              description: 'auto-registered on first use (unregistered_jwt_client_behavior: auto_register)',
              is_active: true,
              created_at: at,
              updated_at: at,
              created_by: AUTO_REGISTER_ACTOR,
              updated_by: AUTO_REGISTER_ACTOR,
            });
          }),
        ),
      );
      return material.token;
    } catch (error) {
      const duplicate = isDuplicateKey(error);
      // A write that failed otherwise (the database away or slow: LiteLLM's 500; a fault of our own,
      // never allowed) is answered by its own failure whether or not the winner can be read; a lost
      // race whose winner cannot be read is a read outage, as there, unless it is the
      // registration's deadline that ran out: LiteLLM has none, and a Check held that long by its
      // registration is refused, not allowed as the proxy admin.
      const winner = await this.mappingOf(input.claimName, input.claimValue, registration).catch((readError: unknown) => {
        if (!duplicate) return undefined;
        throw readError instanceof StoreTimeoutError ? failed(readError) : readError;
      });
      if (winner !== undefined && winner !== TAKEN) return winner;
      if (!duplicate) throw failed(error);
      // Taken under the collation by a value this one is not, byte for byte: it cannot have its own.
      if (winner === TAKEN) return null;
      // The winner's row went between its commit and this read (a delete): LiteLLM answers 503.
      throw new ClientRegistrationRaceError(input.claimName, input.claimValue);
    }
  }

  /**
   * The exact claim value's mapping: its key (null for an inactive row); TAKEN when only rows whose
   * value the collation takes for this one hold it; undefined for none.
   */
  private async mappingOf(claimName: string, claimValue: string, registration: RegistrationDeadline): Promise<string | null | typeof TAKEN | undefined> {
    const rows = await registration.bound('findJwtKeyMappingRow', () =>
      this.dataSource
        .getRepository(JwtKeyMappingRecord)
        .createQueryBuilder('m')
        .select(['m.id', 'm.jwt_claim_name', 'm.jwt_claim_value', 'm.token', 'm.is_active'])
        .where('m.jwt_claim_name = :claimName', { claimName })
        .andWhere('m.jwt_claim_value = :claimValue', { claimValue })
        .getMany(),
    );
    const row = rows.find((r) => r.jwt_claim_name === claimName && r.jwt_claim_value === claimValue);
    if (row === undefined) return rows.length > 0 ? TAKEN : undefined;
    return Boolean(row.is_active) && row.token !== '' ? row.token : null;
  }

  /** At most two (enough to refuse ambiguity), compared byte for byte as Postgres does. */
  async teamIdsWithAlias(alias: string): Promise<string[]> {
    const rows = await this.bounded('teamIdsWithAlias', () =>
      this.dataSource
        .getRepository(TeamRecord)
        .createQueryBuilder('t')
        .select('t.team_id', 'id')
        .addSelect('t.team_alias', 'alias')
        .where('t.team_alias = :alias', { alias })
        .getRawMany<{ id: string; alias: string }>(),
    );
    return idsNamed(rows, alias);
  }

  async organizationIdsWithAlias(alias: string): Promise<string[]> {
    const rows = await this.bounded('organizationIdsWithAlias', () =>
      this.dataSource
        .getRepository(OrganizationRecord)
        .createQueryBuilder('o')
        .select('o.organization_id', 'id')
        .addSelect('o.organization_alias', 'alias')
        .where('o.organization_alias = :alias', { alias })
        .getRawMany<{ id: string; alias: string }>(),
    );
    return idsNamed(rows, alias);
  }

  /**
   * Two Tollgate replicas may create the same row at once: the loser reads the winner's row. A taken
   * key with no row under the exact id is another row's id under the collation ('Research ' for
   * 'research'): false, as that id cannot be created. It is no outage, and must not be counted as
   * one (`allow_requests_on_db_unavailable` would allow the caller as the proxy admin).
   */
  private async insertUnlessRaced(insert: () => Promise<unknown>, existing: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.bounded('insert', insert);
      return true;
    } catch (error) {
      if ((await existing()) !== null) return true;
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  private async mustRead<T>(read: Promise<T | null>, what: string): Promise<T> {
    const row = await read;
    if (row === null) throw new StoreInvariantError(`${what} was written but cannot be read back`);
    return row;
  }

  private bounded<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return withDeadline(operation, this.timeoutMs, work);
  }
}

/**
 * One deadline for the several statements of a registration: each is bounded by what is left of
 * it, and one started with nothing left times out at once, without reaching the database.
 */
class RegistrationDeadline {
  private readonly endsAt: number;

  constructor(private readonly timeoutMs: number) {
    this.endsAt = performance.now() + timeoutMs;
  }

  bound<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const leftMs = Math.floor(this.endsAt - performance.now());
    if (leftMs <= 0) return Promise.reject(new StoreTimeoutError(operation, this.timeoutMs));
    return withDeadline(operation, leftMs, work);
  }

  /**
   * `work` in a MySQL transaction whose lock waits end about when the deadline does. The deadline
   * answers the client but stops nothing: the mapping's INSERT, waiting for the unique index's
   * lock another replica's open transaction holds, waited InnoDB's `innodb_lock_wait_timeout`
   * (50 s by default) with a pooled connection after the 500, one more for each retry of the
   * client, until the pool could serve no other Check. Whole seconds, at least 1, as InnoDB counts
   * them; the connection's own setting is put back before it returns to the pool.
   */
  async lockWaitBounded<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
    if (dialectOf(manager.connection) !== 'mysql') return work();
    const seconds = Math.max(1, Math.ceil((this.endsAt - performance.now()) / 1000));
    // Best effort: a MySQL-compatible server without the variable registers with its own lock wait.
    await manager.query('SET SESSION innodb_lock_wait_timeout = ?', [seconds]).catch(() => undefined);
    try {
      return await work();
    } finally {
      // A connection lost mid-transaction leaves no session to put back.
      await manager.query('SET SESSION innodb_lock_wait_timeout = DEFAULT').catch(() => undefined);
    }
  }
}

/** The ids of the rows whose alias is `alias` byte for byte (the collation matched more), two at most. */
function idsNamed(rows: readonly { id: string; alias: string }[], alias: string): string[] {
  return rows.filter((row) => row.alias === alias).slice(0, 2).map((row) => row.id);
}

/** The entity's inserted columns (property paths) but one: an INSERT naming only those. */
function columnsWithout(dataSource: DataSource, entity: EntityTarget<ObjectLiteral>, propertyName: string): string[] {
  return dataSource
    .getMetadata(entity)
    .columns.filter((column) => column.isInsert && !column.isVirtual && column.propertyName !== propertyName)
    .map((column) => column.propertyPath);
}
