/**
 * The store's reads, answered from process memory when a caching store has the answer, else by
 * its lookup (a promise). A warm request then goes through without creating a single promise
 * (util/maybe-promise.ts). Memory's null is an answer (known not to exist); only undefined asks.
 *
 * Plain functions of (store, argument), so that a warm read allocates nothing.
 */
import type { AccessGroup, Agent, Budget, EndUser, ObjectPermission, Organization, Project, Tag, Team, TeamMembership, User, VirtualKey, WindowSpend } from '../domain/entities';
import type { DeprecatedKey } from '../domain/deprecated-key';
import type { MaybePromise } from '../util/maybe-promise';
import type { AuthStore, WindowOfBudget } from './auth-store';
import type { WindowEntity } from '../spend/window-limits';

export function keyOf(store: AuthStore, tokenHash: string): MaybePromise<VirtualKey | null> {
  const known = store.memory?.key(tokenHash);
  return known !== undefined ? known : store.findKey(tokenHash);
}

/** The rotated-out key row of a hash no key row has (null also for a store that knows no rotations). */
export function deprecatedKeyOf(store: AuthStore, tokenHash: string): MaybePromise<DeprecatedKey | null> {
  const known = store.memory?.deprecatedKey(tokenHash);
  if (known !== undefined) return known;
  return store.findDeprecatedKey === undefined ? null : store.findDeprecatedKey(tokenHash);
}

/** The key hash a JWT claim maps to, from memory when known (null for a store that knows no mappings). */
export function jwtKeyMappingOf(store: AuthStore, claimName: string, claimValue: string): MaybePromise<string | null> {
  const known = store.memory?.jwtKeyMapping?.(claimName, claimValue);
  if (known !== undefined) return known;
  return store.findJwtKeyMapping === undefined ? null : store.findJwtKeyMapping(claimName, claimValue);
}

export function teamOf(store: AuthStore, teamId: string): MaybePromise<Team | null> {
  const known = store.memory?.team(teamId);
  return known !== undefined ? known : store.findTeam(teamId);
}

export function membershipOf(store: AuthStore, userId: string, teamId: string): MaybePromise<TeamMembership | null> {
  const known = store.memory?.membership(userId, teamId);
  return known !== undefined ? known : store.findMembership(userId, teamId);
}

export function userOf(store: AuthStore, userId: string): MaybePromise<User | null> {
  const known = store.memory?.user(userId);
  return known !== undefined ? known : store.findUser(userId);
}

export function endUserOf(store: AuthStore, endUserId: string): MaybePromise<EndUser | null> {
  const known = store.memory?.endUser(endUserId);
  return known !== undefined ? known : store.findEndUser(endUserId);
}

export function userIdByEmailOf(store: AuthStore, email: string): MaybePromise<string | null> {
  const known = store.memory?.userIdByEmail(email);
  return known !== undefined ? known : store.findUserIdByEmail(email);
}

export function organizationOf(store: AuthStore, organizationId: string): MaybePromise<Organization | null> {
  const known = store.memory?.organization(organizationId);
  return known !== undefined ? known : store.findOrganization(organizationId);
}

export function projectOf(store: AuthStore, projectId: string): MaybePromise<Project | null> {
  const known = store.memory?.project(projectId);
  return known !== undefined ? known : store.findProject(projectId);
}

export function tagsNamed(store: AuthStore, names: readonly string[]): MaybePromise<readonly Tag[]> {
  const known = store.memory?.tags(names);
  return known !== undefined ? known : store.findTags(names);
}

export function accessGroupsOf(store: AuthStore, ids: readonly string[]): MaybePromise<readonly AccessGroup[]> {
  const known = store.memory?.accessGroups(ids);
  return known !== undefined ? known : store.findAccessGroups(ids);
}

export function budgetOf(store: AuthStore, budgetId: string): MaybePromise<Budget | null> {
  const known = store.memory?.budget(budgetId);
  return known !== undefined ? known : store.findBudget(budgetId);
}

export function objectPermissionsOf(store: AuthStore, ids: readonly string[]): MaybePromise<readonly ObjectPermission[]> {
  const known = store.memory?.objectPermissions(ids);
  return known !== undefined ? known : store.findObjectPermissions(ids);
}

export function agentOf(store: AuthStore, agentId: string): MaybePromise<Agent | null> {
  const known = store.memory?.agent(agentId);
  return known !== undefined ? known : store.findAgent(agentId);
}

export function globalSpendOf(store: AuthStore): MaybePromise<number> {
  const known = store.memory?.globalSpend();
  return known !== undefined ? known : store.globalSpend();
}

/** A window's spend (its state where the store keeps one) from memory when the caching store holds it; 0 from a store that counts none. */
export function windowSpendOf(store: AuthStore, entity: WindowEntity, entityId: string, window: WindowOfBudget): MaybePromise<WindowSpend | number> {
  const known = store.memory?.windowSpend?.(entity, entityId, window);
  if (known !== undefined) return known;
  if (store.windowSpendState !== undefined) return store.windowSpendState(entity, entityId, window);
  return store.windowSpend === undefined ? 0 : store.windowSpend(entity, entityId, window);
}
