import { USER_ROLES, type User, type UserRole } from '../domain/entities';

/**
 * LiteLLM's `_get_user_role`: the user row decides; an unknown role string counts as
 * internal_user, and so does a key without a user (litellm-auth.md §10).
 */
export function roleOf(user: User | null): UserRole {
  const role = user?.user_role ?? null;
  if (role === null) return 'internal_user';
  return (USER_ROLES as readonly string[]).includes(role) ? (role as UserRole) : 'internal_user';
}
