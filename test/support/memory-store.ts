/**
 * An AuthStore over plain maps that records every call: for testing the loader and the
 * authorizer without a database (the real stores are tested in test/store and test/e2e).
 */
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
} from '../../src/domain/entities';
import type { AuthStore, WindowOfBudget } from '../../src/store/auth-store';
import { windowSpendId, type WindowEntity } from '../../src/spend/window-limits';

export class MemoryStore implements AuthStore {
  readonly keys = new Map<string, VirtualKey>();
  readonly teams = new Map<string, Team>();
  readonly memberships = new Map<string, TeamMembership>();
  readonly users = new Map<string, User>();
  readonly endUsers = new Map<string, EndUser>();
  readonly organizations = new Map<string, Organization>();
  readonly projects = new Map<string, Project>();
  readonly tags = new Map<string, Tag>();
  readonly accessGroups = new Map<string, AccessGroup>();
  readonly budgets = new Map<string, Budget>();
  readonly objectPermissions = new Map<string, ObjectPermission>();
  readonly agents = new Map<string, Agent>();
  spend = 0;
  readonly calls: string[] = [];

  private record<T>(call: string, value: T): Promise<T> {
    this.calls.push(call);
    return Promise.resolve(value);
  }

  findKey(hash: string) {
    return this.record(`findKey:${hash}`, this.keys.get(hash) ?? null);
  }
  findTeam(id: string) {
    return this.record(`findTeam:${id}`, this.teams.get(id) ?? null);
  }
  findMembership(userId: string, teamId: string) {
    return this.record(`findMembership:${userId}:${teamId}`, this.memberships.get(`${userId}:${teamId}`) ?? null);
  }
  findUser(id: string) {
    return this.record(`findUser:${id}`, this.users.get(id) ?? null);
  }
  findEndUser(id: string) {
    return this.record(`findEndUser:${id}`, this.endUsers.get(id) ?? null);
  }
  findUserIdByEmail(email: string) {
    const wanted = email.toLowerCase();
    const ids = [...this.users.values()].filter((u) => u.user_email?.toLowerCase() === wanted).map((u) => u.user_id).sort();
    return this.record(`findUserIdByEmail:${email}`, ids[0] ?? null);
  }
  findOrganization(id: string) {
    return this.record(`findOrganization:${id}`, this.organizations.get(id) ?? null);
  }
  findProject(id: string) {
    return this.record(`findProject:${id}`, this.projects.get(id) ?? null);
  }
  findTags(names: readonly string[]) {
    return this.record(
      `findTags:${names.join(',')}`,
      names.map((n) => this.tags.get(n)).filter((t): t is Tag => t !== undefined),
    );
  }
  findAccessGroups(ids: readonly string[]) {
    return this.record(
      `findAccessGroups:${ids.join(',')}`,
      ids.map((i) => this.accessGroups.get(i)).filter((g): g is AccessGroup => g !== undefined),
    );
  }
  findBudget(id: string) {
    return this.record(`findBudget:${id}`, this.budgets.get(id) ?? null);
  }
  findObjectPermissions(ids: readonly string[]) {
    return this.record(
      `findObjectPermissions:${ids.join(',')}`,
      ids.map((i) => this.objectPermissions.get(i)).filter((p): p is ObjectPermission => p !== undefined),
    );
  }
  findAgent(id: string) {
    return this.record(`findAgent:${id}`, this.agents.get(id) ?? null);
  }
  globalSpend() {
    return this.record('globalSpend', this.spend);
  }
  /** Window spend by windowSpendId (spend/window-limits.ts); 0 when unset. */
  readonly windowSpends = new Map<string, number>();
  windowSpend(entity: WindowEntity, entityId: string, window: WindowOfBudget) {
    const id = windowSpendId(entity, entityId, window);
    return this.record(`windowSpend:${entity}:${entityId}:${window.budget_duration}`, this.windowSpends.get(id) ?? 0);
  }
  ping() {
    return this.record('ping', undefined);
  }
  close() {
    return Promise.resolve();
  }
}
