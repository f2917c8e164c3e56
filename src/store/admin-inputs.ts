/**
 * What the management commands may create or change, and the checks on it that don't need the
 * database. Names are camelCase here (CLI vocabulary); the rows keep LiteLLM's column names.
 */
import { USER_ROLES, type JsonObject, type UserRole } from '../domain/entities';

export interface NewBudget {
  readonly budgetId?: string;
  readonly maxBudget?: number | null;
  readonly softBudget?: number | null;
  readonly tpmLimit?: number | null;
  readonly rpmLimit?: number | null;
  readonly maxParallelRequests?: number | null;
  readonly budgetDuration?: string | null;
  /** Per-team-member model scope; `[]` = inherit the team's models. */
  readonly allowedModels?: readonly string[];
}

export interface NewOrganization {
  readonly organizationId?: string;
  readonly alias: string;
  /** Stored on the organization's own budget row (LiteLLM keeps org limits there). */
  readonly maxBudget?: number | null;
  readonly models?: readonly string[];
  readonly metadata?: JsonObject;
}

export interface NewTeam {
  readonly teamId?: string;
  readonly alias?: string | null;
  readonly organizationId?: string | null;
  readonly maxBudget?: number | null;
  readonly softBudget?: number | null;
  readonly models?: readonly string[];
  readonly blocked?: boolean;
  readonly metadata?: JsonObject;
  readonly tpmLimit?: number | null;
  readonly rpmLimit?: number | null;
  /** Team model aliases (alias → model), stored in LiteLLM_ModelTable as LiteLLM does. */
  readonly modelAliases?: Readonly<Record<string, string>>;
}

export interface NewUser {
  readonly userId: string;
  readonly alias?: string | null;
  readonly email?: string | null;
  /** Defaults to `internal_user`. */
  readonly role?: UserRole;
  readonly maxBudget?: number | null;
  readonly models?: readonly string[];
  readonly metadata?: JsonObject;
}

export interface NewEndUser {
  readonly userId: string;
  readonly alias?: string | null;
  readonly budgetId?: string | null;
  /** Creates a budget row for this end user (as LiteLLM's /customer/new does) unless budgetId is given. */
  readonly maxBudget?: number | null;
}

export interface NewKey {
  readonly teamId?: string | null;
  readonly userId?: string | null;
  readonly organizationId?: string | null;
  readonly projectId?: string | null;
  readonly alias?: string | null;
  readonly models?: readonly string[];
  readonly maxBudget?: number | null;
  readonly expires?: Date | null;
  readonly metadata?: JsonObject;
  readonly allowedRoutes?: readonly string[];
  readonly budgetId?: string | null;
}

/** Rows with a `spend` column addressed by a single id. */
export type SpendKind = 'key' | 'team' | 'user' | 'end_user' | 'organization' | 'project' | 'tag';
export interface TeamMemberId {
  readonly userId: string;
  readonly teamId: string;
}
export interface OrganizationMemberId {
  readonly userId: string;
  readonly organizationId: string;
}

/** Bad input, a missing referenced row or a duplicate: the operator's to fix, not an outage. */
export class AdminInputError extends Error {
  override readonly name = 'AdminInputError';
}

export function requireId(what: string, value: string): string {
  if (value.trim() === '') throw new AdminInputError(`${what} must not be empty`);
  return value;
}

/** Budgets, limits and spend: finite numbers; budgets and limits also non-negative. */
export function requireAmount(what: string, value: number | null | undefined, { allowNegative = false } = {}): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value)) throw new AdminInputError(`${what} must be a finite number`);
  if (!allowNegative && value < 0) throw new AdminInputError(`${what} must not be negative`);
  return value;
}

function isUserRole(role: string): role is UserRole {
  return (USER_ROLES as readonly string[]).includes(role);
}

export function requireRole(role: string): UserRole {
  if (!isUserRole(role)) throw new AdminInputError(`unknown user role ${role} (one of ${USER_ROLES.join(', ')})`);
  return role;
}

export function requireDate(what: string, value: Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (Number.isNaN(value.getTime())) throw new AdminInputError(`${what} is not a valid date`);
  return value;
}
