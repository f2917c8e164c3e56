/**
 * Writes for the management commands (`tollgate key create`, `team create`, …).
 *
 * Rows are written as LiteLLM writes them (same columns, audit fields, a budget row per
 * organization, team model aliases in LiteLLM_ModelTable), so LiteLLM and Tollgate can share a
 * database. Every method returns what it wrote, read back through the same AuthStore the server
 * uses, so the CLI prints exactly what a check will see. All statements are parameterized.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type {
  Agent,
  Budget,
  EndUser,
  Json,
  JsonObject,
  Organization,
  Team,
  TeamMembership,
  User,
  VirtualKey,
} from '../domain/entities';
import {
  AdminInputError,
  budgetDurationColumns,
  ifGiven,
  requireAmount,
  requireBudgetLimits,
  requireDate,
  requireDuration,
  requireId,
  requireModelMaxBudget,
  requireRateLimit,
  requireRole,
  requireSomeChange,
  requireTeamMemberModelMaxBudget,
  requireTeamMemberRole,
  type EndUserChanges,
  type AgentChanges,
  type KeyChanges,
  type NewAgent,
  type NewBudget,
  type NewEndUser,
  type NewKey,
  type NewOrganization,
  type NewTeam,
  type NewUser,
  type OrganizationMemberId,
  type SpendKind,
  type TeamChanges,
  type TeamMemberChanges,
  type TeamMemberId,
  type UserChanges,
} from './admin-inputs';
import {
  AgentRecord,
  BudgetRecord,
  DeprecatedVerificationTokenRecord,
  EndUserRecord,
  JwtKeyMappingRecord,
  ModelTableRecord,
  OrganizationMembershipRecord,
  OrganizationRecord,
  ProjectRecord,
  TagRecord,
  TeamMembershipRecord,
  TeamRecord,
  UserRecord,
  VerificationTokenRecord,
} from './entities';
import { existsExactly, isExactly, mustBeFreeFor, mustExist, mustNotExist } from './admin-guards';
import { spendRow, type SpendTargetId, type SpendTargetKind } from './admin-spend';
import { asJsonObject, isJsonObject } from './json-values';
import { newKeyMaterial } from './key-material';
import { TypeOrmAuthStore, type StoreSettings } from './typeorm-auth-store';
import { StoreInvariantError } from './invariant-error';
import { isDuplicateKey } from './duplicate-key';
import { dialectOf } from './dialect';
import { inTransaction } from './transactions';
import { budgetResetAt } from '../spend/budget-window';
import { tableExists } from './migrations/ddl';
import { JWT_KEY_MAPPING_TABLE } from './migrations/1764115800000-jwt-key-mapping';

export * from './admin-inputs';

export interface AdminStoreOptions {
  /** Written to created_by / updated_by. */
  readonly actor?: string;
  readonly now?: () => Date;
}

export interface CreatedKey {
  /** The raw key, shown once; it is not stored anywhere. */
  readonly key: string;
  /** sha256 hex of `key`, the stored `LiteLLM_VerificationToken.token`. */
  readonly token: string;
  readonly virtualKey: VirtualKey;
}

export interface RegeneratedKey {
  /** The new raw key, shown once; it is not stored anywhere. */
  readonly key: string;
  /** sha256 hex of `key`: the key row's `token` from now on. */
  readonly token: string;
  /** The hash the row carried before. */
  readonly previousToken: string;
  /** Until when the previous key keeps working (its deprecated row), or null: refused at once. */
  readonly revokeAt: Date | null;
  readonly virtualKey: VirtualKey;
}

/** A LiteLLM_JWTKeyMapping row to write: the JWT claim (name and value as LiteLLM looks them up) → a key. */
export interface NewJwtKeyMapping {
  readonly claimName: string;
  readonly claimValue: string;
  /** sha256 hex of the key (`LiteLLM_VerificationToken.token`). */
  readonly token: string;
  readonly description?: string | null;
}

/** A mapping as written (the key named by its hash, which is no secret: `key info` shows it too). */
export interface JwtKeyMappingInfo {
  readonly id: string;
  readonly jwt_claim_name: string;
  readonly jwt_claim_value: string;
  readonly key_hash: string;
  readonly description: string | null;
  readonly is_active: boolean;
}

/** The columns are VARCHAR(255), as the other ids: longer values would be cut or refused by the driver. */
const MAX_CLAIM_LENGTH = 255;

function requireClaimPart(what: string, value: string): string {
  requireId(what, value);
  if (value.length > MAX_CLAIM_LENGTH) throw new AdminInputError(`${what} must be at most ${String(MAX_CLAIM_LENGTH)} characters`);
  return value;
}

export const DEFAULT_ACTOR = 'tollgate-cli';

/** `members_with_roles` plus one `{user_id, role: "user"}` entry, as LiteLLM's /team/member_add adds. */
function withTeamMember(membersWithRoles: unknown, userId: string, email: string | null): Json[] {
  // Prisma's default for the column is `{}`, yet LiteLLM stores a list in it.
  const members: Json[] = Array.isArray(membersWithRoles) ? (membersWithRoles as Json[]) : [];
  const present = members.some((m) => isJsonObject(m) && m.user_id === userId);
  return present ? members : [...members, { user_id: userId, user_email: email, role: 'user' }];
}

/** The user ids `members_with_roles` names, each once (entries without one, as LiteLLM's, skipped). */
function teamMemberUserIds(membersWithRoles: unknown): string[] {
  if (!Array.isArray(membersWithRoles)) return [];
  const ids = membersWithRoles.map((m: unknown) => (isJsonObject(m) && typeof m.user_id === 'string' ? m.user_id : null));
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

/** `members_with_roles` with the user's entries given `role` (LiteLLM's /team/member_update). */
function withMemberRole(membersWithRoles: unknown, userId: string, role: string): Json[] {
  const members: Json[] = Array.isArray(membersWithRoles) ? (membersWithRoles as Json[]) : [];
  return members.map((m) => (isJsonObject(m) && m.user_id === userId ? { ...m, role } : m));
}

/** The budget row settings a member's budget is made of: what a copy of a shared row keeps. */
type MemberBudgetSettings = Pick<
  BudgetRecord,
  'max_budget' | 'soft_budget' | 'max_parallel_requests' | 'tpm_limit' | 'rpm_limit' | 'model_max_budget' | 'budget_duration' | 'allowed_models'
>;

function memberBudgetSettingsOf(row: BudgetRecord): MemberBudgetSettings {
  const { max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget, budget_duration, allowed_models } = row;
  return { max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget, budget_duration, allowed_models: [...allowed_models] };
}

/** A new member budget row's settings before the amounts given are applied. */
const NO_BUDGET_SETTINGS: MemberBudgetSettings = {
  max_budget: null,
  soft_budget: null,
  max_parallel_requests: null,
  tpm_limit: null,
  rpm_limit: null,
  model_max_budget: null,
  budget_duration: null,
  allowed_models: [],
};

/** The settings `team update-member` writes to a member's budget row (LiteLLM's /team/member_update). */
type MemberBudgetAmounts = Partial<Pick<BudgetRecord, 'max_budget' | 'tpm_limit' | 'rpm_limit' | 'budget_duration' | 'allowed_models'>>;

/** The amounts given a value (null included: it clears one); those left out are kept. */
function givenAmounts(amounts: { readonly [K in keyof MemberBudgetAmounts]: MemberBudgetAmounts[K] | undefined }): MemberBudgetAmounts {
  return Object.fromEntries(Object.entries(amounts).filter(([, value]) => value !== undefined)) as MemberBudgetAmounts;
}

/**
 * Newer LiteLLM's `_has_meaningful_budget_limit`: whether the settings limit anything; without
 * any limit the member's budget row is unlinked rather than kept. As its `_is_set_budget_value`,
 * only null and an empty list (all models) count as unset: a per-model budget of `{}` is set.
 */
function limitsSomething(settings: MemberBudgetSettings): boolean {
  return Object.values(settings).some((value) => value !== null && !(Array.isArray(value) && value.length === 0));
}

/**
 * What `updateTeamMember` wrote: the member's entry in the team's `members_with_roles` as stored
 * now (null: the team does not list it), its membership (null: none), and the budget rows it
 * created or changed.
 */
export interface TeamMemberUpdate {
  readonly member: JsonObject | null;
  readonly membership: TeamMembership | null;
  readonly budgetIds: readonly string[];
}

/** The user's entry in `members_with_roles`, if it has one. */
function memberEntry(membersWithRoles: unknown, userId: string): JsonObject | null {
  if (!Array.isArray(membersWithRoles)) return null;
  const entry: unknown = membersWithRoles.find((m: unknown) => isJsonObject(m) && m.user_id === userId);
  return isJsonObject(entry) ? entry : null;
}

/** The tables besides LiteLLM_TeamMembership whose rows link a budget row by `budget_id`. */
const BUDGET_LINKING_TABLES = [VerificationTokenRecord, EndUserRecord, OrganizationRecord, OrganizationMembershipRecord, ProjectRecord, TagRecord] as const;

/** The team member budget row to create, if any (LiteLLM's `TeamMemberBudgetHandler.should_create_budget`). */
function requireTeamMemberBudget(input: NewTeam): NewBudget | null {
  const maxBudget = requireAmount('team member budget', input.teamMemberBudget);
  const duration = input.teamMemberBudgetDuration ?? null;
  if (maxBudget === null) {
    if (duration !== null) throw new AdminInputError('a team member budget duration needs a team member budget');
    return null;
  }
  return { maxBudget, budgetDuration: duration === null ? null : requireDuration('team member budget duration', duration) };
}

/**
 * The team's metadata: the given object with `team_member_model_max_budget` set. Either field
 * given both ways is refused rather than one silently winning; one given through `metadata` is
 * checked as the option is.
 */
function teamMetadata(input: Pick<NewTeam, 'metadata' | 'teamMemberBudget' | 'teamMemberModelMaxBudget'>): JsonObject {
  const metadata: JsonObject = { ...(input.metadata ?? {}) };
  if (input.teamMemberBudget !== undefined && input.teamMemberBudget !== null && Object.hasOwn(metadata, 'team_member_budget_id')) {
    throw new AdminInputError('metadata.team_member_budget_id and a team member budget: give one');
  }
  if (input.teamMemberModelMaxBudget !== undefined && Object.hasOwn(metadata, 'team_member_model_max_budget')) {
    throw new AdminInputError('metadata.team_member_model_max_budget and a team member model max budget: give one');
  }
  const given = input.teamMemberModelMaxBudget ?? metadata['team_member_model_max_budget'];
  const memberModelBudgets = requireTeamMemberModelMaxBudget('team member model max budget', given);
  if (memberModelBudgets !== null) metadata['team_member_model_max_budget'] = memberModelBudgets;
  return metadata;
}

/** LiteLLM's id for it: `team-<alias, spaces as ->-budget-<hex>`, or `team-budget-<hex>` without an alias. */
function teamMemberBudgetId(alias: string | null | undefined): string {
  const hex = randomUUID().replaceAll('-', '');
  return alias === undefined || alias === null ? `team-budget-${hex}` : `team-${alias.replaceAll(' ', '-')}-budget-${hex}`;
}

/** The rows a key names must exist (see admin-guards): the team, organization, project and budget row. */
async function requireKeyReferences(
  manager: EntityManager,
  input: Pick<KeyChanges, 'teamId' | 'organizationId' | 'projectId' | 'budgetId'> & { readonly agentId?: string | null },
): Promise<void> {
  if (input.agentId !== undefined && input.agentId !== null) {
    await mustExist(manager, AgentRecord, { agent_id: input.agentId }, `agent ${input.agentId}`);
  }
  if (input.teamId !== undefined && input.teamId !== null) {
    await mustExist(manager, TeamRecord, { team_id: input.teamId }, `team ${input.teamId}`);
  }
  if (input.organizationId !== undefined && input.organizationId !== null) {
    await mustExist(manager, OrganizationRecord, { organization_id: input.organizationId }, `organization ${input.organizationId}`);
  }
  if (input.projectId !== undefined && input.projectId !== null) {
    await mustExist(manager, ProjectRecord, { project_id: input.projectId }, `project ${input.projectId}`);
  }
  if (input.budgetId !== undefined && input.budgetId !== null) {
    await mustExist(manager, BudgetRecord, { budget_id: input.budgetId }, `budget ${input.budgetId}`);
  }
}

/**
 * The given columns of an `E` row only (TypeORM would otherwise be asked to write the ones left
 * out); null writes NULL, JSON columns included.
 */
function definedOnly<E>(columns: { readonly [K in keyof E]?: E[K] | null }): QueryDeepPartialEntity<E> {
  return Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined)) as QueryDeepPartialEntity<E>;
}

/** A list column's new value: a cleared list is an empty one (what LiteLLM stores for "none"). */
function listChange(value: readonly string[] | null | undefined): string[] | undefined {
  return ifGiven(value, (list) => [...(list ?? [])]);
}

/** Metadata fields the team options manage: `--metadata` keeps them unless it names them itself. */
const TEAM_OPTION_METADATA = ['team_member_budget_id', 'team_member_model_max_budget'] as const;

/**
 * The team's metadata after an update, or undefined when it does not change. `--metadata` replaces
 * the object (LiteLLM's /team/update), keeping what the team member options manage; those options,
 * and a given metadata naming their fields, are checked as `team create` checks them.
 */
function updatedTeamMetadata(existing: JsonObject, changes: TeamChanges): JsonObject | undefined {
  if (changes.metadata === undefined && changes.teamMemberModelMaxBudget === undefined) return undefined;
  if (changes.teamMemberModelMaxBudget === null && changes.metadata != null && Object.hasOwn(changes.metadata, 'team_member_model_max_budget')) {
    throw new AdminInputError('metadata.team_member_model_max_budget and a cleared team member model max budget: give one');
  }
  const given = teamMetadata({
    metadata: changes.metadata ?? undefined,
    teamMemberBudget: changes.teamMemberBudget,
    teamMemberModelMaxBudget: changes.teamMemberModelMaxBudget ?? undefined,
  });
  const kept: JsonObject = {};
  for (const field of TEAM_OPTION_METADATA) if (Object.hasOwn(existing, field)) kept[field] = existing[field] ?? null;
  const metadata: JsonObject = { ...(changes.metadata === undefined ? existing : kept), ...given };
  if (changes.teamMemberModelMaxBudget === null) delete metadata['team_member_model_max_budget'];
  return metadata;
}

export class AdminStore {
  private readonly reader: TypeOrmAuthStore;
  private readonly actor: string;
  private readonly now: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    settings: StoreSettings,
    options: AdminStoreOptions = {},
  ) {
    this.reader = new TypeOrmAuthStore(dataSource, settings);
    this.actor = options.actor ?? DEFAULT_ACTOR;
    this.now = options.now ?? (() => new Date());
  }

  /** LiteLLM's /budget/new: a row with a duration starts its window (`get_budget_reset_time`). */
  async createBudget(input: NewBudget = {}): Promise<Budget> {
    const budgetId = await this.dataSource.transaction((manager) => this.insertBudget(manager, input, this.now()));
    return this.readBack(this.reader.findBudget(budgetId), 'budget', budgetId);
  }

  async createOrganization(input: NewOrganization): Promise<Organization> {
    const organizationId = requireId('organization id', input.organizationId ?? randomUUID());
    requireId('organization alias', input.alias);
    await this.dataSource.transaction(async (manager) => {
      await mustNotExist(manager, OrganizationRecord, { organization_id: organizationId }, `organization ${organizationId}`);
      // LiteLLM requires a budget row per organization: the org's max_budget lives there.
      const budgetId = await this.insertBudget(manager, { maxBudget: input.maxBudget });
      await manager.insert(OrganizationRecord, {
        organization_id: organizationId,
        organization_alias: input.alias,
        budget_id: budgetId,
        models: [...(input.models ?? [])],
        metadata: input.metadata ?? {},
        spend: 0,
        model_spend: {},
        ...this.audit(),
      });
    });
    return this.readBack(this.reader.findOrganization(organizationId), 'organization', organizationId);
  }

  async createTeam(input: NewTeam = {}): Promise<Team> {
    const teamId = requireId('team id', input.teamId ?? randomUUID());
    const maxBudget = requireAmount('max budget', input.maxBudget);
    const softBudget = requireAmount('soft budget', input.softBudget);
    const modelMaxBudget = requireModelMaxBudget('model max budget', input.modelMaxBudget);
    const budgetLimits = requireBudgetLimits(input.budgetLimits);
    const memberBudget = requireTeamMemberBudget(input);
    const metadata = teamMetadata(input);
    await this.dataSource.transaction(async (manager) => {
      await mustNotExist(manager, TeamRecord, { team_id: teamId }, `team ${teamId}`);
      if (input.alias !== undefined && input.alias !== null) {
        // LiteLLM resolves JWT team aliases by alias and refuses ambiguous ones: keep them unique.
        await mustNotExist(manager, TeamRecord, { team_alias: input.alias }, `team alias ${input.alias}`);
      }
      if (input.organizationId !== undefined && input.organizationId !== null) {
        await mustExist(manager, OrganizationRecord, { organization_id: input.organizationId }, `organization ${input.organizationId}`);
      }
      let modelId: number | null = null;
      if (input.modelAliases !== undefined && Object.keys(input.modelAliases).length > 0) {
        const { created_at, created_by, updated_at, updated_by } = this.audit();
        const inserted = await manager.insert(ModelTableRecord, {
          aliases: { ...input.modelAliases },
          created_at,
          created_by,
          updated_at,
          updated_by,
        });
        modelId = Number(inserted.identifiers[0]?.id);
        if (!Number.isInteger(modelId)) throw new StoreInvariantError('LiteLLM_ModelTable insert returned no id');
      }
      if (memberBudget !== null) {
        // LiteLLM's TeamMemberBudgetHandler: a budget row of its own, named in the team's metadata,
        // written by its /budget/new, which starts the window (get_budget_reset_time) when a duration is given.
        metadata['team_member_budget_id'] = await this.insertBudget(manager, { ...memberBudget, budgetId: teamMemberBudgetId(input.alias) }, this.now());
      }
      const { created_at, updated_at } = this.audit();
      await manager.insert(TeamRecord, {
        team_id: teamId,
        team_alias: input.alias ?? null,
        organization_id: input.organizationId ?? null,
        max_budget: maxBudget,
        soft_budget: softBudget,
        spend: 0,
        models: [...(input.models ?? [])],
        blocked: input.blocked ?? false,
        metadata,
        members_with_roles: [],
        model_max_budget: modelMaxBudget ?? {},
        budget_limits: budgetLimits ?? undefined,
        tpm_limit: requireAmount('tpm limit', input.tpmLimit),
        rpm_limit: requireAmount('rpm limit', input.rpmLimit),
        model_id: modelId,
        created_at,
        updated_at,
      });
    });
    return this.readBack(this.reader.findTeam(teamId), 'team', teamId);
  }

  async createUser(input: NewUser): Promise<User> {
    const userId = requireId('user id', input.userId);
    const role = requireRole(input.role ?? 'internal_user');
    await this.dataSource.transaction(async (manager) => {
      await mustNotExist(manager, UserRecord, { user_id: userId }, `user ${userId}`);
      const { created_at, updated_at } = this.audit();
      await manager.insert(UserRecord, {
        user_id: userId,
        user_alias: input.alias ?? null,
        user_email: input.email ?? null,
        user_role: role,
        max_budget: requireAmount('max budget', input.maxBudget),
        spend: 0,
        models: [...(input.models ?? [])],
        metadata: input.metadata ?? {},
        teams: [],
        budget_limits: requireBudgetLimits(input.budgetLimits) ?? undefined,
        created_at,
        updated_at,
      });
    });
    return this.readBack(this.reader.findUser(userId), 'user', userId);
  }

  async createEndUser(input: NewEndUser): Promise<EndUser> {
    const userId = requireId('end user id', input.userId);
    const budgetLimits = requireBudgetLimits(input.budgetLimits);
    await this.dataSource.transaction(async (manager) => {
      await mustNotExist(manager, EndUserRecord, { user_id: userId }, `end user ${userId}`);
      let budgetId = input.budgetId ?? null;
      if (budgetId !== null) {
        await mustExist(manager, BudgetRecord, { budget_id: budgetId }, `budget ${budgetId}`);
      } else if (input.maxBudget !== undefined && input.maxBudget !== null) {
        budgetId = await this.insertBudget(manager, { maxBudget: input.maxBudget });
      }
      await manager.insert(EndUserRecord, {
        user_id: userId,
        alias: input.alias ?? null,
        spend: 0,
        budget_id: budgetId,
        blocked: false,
        budget_limits: budgetLimits ?? undefined,
      });
    });
    return this.readBack(this.reader.findEndUser(userId), 'end user', userId);
  }

  /**
   * An agent row as LiteLLM's /v1/agents writes it: its card holds its name; limits in their
   * columns; the trace-id requirement and the session caps in `litellm_params`.
   */
  async createAgent(input: NewAgent): Promise<Agent> {
    const agentId = requireId('agent id', input.agentId ?? randomUUID());
    const name = requireId('agent name', input.name);
    const params: JsonObject = {};
    if (input.requireTraceId === true) params.require_trace_id_on_calls_by_agent = true;
    const maxIterations = requireRateLimit('max iterations', input.maxIterations);
    if (maxIterations !== null) params.max_iterations = maxIterations;
    const maxBudgetPerSession = requireAmount('max budget per session', input.maxBudgetPerSession);
    if (maxBudgetPerSession !== null) params.max_budget_per_session = maxBudgetPerSession;
    const { created_at, created_by, updated_at, updated_by } = this.audit();
    await this.dataSource.transaction(async (manager) => {
      await mustNotExist(manager, AgentRecord, { agent_id: agentId }, `agent ${agentId}`);
      // LiteLLM keeps agent names unique (the table's unique index).
      await mustNotExist(manager, AgentRecord, { agent_name: name }, `an agent named ${name}`);
      await manager.insert(AgentRecord, {
        agent_id: agentId,
        agent_name: name,
        litellm_params: params,
        agent_card_params: { name },
        static_headers: {},
        extra_headers: [],
        agent_access_groups: [],
        object_permission_id: null,
        spend: 0,
        rpm_limit: requireRateLimit('rpm limit', input.rpmLimit),
        tpm_limit: requireRateLimit('tpm limit', input.tpmLimit),
        session_rpm_limit: requireRateLimit('session rpm limit', input.sessionRpmLimit),
        session_tpm_limit: requireRateLimit('session tpm limit', input.sessionTpmLimit),
        created_at,
        created_by: created_by ?? '',
        updated_at,
        updated_by: updated_by ?? '',
      });
    });
    return this.readBack(this.reader.findAgent(agentId), 'agent', agentId);
  }

  /**
   * The agent's limits and `litellm_params` settings named, the rest of its `litellm_params` kept
   * (LiteLLM's /v1/agents PATCH merges them); null clears a limit or removes a setting.
   */
  async updateAgent(agentId: string, changes: AgentChanges): Promise<Agent | null> {
    requireSomeChange(changes);
    const name = ifGiven(changes.name, (v) => requireId('agent name', v ?? ''));
    const maxIterations = ifGiven(changes.maxIterations, (v) => requireRateLimit('max iterations', v));
    const maxBudgetPerSession = ifGiven(changes.maxBudgetPerSession, (v) => requireAmount('max budget per session', v));
    const { updated_at, updated_by } = this.audit();
    const updated = await inTransaction(this.dataSource, async (manager) => {
      // Locked on MySQL, so that two updates merging litellm_params at once keep both settings
      // (on SQLite the transactions of one DataSource run one after another: store/transactions.ts).
      const row = await manager.findOne(AgentRecord, {
        where: { agent_id: agentId },
        ...(dialectOf(this.dataSource) === 'mysql' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
      if (row === null || row.agent_id !== agentId) return false;
      if (name !== undefined) await mustBeFreeFor(manager, AgentRecord, { agent_name: name }, (other) => other.agent_id === agentId, `an agent named ${name}`);
      const params: JsonObject = { ...(asJsonObject(row.litellm_params) ?? {}) };
      const set = (setting: string, value: Json | null | undefined): void => {
        if (value === undefined) return;
        if (value === null) delete params[setting];
        else params[setting] = value;
      };
      set('require_trace_id_on_calls_by_agent', ifGiven(changes.requireTraceId, (v) => (v === true ? true : null)));
      set('max_iterations', maxIterations);
      set('max_budget_per_session', maxBudgetPerSession);
      const columns = definedOnly<AgentRecord>({
        agent_name: name,
        rpm_limit: ifGiven(changes.rpmLimit, (v) => requireRateLimit('rpm limit', v)),
        tpm_limit: ifGiven(changes.tpmLimit, (v) => requireRateLimit('tpm limit', v)),
        session_rpm_limit: ifGiven(changes.sessionRpmLimit, (v) => requireRateLimit('session rpm limit', v)),
        session_tpm_limit: ifGiven(changes.sessionTpmLimit, (v) => requireRateLimit('session tpm limit', v)),
      });
      // The card holds the name too (createAgent): a rename left there would show the old one.
      const card = name === undefined ? {} : { agent_card_params: { ...(asJsonObject(row.agent_card_params) ?? {}), name } };
      await manager.update(AgentRecord, { agent_id: agentId }, { ...columns, ...card, litellm_params: params, updated_at, updated_by: updated_by ?? '' });
      return true;
    });
    return updated ? this.readBack(this.reader.findAgent(agentId), 'agent', agentId) : null;
  }

  async createKey(input: NewKey = {}): Promise<CreatedKey> {
    const material = newKeyMaterial();
    const expires = requireDate('expires', input.expires);
    const maxBudget = requireAmount('max budget', input.maxBudget);
    const modelMaxBudget = requireModelMaxBudget('model max budget', input.modelMaxBudget);
    const budgetLimits = requireBudgetLimits(input.budgetLimits);
    await this.dataSource.transaction(async (manager) => {
      await requireKeyReferences(manager, input);
      if (input.alias !== undefined && input.alias !== null) {
        // LiteLLM enforces unique key aliases (`_enforce_unique_key_alias`).
        await mustNotExist(manager, VerificationTokenRecord, { key_alias: input.alias }, `key alias ${input.alias}`);
      }
      await manager.insert(VerificationTokenRecord, {
        // Only the hash and the abbreviated display name are stored; never `material.key`.
        token: material.token,
        key_name: material.keyName,
        key_alias: input.alias ?? null,
        team_id: input.teamId ?? null,
        user_id: input.userId ?? null,
        organization_id: input.organizationId ?? null,
        project_id: input.projectId ?? null,
        budget_id: input.budgetId ?? null,
        models: [...(input.models ?? [])],
        max_budget: maxBudget,
        model_max_budget: modelMaxBudget ?? {},
        budget_limits: budgetLimits ?? undefined,
        spend: 0,
        expires,
        metadata: input.metadata ?? {},
        allowed_routes: [...(input.allowedRoutes ?? [])],
        blocked: null,
        agent_id: input.agentId ?? null,
        ...this.audit(),
      });
    });
    const virtualKey = await this.readBack(this.reader.findKey(material.token), 'key', material.keyName);
    return { key: material.key, token: material.token, virtualKey };
  }

  async setKeyBlocked(token: string, blocked: boolean): Promise<VirtualKey | null> {
    const { updated_at, updated_by } = this.audit();
    const keys = this.dataSource.getRepository(VerificationTokenRecord);
    // Only the row named exactly (see admin-guards): the servers would not see it under another spelling.
    if (!(await existsExactly(keys.manager, VerificationTokenRecord, { token }))) return null;
    await keys.update({ token }, { blocked, updated_at, updated_by });
    return this.reader.findKey(token);
  }

  async setTeamBlocked(teamId: string, blocked: boolean): Promise<Team | null> {
    const teams = this.dataSource.getRepository(TeamRecord);
    if (!(await existsExactly(teams.manager, TeamRecord, { team_id: teamId }))) return null;
    await teams.update({ team_id: teamId }, { blocked, updated_at: this.now() });
    return this.reader.findTeam(teamId);
  }

  /**
   * LiteLLM's /key/update: the columns named change, the others (spend, hash, …) stay. References
   * are checked as `createKey` checks them, a new alias must be free. Resolves null, writing
   * nothing, when there is no such key.
   */
  async updateKey(token: string, changes: KeyChanges): Promise<VirtualKey | null> {
    requireSomeChange(changes);
    const { updated_at, updated_by } = this.audit();
    const columns = definedOnly<VerificationTokenRecord>({
      team_id: changes.teamId,
      user_id: changes.userId,
      organization_id: changes.organizationId,
      project_id: changes.projectId,
      budget_id: changes.budgetId,
      key_alias: changes.alias,
      models: listChange(changes.models),
      max_budget: ifGiven(changes.maxBudget, (v) => requireAmount('max budget', v)),
      expires: ifGiven(changes.expires, (v) => requireDate('expires', v)),
      allowed_routes: listChange(changes.allowedRoutes),
      metadata: ifGiven(changes.metadata, (v) => v ?? {}),
      model_max_budget: ifGiven(changes.modelMaxBudget, (v) => requireModelMaxBudget('model max budget', v) ?? {}),
      budget_limits: ifGiven(changes.budgetLimits, (v) => requireBudgetLimits(v)),
      tpm_limit: ifGiven(changes.tpmLimit, (v) => requireRateLimit('tpm limit', v)),
      rpm_limit: ifGiven(changes.rpmLimit, (v) => requireRateLimit('rpm limit', v)),
      agent_id: changes.agentId,
      ...budgetDurationColumns(changes.budgetDuration, updated_at),
    });
    const updated = await this.dataSource.transaction(async (manager) => {
      if (!(await existsExactly(manager, VerificationTokenRecord, { token }))) return false;
      await requireKeyReferences(manager, changes);
      if (changes.alias !== undefined && changes.alias !== null) {
        await mustBeFreeFor(manager, VerificationTokenRecord, { key_alias: changes.alias }, (row) => row.token === token, `key alias ${changes.alias}`);
      }
      await manager.update(VerificationTokenRecord, { token }, { ...columns, updated_at, updated_by });
      return true;
    });
    return updated ? this.readBack(this.reader.findKey(token), 'key', token) : null;
  }

  /**
   * LiteLLM's /team/update. A team member budget (`teamMemberBudget`, its duration) changes the
   * budget row named in `metadata.team_member_budget_id`, or creates one and names it there when
   * there is none (LiteLLM's `upsert_team_member_budget_table`). Resolves null, writing nothing,
   * when there is no such team.
   */
  async updateTeam(teamId: string, changes: TeamChanges): Promise<Team | null> {
    return (await this.updateTeamAndMemberships(teamId, changes))?.team ?? null;
  }

  /**
   * `updateTeam`, also naming the members whose membership rows it wrote: a team member budget set
   * by the update (a value, not `none`) links the members without one to the default row, as
   * newer LiteLLM's /team/update does.
   */
  async updateTeamAndMemberships(teamId: string, changes: TeamChanges): Promise<{ readonly team: Team; readonly memberships: readonly string[] } | null> {
    requireSomeChange(changes);
    const now = this.now();
    const columns = definedOnly<TeamRecord>({
      team_alias: changes.alias,
      organization_id: changes.organizationId,
      max_budget: ifGiven(changes.maxBudget, (v) => requireAmount('max budget', v)),
      soft_budget: ifGiven(changes.softBudget, (v) => requireAmount('soft budget', v)),
      models: listChange(changes.models),
      model_max_budget: ifGiven(changes.modelMaxBudget, (v) => requireModelMaxBudget('model max budget', v) ?? {}),
      budget_limits: ifGiven(changes.budgetLimits, (v) => requireBudgetLimits(v)),
      tpm_limit: ifGiven(changes.tpmLimit, (v) => requireRateLimit('tpm limit', v)),
      rpm_limit: ifGiven(changes.rpmLimit, (v) => requireRateLimit('rpm limit', v)),
      ...budgetDurationColumns(changes.budgetDuration, now),
    });
    const updated = await inTransaction(this.dataSource, async (manager) => {
      const team = await this.lockedTeam(manager, teamId);
      if (team === null || team.team_id !== teamId) return false;
      if (changes.alias !== undefined && changes.alias !== null) {
        await mustBeFreeFor(manager, TeamRecord, { team_alias: changes.alias }, (row) => row.team_id === teamId, `team alias ${changes.alias}`);
      }
      if (changes.organizationId !== undefined && changes.organizationId !== null) {
        await mustExist(manager, OrganizationRecord, { organization_id: changes.organizationId }, `organization ${changes.organizationId}`);
      }
      const existing = asJsonObject(team.metadata);
      let metadata = updatedTeamMetadata(existing, changes);
      const createdBudgetId = await this.changeTeamMemberBudget(manager, metadata ?? existing, changes, changes.alias ?? team.team_alias);
      if (createdBudgetId !== null) metadata = { ...(metadata ?? existing), team_member_budget_id: createdBudgetId };
      await manager.update(TeamRecord, { team_id: teamId }, { ...columns, ...definedOnly<TeamRecord>({ metadata }), updated_at: now });
      // LiteLLM's should_create_budget: some member budget setting given a value.
      const setsMemberBudget = [changes.teamMemberBudget, changes.teamMemberBudgetDuration].some((v) => v !== undefined && v !== null);
      const defaultId = (metadata ?? existing)['team_member_budget_id'];
      return setsMemberBudget && typeof defaultId === 'string' ? this.linkMembersToDefaultBudget(manager, team, defaultId) : [];
    });
    if (updated === false) return null;
    return { team: await this.readBack(this.reader.findTeam(teamId), 'team', teamId), memberships: updated };
  }

  /**
   * Applies `teamMemberBudget` / `teamMemberBudgetDuration` to the budget row the metadata names;
   * resolves the id of a row it had to create for them, else null.
   */
  private async changeTeamMemberBudget(manager: EntityManager, metadata: JsonObject, changes: TeamChanges, alias: string | null | undefined): Promise<string | null> {
    const { teamMemberBudget, teamMemberBudgetDuration } = changes;
    if (teamMemberBudget === undefined && teamMemberBudgetDuration === undefined) return null;
    const named = metadata['team_member_budget_id'];
    if (typeof named === 'string' && (await existsExactly(manager, BudgetRecord, { budget_id: named }))) {
      const { updated_at, updated_by } = this.audit();
      await manager.update(
        BudgetRecord,
        { budget_id: named },
        {
          ...definedOnly<BudgetRecord>({
            max_budget: ifGiven(teamMemberBudget, (v) => requireAmount('team member budget', v)),
            ...budgetDurationColumns(ifGiven(teamMemberBudgetDuration, (v) => (v === null ? null : requireDuration('team member budget duration', v))), updated_at),
          }),
          updated_at,
          updated_by,
        },
      );
      return null;
    }
    // No row yet: created as `team create` creates it; clearing what does not exist changes nothing.
    if (teamMemberBudget === null || (teamMemberBudget === undefined && teamMemberBudgetDuration === null)) return null;
    const memberBudget = requireTeamMemberBudget({ teamMemberBudget, teamMemberBudgetDuration });
    if (memberBudget === null) return null;
    return this.insertBudget(manager, { ...memberBudget, budgetId: teamMemberBudgetId(alias) }, this.now());
  }

  /**
   * Newer LiteLLM's `_clone_team_default_budget_for_member`: a new budget row with the default
   * member budget's settings, its window starting now. Resolves null when the team names no default
   * or its row is gone (LiteLLM then links no budget).
   */
  private async copyTeamMemberBudget(manager: EntityManager, team: TeamRecord): Promise<string | null> {
    const source = await this.teamDefaultMemberBudget(manager, team);
    if (source === null) return null;
    const budgetId = randomUUID();
    const audit = this.audit();
    await manager.insert(BudgetRecord, {
      budget_id: budgetId,
      max_budget: source.max_budget,
      soft_budget: source.soft_budget,
      max_parallel_requests: source.max_parallel_requests,
      tpm_limit: source.tpm_limit,
      rpm_limit: source.rpm_limit,
      // LiteLLM copies only the settings that are set: an unset one keeps the column's default.
      ...(isJsonObject(source.model_max_budget) ? { model_max_budget: source.model_max_budget } : {}),
      allowed_models: [...source.allowed_models],
      budget_duration: source.budget_duration,
      // A copied `2mo` starts no window: LiteLLM's copy raises there, and a copy is no place to refuse it.
      budget_reset_at: source.budget_duration === null ? null : budgetResetAt(source.budget_duration, audit.created_at.getTime()),
      ...audit,
    });
    return budgetId;
  }

  /** The team's default member budget row (`metadata.team_member_budget_id`), if it names one that exists. */
  private async teamDefaultMemberBudget(manager: EntityManager, team: TeamRecord): Promise<BudgetRecord | null> {
    const defaultId = asJsonObject(team.metadata)['team_member_budget_id'];
    if (typeof defaultId !== 'string') return null;
    const source = await manager.findOneBy(BudgetRecord, { budget_id: defaultId });
    return source !== null && isExactly(source, { budget_id: defaultId }) ? source : null;
  }

  /**
   * Newer LiteLLM's `backfill_team_member_budget_entries`, run by /team/update when it sets a team
   * member budget: every member in `members_with_roles` without a membership row gets one linked to
   * the default row itself (not a copy), and the team's memberships without a budget are linked to
   * it; memberships with a budget of their own are left alone. Resolves the user ids of the
   * memberships written.
   */
  private async linkMembersToDefaultBudget(manager: EntityManager, team: TeamRecord, defaultId: string): Promise<string[]> {
    const memberIds = teamMemberUserIds(team.members_with_roles);
    // LiteLLM returns before touching any row when the team lists no members.
    if (memberIds.length === 0) return [];
    // A default the metadata names but no row holds (`none` for the budget, with a duration, leaves
    // it so): linked to it, the memberships would hold a dangling budget id, and a later default
    // would skip them as members with a budget of their own. LiteLLM refuses such an update.
    if (!(await existsExactly(manager, BudgetRecord, { budget_id: defaultId }))) return [];
    const teamId = team.team_id;
    const rows = (await manager.findBy(TeamMembershipRecord, { team_id: teamId })).filter((row) => row.team_id === teamId);
    const present = new Set(rows.map((row) => row.user_id));
    const written: string[] = [];
    for (const userId of memberIds) {
      if (present.has(userId)) continue;
      present.add(userId);
      // A row the collation takes for this one (another spelling, on MySQL) would refuse the insert;
      // LiteLLM's create_many skips such duplicates.
      if ((await manager.findOneBy(TeamMembershipRecord, { user_id: userId, team_id: teamId })) !== null) continue;
      await manager.insert(TeamMembershipRecord, { user_id: userId, team_id: teamId, spend: 0, total_spend: 0, budget_id: defaultId });
      written.push(userId);
    }
    for (const row of rows) {
      if (row.budget_id !== null) continue;
      await manager.update(TeamMembershipRecord, { user_id: row.user_id, team_id: teamId }, { budget_id: defaultId });
      written.push(row.user_id);
    }
    return written;
  }

  /**
   * The team row, locked on MySQL until the transaction ends. The writes that read it and write
   * back `members_with_roles`, its metadata or the memberships they derive from them take it
   * first: made at once, they would otherwise lose each other's members, or insert one membership
   * (or default member budget row) twice. Taken before any plain read, it also makes MySQL's
   * snapshot (made at a transaction's first plain read, not at a locking one) start after the
   * previous holder committed. On SQLite `inTransaction` runs such transactions one after another
   * within a process; across processes (two `tollgate` commands at once) the database's one write
   * lock orders them, taken here before the read: a transaction that read first and wrote after
   * another process's commit would fail ("database is locked", its snapshot stale), where one that
   * writes first waits for the lock and then reads what the other wrote.
   */
  private async lockedTeam(manager: EntityManager, teamId: string): Promise<TeamRecord | null> {
    if (dialectOf(this.dataSource) === 'sqlite') {
      await manager.query('UPDATE "LiteLLM_TeamTable" SET "team_id" = "team_id" WHERE "team_id" = ?', [teamId]);
    }
    return manager.findOne(TeamRecord, { where: { team_id: teamId }, ...this.forUpdate() });
  }

  /** SELECT … FOR UPDATE on MySQL; nothing on SQLite, which has no row locks (see `lockedTeam`). */
  private forUpdate(): { lock?: { mode: 'pessimistic_write' } } {
    return dialectOf(this.dataSource) === 'mysql' ? { lock: { mode: 'pessimistic_write' } } : {};
  }

  /** The id of the team's default member budget row (`metadata.team_member_budget_id`), if it names one. */
  async teamMemberBudgetIdOf(teamId: string): Promise<string | null> {
    const id = (await this.reader.findTeam(teamId))?.metadata['team_member_budget_id'];
    return typeof id === 'string' ? id : null;
  }

  /** The user's email as stored, if any: a changed email's old answer must be announced too. */
  async userEmailOf(userId: string): Promise<string | null> {
    return (await this.reader.findUser(userId))?.user_email ?? null;
  }

  /** LiteLLM's /user/update. Resolves null, writing nothing, when there is no such user. */
  async updateUser(userId: string, changes: UserChanges): Promise<User | null> {
    requireSomeChange(changes);
    const now = this.now();
    const columns = definedOnly<UserRecord>({
      user_alias: changes.alias,
      user_email: changes.email,
      user_role: ifGiven(changes.role, (v) => (v === null ? null : requireRole(v))),
      max_budget: ifGiven(changes.maxBudget, (v) => requireAmount('max budget', v)),
      models: listChange(changes.models),
      metadata: ifGiven(changes.metadata, (v) => v ?? {}),
      budget_limits: ifGiven(changes.budgetLimits, (v) => requireBudgetLimits(v)),
      tpm_limit: ifGiven(changes.tpmLimit, (v) => requireRateLimit('tpm limit', v)),
      rpm_limit: ifGiven(changes.rpmLimit, (v) => requireRateLimit('rpm limit', v)),
      ...budgetDurationColumns(changes.budgetDuration, now),
    });
    const updated = await this.dataSource.transaction(async (manager) => {
      if (!(await existsExactly(manager, UserRecord, { user_id: userId }))) return false;
      await manager.update(UserRecord, { user_id: userId }, { ...columns, updated_at: now });
      return true;
    });
    return updated ? this.readBack(this.reader.findUser(userId), 'user', userId) : null;
  }

  /**
   * LiteLLM's /customer/update: `budgetId` relinks the end user to an existing budget row; its
   * budget settings (`maxBudget`, tpm / rpm limits, budget duration) change the row it is linked to
   * (every end user linked to that row sees them, as in LiteLLM), or, without one, a new row
   * created for it, as `createEndUser` creates one. Both at once are refused. Resolves null,
   * writing nothing, when there is no such end user.
   */
  async updateEndUser(userId: string, changes: EndUserChanges): Promise<EndUser | null> {
    requireSomeChange(changes);
    const settings = {
      max_budget: ifGiven(changes.maxBudget, (v) => requireAmount('max budget', v)),
      tpm_limit: ifGiven(changes.tpmLimit, (v) => requireRateLimit('tpm limit', v)),
      rpm_limit: ifGiven(changes.rpmLimit, (v) => requireRateLimit('rpm limit', v)),
      ...budgetDurationColumns(changes.budgetDuration, this.now()),
    };
    const budgetSettings = definedOnly<BudgetRecord>(settings);
    const changesBudgetRow = Object.keys(budgetSettings).length > 0;
    if (changes.budgetId !== undefined && changesBudgetRow) {
      throw new AdminInputError('a budget id and budget settings: give one (the settings change the budget row the end user is linked to)');
    }
    const columns = {
      alias: changes.alias,
      budget_id: changes.budgetId,
      budget_limits: ifGiven(changes.budgetLimits, (v) => requireBudgetLimits(v)),
    };
    const updated = await this.dataSource.transaction(async (manager) => {
      const endUser = await manager.findOneBy(EndUserRecord, { user_id: userId });
      if (endUser === null || endUser.user_id !== userId) return false;
      if (changes.budgetId !== undefined && changes.budgetId !== null) {
        await mustExist(manager, BudgetRecord, { budget_id: changes.budgetId }, `budget ${changes.budgetId}`);
      }
      const linked = endUser.budget_id;
      if (changesBudgetRow && linked !== null && (await existsExactly(manager, BudgetRecord, { budget_id: linked }))) {
        const { updated_at, updated_by } = this.audit();
        await manager.update(BudgetRecord, { budget_id: linked }, { ...budgetSettings, updated_at, updated_by });
      } else if (Object.values(budgetSettings).some((value) => value !== null)) {
        // No row to change: one of its own, holding what was given (a cleared setting is its default).
        columns.budget_id = await this.insertBudget(
          manager,
          { maxBudget: settings.max_budget, tpmLimit: settings.tpm_limit, rpmLimit: settings.rpm_limit, budgetDuration: settings.budget_duration },
          this.now(),
        );
      }
      const endUserColumns = definedOnly<EndUserRecord>(columns);
      if (Object.keys(endUserColumns).length > 0) await manager.update(EndUserRecord, { user_id: userId }, endUserColumns);
      return true;
    });
    return updated ? this.readBack(this.reader.findEndUser(userId), 'end user', userId) : null;
  }

  /**
   * The end user's budget row and every end user linked to it: what a change of that row's
   * settings must announce (each end user is cached with its budget row joined).
   */
  async endUserBudgetScope(userId: string): Promise<{ readonly budgetId: string | null; readonly endUserIds: readonly string[] }> {
    const endUsers = this.dataSource.getRepository(EndUserRecord);
    const own = (await endUsers.findBy({ user_id: userId })).find((row) => row.user_id === userId);
    const budgetId = own?.budget_id ?? null;
    if (budgetId === null) return { budgetId, endUserIds: [userId] };
    const sharing = (await endUsers.findBy({ budget_id: budgetId })).filter((row) => row.budget_id === budgetId).map((row) => row.user_id);
    return { budgetId, endUserIds: [...new Set([userId, ...sharing])] };
  }

  /** Overwrites a spend counter (tests, corrections). Resolves false when no such row exists. */
  setSpend(kind: SpendKind, id: string, spend: number): Promise<boolean>;
  setSpend(kind: 'team_membership', id: TeamMemberId, spend: number): Promise<boolean>;
  setSpend(kind: 'organization_membership', id: OrganizationMemberId, spend: number): Promise<boolean>;
  async setSpend(kind: SpendTargetKind, id: SpendTargetId, spend: number): Promise<boolean> {
    const value = requireAmount('spend', spend, { allowNegative: true }) ?? 0;
    const row = spendRow(kind, id);
    const repository = this.dataSource.getRepository(row.entity);
    // Only the row named exactly (see admin-guards): the servers would not see it under another spelling.
    if (!(await existsExactly(repository.manager, row.entity, { ...row.where }))) return false;
    const result = await repository.update({ ...row.where }, { spend: value });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Adds a user to a team as newer LiteLLM's /team/member_add does: a `members_with_roles` entry,
   * the team in the user's `teams`, and a LiteLLM_TeamMembership row only when the member gets a
   * budget (`add_new_member`): the `budgetId` given, else its own copy of the team's default member
   * budget (`metadata.team_member_budget_id`); with neither, no row (the checks then hold the member
   * to the team's default, if any, as they hold a member without a row). A user already listed in
   * `members_with_roles` is refused, as LiteLLM's `team_member_add_duplication_check` refuses it;
   * `updateTeamMember` changes a member's budget. Adds to one team made at once take effect one
   * after another (`lockedTeam`), so only the first of a repeat add made at once succeeds. Resolves
   * the membership, or null when there is none.
   */
  async addTeamMember(userId: string, teamId: string, budgetId?: string): Promise<TeamMembership | null> {
    requireId('user id', userId);
    const hasMembership = await inTransaction(this.dataSource, async (manager) => {
      const team = await this.lockedTeam(manager, teamId);
      if (team === null || team.team_id !== teamId) throw new AdminInputError(`team ${teamId} does not exist`);
      if (teamMemberUserIds(team.members_with_roles).includes(userId)) {
        throw new AdminInputError(`user ${userId} is already in team ${teamId} (LiteLLM: "User already in team"); to change its budget: team update-member`);
      }
      if (budgetId !== undefined) await mustExist(manager, BudgetRecord, { budget_id: budgetId }, `budget ${budgetId}`);
      const found = await manager.findOneBy(UserRecord, { user_id: userId });
      // A user stored under another spelling is another user to the servers (see admin-guards).
      if (found !== null && found.user_id !== userId) throw new AdminInputError(`user ${userId} is stored as ${JSON.stringify(found.user_id)}`);
      await manager.update(
        TeamRecord,
        { team_id: teamId },
        { members_with_roles: withTeamMember(team.members_with_roles, userId, found?.user_email ?? null), updated_at: this.now() },
      );
      const existing = await manager.findOneBy(TeamMembershipRecord, { user_id: userId, team_id: teamId });
      if (existing !== null && !isExactly(existing, { user_id: userId, team_id: teamId })) {
        throw new AdminInputError(`the membership of ${userId} in ${teamId} is stored under another spelling`);
      }
      // A row the team does not list (written by another tool): LiteLLM's add_new_member inserts a
      // membership row whenever the member gets a budget (`--budget`, or a copy of the team's
      // default), and that insert fails on the row there; without a budget it writes none, and the
      // row is kept as it is.
      if (existing !== null && (budgetId !== undefined || (await this.teamDefaultMemberBudget(manager, team)) !== null)) {
        throw new AdminInputError(
          `user ${userId} already has a membership row in team ${teamId} that the team does not list, and adding it would write another ` +
            '(LiteLLM fails on it); to change its budget: team update-member',
        );
      }
      // LiteLLM's add_new_member: without a budget of its own, a new member gets a copy of the team's
      // default member budget row (rpm / tpm included: its limiter reads the membership's row only).
      const linked = existing !== null ? null : (budgetId ?? (await this.copyTeamMemberBudget(manager, team)));
      if (linked !== null) {
        await manager.insert(TeamMembershipRecord, { user_id: userId, team_id: teamId, spend: 0, total_spend: 0, budget_id: linked });
      }
      await this.addTeamToUser(manager, userId, teamId);
      return existing !== null || linked !== null;
    });
    return hasMembership ? this.readBack(this.reader.findMembership(userId, teamId), 'team membership', `${userId} in ${teamId}`) : null;
  }

  /**
   * LiteLLM's /team/member_update. Budget amounts (`maxBudgetInTeam`, `tpmLimit`, `rpmLimit`,
   * `budgetDuration`, which sets `budget_reset_at` as LiteLLM's `get_budget_reset_time` does, and `allowedModels`, what the team
   * member model access check reads; null clears one, one left out is kept) are written to the
   * member's own budget row, as newer
   * LiteLLM's `_upsert_budget_and_membership` merge-patches it: a row of its own is changed in
   * place; a row others link too (the team's default member budget, another membership, a key, an
   * end user, …) is left alone and the member gets a copy of it with the amounts applied, its
   * window kept; no row gives a new one. Amounts that leave the row limiting nothing unlink it
   * instead. `budgetId` (Tollgate's own, not with amounts) links the membership to an existing row,
   * or to none, writing no budget row. `role` sets the member's entry in `members_with_roles` (what
   * LiteLLM's team admin checks read; the legacy `admins` column, which LiteLLM no longer reads or
   * writes there, is left alone). A membership row is created when the member gets a budget and
   * has none. Refuses a user the team neither lists nor has a membership row for (newer LiteLLM:
   * "User not found in team"), and a role for one it does not list (LiteLLM would change nothing).
   * Resolves the member's `members_with_roles` entry, the membership (null when there is none) and
   * the budget rows written.
   */
  async updateTeamMember(userId: string, teamId: string, changes: TeamMemberChanges): Promise<TeamMemberUpdate> {
    requireId('user id', userId);
    requireSomeChange(changes);
    const amounts = givenAmounts({
      max_budget: ifGiven(changes.maxBudgetInTeam, (v) => requireAmount('max budget in team', v)),
      tpm_limit: ifGiven(changes.tpmLimit, (v) => requireRateLimit('tpm limit', v)),
      rpm_limit: ifGiven(changes.rpmLimit, (v) => requireRateLimit('rpm limit', v)),
      budget_duration: ifGiven(changes.budgetDuration, (v) => (v === null ? null : requireDuration('budget duration', v))),
      allowed_models: listChange(changes.allowedModels),
    });
    const changesAmounts = Object.keys(amounts).length > 0;
    if (changes.budgetId !== undefined && changesAmounts) {
      throw new AdminInputError('a budget id and budget amounts: give one (the amounts change the member\'s own budget row)');
    }
    const role = changes.role === undefined ? undefined : requireTeamMemberRole(changes.role);
    const result = await inTransaction(this.dataSource, async (manager) => {
      const team = await this.lockedTeam(manager, teamId);
      if (team === null || team.team_id !== teamId) throw new AdminInputError(`team ${teamId} does not exist`);
      const budgetId = changes.budgetId;
      if (budgetId !== undefined && budgetId !== null) await mustExist(manager, BudgetRecord, { budget_id: budgetId }, `budget ${budgetId}`);
      const existing = await manager.findOneBy(TeamMembershipRecord, { user_id: userId, team_id: teamId });
      if (existing !== null && !isExactly(existing, { user_id: userId, team_id: teamId })) {
        throw new AdminInputError(`the membership of ${userId} in ${teamId} is stored under another spelling`);
      }
      const listed = teamMemberUserIds(team.members_with_roles).includes(userId);
      if (existing === null && !listed) throw new AdminInputError(`user ${userId} is not in team ${teamId}: add it with team add-member`);
      if (role !== undefined && !listed) {
        throw new AdminInputError(`user ${userId} has a membership row in team ${teamId} but is not in its members_with_roles: no role to set (add it with team add-member)`);
      }
      let written: { readonly hasRow: boolean; readonly budgetIds: readonly string[] } = { hasRow: existing !== null, budgetIds: [] };
      if (budgetId !== undefined) {
        written = { hasRow: await this.linkMemberBudget(manager, userId, teamId, existing, budgetId), budgetIds: [] };
      } else if (changesAmounts) {
        written = await this.patchMemberBudget(manager, team, userId, existing, amounts);
      }
      if (role !== undefined) {
        await manager.update(TeamRecord, { team_id: teamId }, { members_with_roles: withMemberRole(team.members_with_roles, userId, role), updated_at: this.now() });
      }
      const entry = memberEntry(team.members_with_roles, userId);
      return { ...written, member: entry === null || role === undefined ? entry : { ...entry, role } };
    });
    const membership = result.hasRow ? await this.readBack(this.reader.findMembership(userId, teamId), 'team membership', `${userId} in ${teamId}`) : null;
    return { member: result.member, membership, budgetIds: result.budgetIds };
  }

  /** `updateTeamMember`'s link: the membership (created if missing) to `budgetId`, or to none. Resolves whether a row is left. */
  private async linkMemberBudget(manager: EntityManager, userId: string, teamId: string, existing: TeamMembershipRecord | null, budgetId: string | null): Promise<boolean> {
    if (existing !== null) {
      await manager.update(TeamMembershipRecord, { user_id: userId, team_id: teamId }, { budget_id: budgetId });
      return true;
    }
    if (budgetId === null) return false;
    await manager.insert(TeamMembershipRecord, { user_id: userId, team_id: teamId, spend: 0, total_spend: 0, budget_id: budgetId });
    return true;
  }

  /** `updateTeamMember`'s amounts, applied as newer LiteLLM's `_upsert_budget_and_membership` does. */
  private async patchMemberBudget(
    manager: EntityManager,
    team: TeamRecord,
    userId: string,
    existing: TeamMembershipRecord | null,
    amounts: MemberBudgetAmounts,
  ): Promise<{ readonly hasRow: boolean; readonly budgetIds: readonly string[] }> {
    const teamId = team.team_id;
    const linkedId = existing?.budget_id ?? null;
    const found = linkedId === null ? null : await manager.findOneBy(BudgetRecord, { budget_id: linkedId });
    // A link to a row that is gone is no row: the member gets a new one.
    const linked = found !== null && linkedId !== null && isExactly(found, { budget_id: linkedId }) ? found : null;
    const unlink = async (): Promise<void> => {
      await manager.update(TeamMembershipRecord, { user_id: userId, team_id: teamId }, { budget_id: null });
    };
    // A duration given starts a fresh window, as LiteLLM sets budget_reset_at with it (none: cleared).
    const window = budgetDurationColumns(amounts.budget_duration, this.now());
    if (linked !== null && !(await this.isSharedBudget(manager, team, userId, linked.budget_id))) {
      if (!limitsSomething({ ...memberBudgetSettingsOf(linked), ...amounts })) {
        await unlink();
        return { hasRow: true, budgetIds: [] };
      }
      await manager.update(BudgetRecord, { budget_id: linked.budget_id }, { ...amounts, ...window, updated_at: this.now(), updated_by: this.actor });
      return { hasRow: true, budgetIds: [linked.budget_id] };
    }
    const settings: MemberBudgetSettings = {
      ...(linked === null ? NO_BUDGET_SETTINGS : memberBudgetSettingsOf(linked)),
      ...amounts,
    };
    if (!limitsSomething(settings)) {
      if (existing !== null && linkedId !== null) await unlink();
      return { hasRow: existing !== null, budgetIds: [] };
    }
    const budgetId = randomUUID();
    const { model_max_budget, ...columns } = settings;
    await manager.insert(BudgetRecord, {
      budget_id: budgetId,
      ...columns,
      // As LiteLLM's copy: an unset per-model budget keeps the column's default.
      ...(isJsonObject(model_max_budget) ? { model_max_budget } : {}),
      // LiteLLM's copy carries the shared row's window, unless a duration is given: restarting it
      // on an unrelated edit would hand the member a fresh period.
      budget_reset_at: window.budget_reset_at !== undefined ? window.budget_reset_at : (linked?.budget_reset_at ?? null),
      ...this.audit(),
    });
    if (existing !== null) {
      await manager.update(TeamMembershipRecord, { user_id: userId, team_id: teamId }, { budget_id: budgetId });
    } else {
      await manager.insert(TeamMembershipRecord, { user_id: userId, team_id: teamId, spend: 0, total_spend: 0, budget_id: budgetId });
    }
    return { hasRow: true, budgetIds: [budgetId] };
  }

  /**
   * Whether a member's budget row is not the member's alone: the team's default member budget, or
   * a row another membership, key, end user, organization, organization membership, project or
   * tag links, or another team names as its default member budget. Newer LiteLLM copies the
   * default and rows other memberships share; the other links are Tollgate's addition, as `team
   * update-member --budget` can link any row.
   */
  private async isSharedBudget(manager: EntityManager, team: TeamRecord, userId: string, budgetId: string): Promise<boolean> {
    if (asJsonObject(team.metadata)['team_member_budget_id'] === budgetId) return true;
    const memberships = await manager.findBy(TeamMembershipRecord, { budget_id: budgetId });
    if (memberships.some((m) => !(m.user_id === userId && m.team_id === team.team_id))) return true;
    for (const table of BUDGET_LINKING_TABLES) {
      if (await manager.existsBy(table, { budget_id: budgetId })) return true;
    }
    return this.isAnyTeamsDefaultMemberBudget(manager, budgetId);
  }

  /**
   * Whether some team names `budgetId` in `metadata.team_member_budget_id`. No column links a
   * team's default member budget, and its members may all hold copies of it (add-member), so only
   * the metadata says that changing the row would change that team's default. Only teams whose
   * metadata mentions the key are read (LIKE on the stored JSON: its `_` also matches any
   * character, which widens the match only); the id is compared parsed, as JSON may escape it.
   */
  private async isAnyTeamsDefaultMemberBudget(manager: EntityManager, budgetId: string): Promise<boolean> {
    const teams = await manager
      .createQueryBuilder(TeamRecord, 'team')
      .select(['team.team_id', 'team.metadata'])
      .where('team.metadata LIKE :key', { key: '%team_member_budget_id%' })
      .getMany();
    return teams.some((row) => asJsonObject(row.metadata)['team_member_budget_id'] === budgetId);
  }

  /**
   * The team in the user's `teams`, if it has a row. Locked, as adds of one user to two teams at
   * once each append to its `teams`; and last, as the spend writer takes team, membership, then
   * user: a spend write's UPDATE of a membership that does not exist locks the gap the membership
   * insert goes into, and with the user taken first the two would wait for each other (MySQL then
   * fails one of them as a deadlock).
   */
  private async addTeamToUser(manager: EntityManager, userId: string, teamId: string): Promise<void> {
    const user = await manager.findOne(UserRecord, { where: { user_id: userId }, ...this.forUpdate() });
    if (user !== null && user.user_id === userId && !user.teams.includes(teamId)) {
      await manager.update(UserRecord, { user_id: userId }, { teams: [...user.teams, teamId], updated_at: this.now() });
    }
  }

  /**
   * LiteLLM's `/key/regenerate`: the key row keeps everything (team, budgets, spend, limits) and
   * takes a new hash and display name, in place. With a `revokeAt`, the old hash is written to
   * LiteLLM_DeprecatedVerificationToken (created, or replaced as LiteLLM's upsert does) so it keeps
   * working as the new key until then; without one it stops at once. Deprecated rows that pointed
   * at the old hash are left as they are: LiteLLM follows one hop only, so they stop working too.
   * Resolves null when there is no such key.
   */
  async regenerateKey(token: string, revokeAt: Date | null): Promise<RegeneratedKey | null> {
    const material = newKeyMaterial();
    const moved = await this.dataSource.transaction(async (manager) => {
      if (!(await existsExactly(manager, VerificationTokenRecord, { token }))) return false;
      // The row moves first: a concurrent rotation of the same key that moved it already leaves
      // nothing to update here, and then nothing is written (its deprecated row stays its own).
      const { updated_at, updated_by } = this.audit();
      const result = await manager.update(VerificationTokenRecord, { token }, { token: material.token, key_name: material.keyName, updated_at, updated_by });
      if ((result.affected ?? 0) === 0) return false;
      // LiteLLM's LiteLLM_JWTKeyMapping.token is a foreign key (ON UPDATE CASCADE): its mappings
      // follow the key to its new hash, grace period or not.
      await this.forKeyMappings(manager, token, (where) => manager.update(JwtKeyMappingRecord, where, { token: material.token, updated_at, updated_by }));
      if (revokeAt !== null) {
        await manager.delete(DeprecatedVerificationTokenRecord, { token });
        await manager.insert(DeprecatedVerificationTokenRecord, {
          id: randomUUID(),
          token,
          active_token_id: material.token,
          revoke_at: revokeAt,
          created_at: this.now(),
        });
      }
      return true;
    });
    if (!moved) return null;
    const virtualKey = await this.readBack(this.reader.findKey(material.token), 'key', material.keyName);
    return { key: material.key, token: material.token, previousToken: token, revokeAt, virtualKey };
  }

  /** The key as the server sees it (hash in, never the raw key). */
  findKeyInfo(token: string): Promise<VirtualKey | null> {
    return this.reader.findKey(token);
  }

  /** Resolves false when there was no such key. */
  async deleteKey(token: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      if (!(await existsExactly(manager, VerificationTokenRecord, { token }))) return false;
      // LiteLLM's foreign key deletes the key's JWT mappings with it (ON DELETE CASCADE): the
      // clients are then unregistered, not mapped to a key that is gone.
      await this.forKeyMappings(manager, token, (where) => manager.delete(JwtKeyMappingRecord, where));
      const result = await manager.delete(VerificationTokenRecord, { token });
      return (result.affected ?? 0) > 0;
    });
  }

  /** A database `tollgate migrate` has not brought to the mapping table gets a clear answer, not the driver's. */
  private async requireJwtKeyMappingTable(): Promise<void> {
    if (await tableExists(this.dataSource.manager, dialectOf(this.dataSource), JWT_KEY_MAPPING_TABLE.name)) return;
    throw new AdminInputError(`this database has no ${JWT_KEY_MAPPING_TABLE.name} table yet: run \`tollgate migrate\` first`);
  }

  /**
   * The (claim name, claim value) pairs mapped to this key, for the CLI to announce when the key
   * moves or goes (each is cached by its pair, not by the key).
   */
  async jwtKeyMappingsOf(token: string): Promise<Array<readonly [claimName: string, claimValue: string]>> {
    const manager = this.dataSource.manager;
    if (!(await tableExists(manager, dialectOf(this.dataSource), JWT_KEY_MAPPING_TABLE.name))) return [];
    const rows = await manager.findBy(JwtKeyMappingRecord, { token });
    return rows.filter((row) => row.token === token).map((row) => [row.jwt_claim_name, row.jwt_claim_value] as const);
  }

  /** Runs `change` on the key's mapping rows, when the database has the table (an older schema may not). */
  private async forKeyMappings(manager: EntityManager, token: string, change: (where: { readonly id: string }[]) => Promise<unknown>): Promise<void> {
    if (!(await tableExists(manager, dialectOf(this.dataSource), JWT_KEY_MAPPING_TABLE.name))) return;
    // By id, after an exact comparison: a collation must not take another key's rows along.
    const rows = (await manager.findBy(JwtKeyMappingRecord, { token })).filter((row) => row.token === token);
    if (rows.length > 0) await change(rows.map((row) => ({ id: row.id })));
  }

  /**
   * A JWT → virtual-key mapping, as LiteLLM's mapping endpoint writes it (active). The key must
   * exist (LiteLLM's foreign key refuses it otherwise) and a claim name and value map to one key
   * (its unique index); both are refused with the command's own message.
   */
  async createJwtKeyMapping(input: NewJwtKeyMapping): Promise<JwtKeyMappingInfo> {
    const claimName = requireClaimPart('claim name', input.claimName);
    const claimValue = requireClaimPart('claim value', input.claimValue);
    const row = {
      id: randomUUID(),
      jwt_claim_name: claimName,
      jwt_claim_value: claimValue,
      token: input.token,
      description: input.description ?? null,
      is_active: true,
      ...this.audit(),
    };
    await this.requireJwtKeyMappingTable();
    try {
      await this.dataSource.transaction(async (manager) => {
        await mustExist(manager, VerificationTokenRecord, { token: input.token }, 'key');
        await mustNotExist(manager, JwtKeyMappingRecord, { jwt_claim_name: claimName, jwt_claim_value: claimValue }, `a mapping for ${claimName}=${claimValue}`);
        await manager.insert(JwtKeyMappingRecord, row);
      });
    } catch (error) {
      // Another writer inserted the same pair between the check and the insert.
      if (isDuplicateKey(error)) throw new AdminInputError(`a mapping for ${claimName}=${claimValue} already exists`);
      throw error;
    }
    return { id: row.id, jwt_claim_name: claimName, jwt_claim_value: claimValue, key_hash: row.token, description: row.description, is_active: true };
  }

  /** Deletes the mapping of exactly this claim name and value; resolves false when there was none. */
  async deleteJwtKeyMapping(claimName: string, claimValue: string): Promise<boolean> {
    await this.requireJwtKeyMappingTable();
    const mappings = this.dataSource.getRepository(JwtKeyMappingRecord);
    const where = { jwt_claim_name: claimName, jwt_claim_value: claimValue };
    const rows = (await mappings.findBy(where)).filter((row) => isExactly(row, where));
    if (rows.length === 0) return false;
    const result = await mappings.delete(rows.map((row) => row.id));
    return (result.affected ?? 0) > 0;
  }

  /** `resetFrom`: for a row whose window LiteLLM starts as it writes it, its `budget_reset_at` is the next reset from then (budgetDurationColumns). */
  private async insertBudget(manager: EntityManager, input: NewBudget, resetFrom?: Date): Promise<string> {
    const budgetId = requireId('budget id', input.budgetId ?? randomUUID());
    await mustNotExist(manager, BudgetRecord, { budget_id: budgetId }, `budget ${budgetId}`);
    await manager.insert(BudgetRecord, {
      budget_id: budgetId,
      max_budget: requireAmount('max budget', input.maxBudget),
      soft_budget: requireAmount('soft budget', input.softBudget),
      tpm_limit: requireAmount('tpm limit', input.tpmLimit),
      rpm_limit: requireAmount('rpm limit', input.rpmLimit),
      max_parallel_requests: requireAmount('max parallel requests', input.maxParallelRequests),
      ...(resetFrom === undefined ? { budget_duration: input.budgetDuration ?? null } : budgetDurationColumns(input.budgetDuration ?? null, resetFrom)),
      allowed_models: [...(input.allowedModels ?? [])],
      ...this.audit(),
    });
    return budgetId;
  }

  private audit(): { created_at: Date; created_by: string; updated_at: Date; updated_by: string } {
    const now = this.now();
    return { created_at: now, created_by: this.actor, updated_at: now, updated_by: this.actor };
  }

  private async readBack<T>(read: Promise<T | null>, what: string, id: string): Promise<T> {
    const value = await read;
    // Only a concurrent delete between our commit and this read can get here.
    if (value === null) throw new StoreInvariantError(`${what} ${id} vanished right after it was written`);
    return value;
  }
}
