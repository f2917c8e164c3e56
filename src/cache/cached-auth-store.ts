/**
 * The AuthStore the request path uses: every lookup goes through a per-kind EntityCache,
 * so a warm key costs no database or Redis round trip at all.
 */
import { LRUCache } from 'lru-cache';
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
import { membershipId, membershipIdParts, type AuthStore, type MemoryLookups, type WindowOfBudget } from '../store/auth-store';
import { windowSpendId, windowSpendIdParts, type WindowEntity } from '../spend/window-limits';
import { wholeWindowSpend, windowSpendTotal } from '../spend/window-spend';
import { EntityCache, SILENT_CACHE_EVENTS, type CacheEvents, type Clock } from './entity-cache';
import { LiveRotations } from './live-rotations';
import type { SharedCache } from './shared-cache';
import { batchLoader, gatheringLoader } from '../util/batch-loader';
import { distinct } from '../util/distinct';

export interface CachePolicy {
  readonly ttlMs: number;
  readonly refreshAfterMs: number;
  readonly negativeTtlMs: number;
  readonly maxStaleOnErrorMs: number;
  readonly maxEntries: number;
  readonly sharedPrefix: string;
  /**
   * How long background revalidations of keys, users, memberships and teams wait to be gathered
   * into one statement per kind (default 50 ms; nobody waits on them).
   */
  readonly refreshGatherMs?: number;
  /**
   * `litellm_jwtauth.virtual_key_mapping_cache_ttl`: JWT claim → key hash answers are held no
   * longer than this (nor than ttlMs, negativeTtlMs and refreshAfterMs, which stay in force).
   */
  readonly jwtKeyMappingTtlMs?: number;
}

/** Entity kinds, as named in invalidation messages and shared-tier keys. */
export const ENTITY_KINDS = [
  'key',
  'team',
  'membership',
  'user',
  'end_user',
  'user_email',
  'organization',
  'project',
  'tag',
  'access_group',
  'budget',
  'global_spend',
  'object_permission',
  'agent',
  'deprecated_key',
  'window_spend',
  'jwt_key_mapping',
] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

/** What invalidation needs of a cache, whatever it holds. */
export interface InvalidatableCache {
  readonly size: number;
  invalidate(id: string): Promise<void>;
  dropLocal(id: string): void;
  clearLocal(): void;
}

const GLOBAL_SPEND_ID = 'last_30_days';

/** How long background revalidations wait to be gathered (by default), and how many one statement takes. */
const REFRESH_GATHER_MS = 50;
const REFRESH_BATCH_MAX = 100;

export class CachedAuthStore implements AuthStore {
  readonly caches: ReadonlyMap<EntityKind, InvalidatableCache>;
  private readonly keys: EntityCache<VirtualKey>;
  /**
   * Rotated-out key hash → its LiteLLM_DeprecatedVerificationToken row. Asked only for a hash no
   * key row has, and cached either way like the key itself: a warm old key costs no round trip, and
   * an unknown key one lookup here, then none until its "not found" expires. Whether the grace
   * period still runs is judged at each use (activeTokenOf), never by the cache's own age.
   */
  private readonly deprecatedKeys: EntityCache<DeprecatedKey>;
  /**
   * Whether any rotated-out key can be in its grace period at all: while none can, an unknown key
   * is not looked up among them (one lookup, the key's, instead of two). Null for a store that
   * cannot say, and with caching off: every unknown key is then looked up.
   */
  readonly rotations: LiveRotations | null;
  /**
   * JWT claim (name, value) → the key hash an active LiteLLM_JWTKeyMapping row maps it to, by
   * jwtKeyMappingId; "no mapping" is cached like any "not found" (LiteLLM's `__NO_MAPPING__`). A
   * warm mapped caller costs no round trip, as a warm key does.
   */
  private readonly jwtKeyMappings: EntityCache<string>;
  private readonly teams: EntityCache<Team>;
  private readonly memberships: EntityCache<TeamMembership>;
  private readonly users: EntityCache<User>;
  private readonly endUsers: EntityCache<EndUser>;
  /**
   * Email → user id, for validate_end_user_id_in_db only; keyed by the email lower-cased, as it
   * matches up to case: one entry for every spelling, and one a write to that user's email can name.
   */
  private readonly userIdsByEmail: EntityCache<string>;
  private readonly organizations: EntityCache<Organization>;
  private readonly projects: EntityCache<Project>;
  private readonly tags: EntityCache<Tag>;
  private readonly accessGroups: EntityCache<AccessGroup>;
  private readonly budgets: EntityCache<Budget>;
  private readonly spend: EntityCache<number>;
  private readonly objectPermissions: EntityCache<ObjectPermission>;
  private readonly agents: EntityCache<Agent>;
  /**
   * The spend of a key, team, user or end user within one of its multi-window budgets, by windowSpendId: from
   * LiteLLM_SpendLogs since the window's start, that start computed when the entry is (re)loaded.
   * Served like every other entry (refreshed in the background once older than refreshAfterMs,
   * never older than the TTL), so a warm Check reads it from memory. Each value is the state a
   * refresh continues (spend/window-spend.ts), so a refresh reads only the rows that changed.
   */
  private readonly windowSpends: EntityCache<WindowSpend>;
  /**
   * The last state this process loaded or took from the shared tier for each window: what the
   * next load of that window continues. The cache's own entry is not read for it, as reading one
   * may start a refresh.
   */
  private readonly lastWindowSpends: LRUCache<string, WindowSpend>;
  /**
   * Bumped whenever window states are forgotten, so that a load in flight then cannot leave its
   * state behind for the next load to continue (as the caches' own epoch keeps its entry out).
   */
  private windowStateEpoch = 0;

  constructor(
    private readonly store: AuthStore,
    policy: CachePolicy,
    shared: SharedCache,
    events: CacheEvents = SILENT_CACHE_EVENTS,
    now: Clock = Date.now,
  ) {
    const make = <T>(
      kind: EntityKind,
      loader: (id: string) => Promise<T | null>,
      refreshMany?: (ids: readonly string[]) => Promise<ReadonlyMap<string, T>>,
    ): EntityCache<T> =>
      new EntityCache<T>(
        { kind, ...policy },
        loader,
        shared,
        events,
        now,
        // The kinds every Check reads are revalidated together: one statement for the ids that
        // went stale within the window, instead of one each (many keys used every few seconds).
        refreshMany === undefined ? loader : gatheringLoader(refreshMany, loader, policy.refreshGatherMs ?? REFRESH_GATHER_MS, REFRESH_BATCH_MAX),
      );
    const batch = store.batch;
    const membershipLoader = (id: string): Promise<TeamMembership | null> => {
      const [userId, teamId] = membershipIdParts(id);
      return store.findMembership(userId, teamId);
    };
    this.keys = make('key', (id) => store.findKey(id), batch && ((ids) => batch.findKeys(ids)));
    this.deprecatedKeys = make('deprecated_key', (id) => (store.findDeprecatedKey === undefined ? Promise.resolve(null) : store.findDeprecatedKey(id)));
    const latestRevokeAt = store.latestRevokeAt?.bind(store);
    // With caching off no answer is ever fresh: a probe per unknown key would only add a statement.
    this.rotations =
      latestRevokeAt === undefined || policy.refreshAfterMs <= 0
        ? null
        : new LiveRotations(latestRevokeAt, policy.refreshAfterMs, now, (error) => events.backgroundRefreshError('deprecated_key', error));
    this.jwtKeyMappings = new EntityCache<string>(
      { kind: 'jwt_key_mapping', ...jwtKeyMappingPolicy(policy) },
      (id) => {
        const [claimName, claimValue] = jwtKeyMappingIdParts(id);
        return store.findJwtKeyMapping === undefined ? Promise.resolve(null) : store.findJwtKeyMapping(claimName, claimValue);
      },
      shared,
      events,
      now,
    );
    this.teams = make('team', (id) => store.findTeam(id), batch && ((ids) => batch.findTeams(ids)));
    this.memberships = make('membership', membershipLoader, batch && ((ids) => batch.findMemberships(ids.map(membershipIdParts))));
    this.users = make('user', (id) => store.findUser(id), batch && ((ids) => batch.findUsers(ids)));
    this.endUsers = make('end_user', (id) => store.findEndUser(id));
    this.userIdsByEmail = make('user_email', (email) => store.findUserIdByEmail(email));
    this.organizations = make('organization', (id) => store.findOrganization(id));
    this.projects = make('project', (id) => store.findProject(id));
    // Tags and access groups are fetched in batches (one query for all misses), then cached one by one.
    this.tags = make('tag', batchLoader((names) => store.findTags(names), (tag) => tag.tag_name));
    this.accessGroups = make(
      'access_group',
      batchLoader((ids) => store.findAccessGroups(ids), (group) => group.access_group_id),
    );
    this.budgets = make('budget', (id) => store.findBudget(id));
    this.spend = make('global_spend', () => store.globalSpend());
    // LiteLLM reads object permissions uncached for vector stores; Tollgate caches them like every
    // other row (warm requests stay at zero I/O) and management writes invalidate them.
    this.objectPermissions = make(
      'object_permission',
      batchLoader((ids) => store.findObjectPermissions(ids), (permission) => permission.object_permission_id),
    );
    this.agents = make('agent', (id) => store.findAgent(id));
    this.lastWindowSpends = new LRUCache<string, WindowSpend>({ maxSize: policy.maxEntries, sizeCalculation: () => 1 });
    this.windowSpends = make('window_spend', (id) => this.loadWindowSpend(id, now));
    this.caches = new Map<EntityKind, InvalidatableCache>([
      ['key', this.keys],
      ['team', this.teams],
      ['membership', this.memberships],
      ['user', this.users],
      ['end_user', this.endUsers],
      ['user_email', this.userIdsByEmail],
      ['organization', this.organizations],
      ['project', this.projects],
      ['tag', this.tags],
      ['access_group', this.accessGroups],
      ['budget', this.budgets],
      ['global_spend', this.spend],
      ['object_permission', this.objectPermissions],
      ['agent', this.agents],
      ['deprecated_key', this.deprecatedKeys],
      ['jwt_key_mapping', this.jwtKeyMappings],
      ['window_spend', forgettingWindowSpends(this.windowSpends, (id) => this.forgetWindowStates(id))],
    ]);
  }

  readonly memory: MemoryLookups = {
    key: (tokenHash) => this.keys.peek(tokenHash),
    deprecatedKey: (tokenHash) => (this.mayHaveLiveRotations() ? this.deprecatedKeys.peek(tokenHash) : null),
    jwtKeyMapping: (claimName, claimValue) => this.jwtKeyMappings.peek(jwtKeyMappingId(claimName, claimValue)),
    team: (teamId) => this.teams.peek(teamId),
    membership: (userId, teamId) => this.memberships.peek(membershipId(userId, teamId)),
    user: (userId) => this.users.peek(userId),
    endUser: (endUserId) => this.endUsers.peek(endUserId),
    userIdByEmail: (email) => this.userIdsByEmail.peek(email.toLowerCase()),
    organization: (organizationId) => this.organizations.peek(organizationId),
    project: (projectId) => this.projects.peek(projectId),
    tags: (names) => peekAll(this.tags, names),
    accessGroups: (ids) => peekAll(this.accessGroups, ids),
    budget: (budgetId) => this.budgets.peek(budgetId),
    objectPermissions: (ids) => peekAll(this.objectPermissions, ids),
    agent: (agentId) => this.agents.peek(agentId),
    globalSpend: () => {
      const spend = this.spend.peek(GLOBAL_SPEND_ID);
      return spend === undefined ? undefined : (spend ?? 0);
    },
    windowSpend: (entity, entityId, window) => {
      const spend = this.windowSpends.peek(windowSpendId(entity, entityId, window));
      return spend === undefined ? undefined : (spend ?? 0);
    },
  };

  findKey(tokenHash: string): Promise<VirtualKey | null> {
    return this.keys.get(tokenHash);
  }
  findDeprecatedKey(tokenHash: string): Promise<DeprecatedKey | null> {
    return this.mayHaveLiveRotations() ? this.deprecatedKeys.get(tokenHash) : Promise.resolve(null);
  }
  findJwtKeyMapping(claimName: string, claimValue: string): Promise<string | null> {
    return this.jwtKeyMappings.get(jwtKeyMappingId(claimName, claimValue));
  }
  findTeam(teamId: string): Promise<Team | null> {
    return this.teams.get(teamId);
  }
  findMembership(userId: string, teamId: string): Promise<TeamMembership | null> {
    return this.memberships.get(membershipId(userId, teamId));
  }
  findUser(userId: string): Promise<User | null> {
    return this.users.get(userId);
  }
  findEndUser(endUserId: string): Promise<EndUser | null> {
    return this.endUsers.get(endUserId);
  }
  findUserIdByEmail(email: string): Promise<string | null> {
    return this.userIdsByEmail.get(email.toLowerCase());
  }
  findOrganization(organizationId: string): Promise<Organization | null> {
    return this.organizations.get(organizationId);
  }
  findProject(projectId: string): Promise<Project | null> {
    return this.projects.get(projectId);
  }
  async findTags(names: readonly string[]): Promise<Tag[]> {
    const found = await Promise.all(distinct(names).map((name) => this.tags.get(name)));
    return found.filter((tag): tag is Tag => tag !== null);
  }
  async findAccessGroups(ids: readonly string[]): Promise<AccessGroup[]> {
    const found = await Promise.all(distinct(ids).map((id) => this.accessGroups.get(id)));
    return found.filter((group): group is AccessGroup => group !== null);
  }
  findBudget(budgetId: string): Promise<Budget | null> {
    return this.budgets.get(budgetId);
  }
  async findObjectPermissions(ids: readonly string[]): Promise<ObjectPermission[]> {
    const found = await Promise.all(distinct(ids).map((id) => this.objectPermissions.get(id)));
    return found.filter((permission): permission is ObjectPermission => permission !== null);
  }
  findAgent(agentId: string): Promise<Agent | null> {
    return this.agents.get(agentId);
  }
  async globalSpend(): Promise<number> {
    return (await this.spend.get(GLOBAL_SPEND_ID)) ?? 0;
  }
  async windowSpend(entity: WindowEntity, entityId: string, window: WindowOfBudget): Promise<number> {
    return windowSpendTotal(await this.windowSpendState(entity, entityId, window));
  }
  async windowSpendState(entity: WindowEntity, entityId: string, window: WindowOfBudget): Promise<WindowSpend | number> {
    const id = windowSpendId(entity, entityId, window);
    const epoch = this.windowStateEpoch;
    const spend = await this.windowSpends.get(id);
    // Possibly another replica's, from the shared tier: the next refresh goes on from it.
    if (spend !== null && epoch === this.windowStateEpoch && spend !== this.lastWindowSpends.peek(id)) this.lastWindowSpends.set(id, spend);
    return spend ?? 0;
  }
  ping(): Promise<void> {
    return this.store.ping();
  }
  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * Purges one entity from this process and the shared tier (used by writers). A user's write may
   * also give the email validate_end_user_id_in_db asked about to a user: its current email's
   * answer is purged as well (a changed email's old answer ages out within the TTL).
   */
  async invalidate(kind: EntityKind, id: string): Promise<void> {
    if (kind === 'deprecated_key') this.rotations?.reset();
    await this.cacheFor(kind).invalidate(id);
    if (kind !== 'user') return;
    this.userIdsByEmail.clearLocal();
    const email = (await this.store.findUser(id))?.user_email;
    if (email != null) await this.userIdsByEmail.invalidate(email.toLowerCase());
  }

  dropLocal(kind: EntityKind, id: string): void {
    // A deprecated key announced: a rotation may have just begun, so none is ruled out until asked again.
    if (kind === 'deprecated_key') this.rotations?.reset();
    this.cacheFor(kind).dropLocal(id);
    // The message names the user, not its email: every email answer goes, to be asked again.
    if (kind === 'user') this.userIdsByEmail.clearLocal();
  }

  clearLocal(): void {
    this.rotations?.reset();
    for (const cache of this.caches.values()) cache.clearLocal();
  }

  /** A window's spend from the store: continued from the last state where the store can, else summed in full. */
  private async loadWindowSpend(id: string, now: Clock): Promise<WindowSpend | null> {
    const parts = windowSpendIdParts(id);
    if (parts === null) return null;
    const { entity, entityId, window } = parts;
    if (this.store.refreshWindowSpend === undefined) {
      return this.store.windowSpend === undefined ? null : wholeWindowSpend(await this.store.windowSpend(entity, entityId, window), now());
    }
    const epoch = this.windowStateEpoch;
    const spend = await this.store.refreshWindowSpend(entity, entityId, window, this.lastWindowSpends.peek(id) ?? null);
    if (epoch !== this.windowStateEpoch) return spend;
    if (spend === null) this.lastWindowSpends.delete(id);
    else this.lastWindowSpends.set(id, spend);
    return spend;
  }

  /** One window's states (all of them for null) forgotten: its next load sums in full. */
  private forgetWindowStates(id: string | null): void {
    this.windowStateEpoch += 1;
    if (id === null) this.lastWindowSpends.clear();
    else this.lastWindowSpends.delete(id);
  }

  private mayHaveLiveRotations(): boolean {
    return this.rotations === null || this.rotations.mayBeLive();
  }

  private cacheFor(kind: EntityKind): InvalidatableCache {
    const cache = this.caches.get(kind);
    if (cache === undefined) throw new Error(`unknown entity kind ${kind}`);
    return cache;
  }
}

/**
 * The window spend cache as invalidation sees it: what it drops is forgotten as a starting point
 * too, so the next load sums in full.
 */
function forgettingWindowSpends(cache: EntityCache<WindowSpend>, forget: (id: string | null) => void): InvalidatableCache {
  return {
    get size() {
      return cache.size;
    },
    invalidate: (id) => {
      forget(id);
      return cache.invalidate(id);
    },
    dropLocal: (id) => {
      forget(id);
      cache.dropLocal(id);
    },
    clearLocal: () => {
      forget(null);
      cache.clearLocal();
    },
  };
}

/** Every id answered from memory (absent ones dropped, as the batch lookups do), or undefined. */
function peekAll<T>(cache: EntityCache<T>, ids: readonly string[]): T[] | undefined {
  const found: T[] = [];
  const unique = distinct(ids);
  for (let i = 0; i < unique.length; i += 1) {
    const value = cache.peek(unique[i] as string);
    if (value === undefined) return undefined;
    if (value !== null) found.push(value);
  }
  return found;
}

/**
 * A JWT key mapping's cache id (and invalidation id): its claim name and value as a JSON list, so
 * no character of either (a NUL, a colon) can make two pairs one id.
 */
export function jwtKeyMappingId(claimName: string, claimValue: string): string {
  return JSON.stringify([claimName, claimValue]);
}

function jwtKeyMappingIdParts(id: string): readonly [claimName: string, claimValue: string] {
  const parsed: unknown = JSON.parse(id);
  if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') return [parsed[0], parsed[1]];
  throw new Error('not a JWT key mapping id');
}

/** The cache policy with virtual_key_mapping_cache_ttl applied as a ceiling on every age. */
function jwtKeyMappingPolicy(policy: CachePolicy): CachePolicy {
  const cap = policy.jwtKeyMappingTtlMs;
  if (cap === undefined) return policy;
  return {
    ...policy,
    ttlMs: Math.min(policy.ttlMs, cap),
    refreshAfterMs: Math.min(policy.refreshAfterMs, cap),
    negativeTtlMs: Math.min(policy.negativeTtlMs, cap),
  };
}
