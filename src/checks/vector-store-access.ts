/**
 * common_checks step 11 (`vector_store_access_check`, `_can_object_call_vector_stores`): the
 * vector stores a request names must be allowed by the key's object permission, then by the
 * team's. A missing permission row, or an empty `vector_stores` list, allows every store.
 *
 * A body whose ids Python cannot read (a null tool, `"vector_store_ids": 5` in a tool, an
 * unhashable id) raises TypeError in `get_vector_store_ids_to_run`, before any permission is
 * read: 401 auth_error for every caller, whatever its permissions.
 *
 * Deliberate differences: LiteLLM skips the check when no vector-store registry is configured and
 * reads the permission rows uncached; Tollgate always checks (a row that restricts stores is
 * enforced whatever the proxy has registered) and reads them through its cache like every row.
 * And a body Envoy cut short is refused to a caller whose key or team restricts stores, once the
 * ids its prefix shows pass: an id past the cut (a file_search tool after the prompt) would reach
 * the upstream unchecked, so padding the prompt would be a way around the restriction.
 */
import type { Json, ObjectPermission } from '../domain/entities';
import type { Check, Denial, ProxyErrorType } from './types';
import { deny } from './types';
import { requestBody } from './context';
import { pyList, pyStr } from './python-format';
import { readVectorStoreIds } from './vector-store-ids';
import { authErrorFromException } from './errors';

function refusal(
  type: ProxyErrorType,
  ids: readonly Json[],
  permission: ObjectPermission | undefined,
): Denial | null {
  const allowed = permission?.vector_stores ?? [];
  if (allowed.length === 0) return null;
  const denied = ids.find((id) => typeof id !== 'string' || !allowed.includes(id));
  if (denied === undefined) return null;
  return deny(
    401,
    type,
    `User not allowed to access vector store. Tried to access ${pyStr(denied)}. Only allowed to access ${pyList(allowed)}`,
    'vector_store',
  );
}

function restricts(permission: ObjectPermission | undefined): boolean {
  return (permission?.vector_stores ?? []).length > 0;
}

function cutShort(type: ProxyErrorType, permission: ObjectPermission | undefined): Denial {
  return deny(
    401,
    type,
    `User not allowed to access vector store. Vector store(s) unread: request body cut short by Envoy (over max_request_bytes). Only allowed to access ${pyList(permission?.vector_stores ?? [])}`,
    'vector_store',
  );
}

export const vectorStoreAccess: Check = {
  name: 'vector_store_access',
  spec: 'litellm-auth.md §4 step 11, §4.11',
  statuses: [401],
  errorTypes: ['key_vector_store_access_denied', 'team_vector_store_access_denied', 'auth_error'],
  decide: (ctx) => {
    const { ids, error } = readVectorStoreIds(requestBody(ctx));
    // LiteLLM reads the ids before any permission: a TypeError there refuses every caller.
    if (error !== null) return authErrorFromException(error);
    const truncated = ctx.request.bodyTruncated;
    if (ids.length === 0 && !truncated) return null;
    const { key, team, objectPermissions } = ctx.snapshot;
    const keyPermission = key?.object_permission_id ? objectPermissions.get(key.object_permission_id) : undefined;
    const teamPermission = team?.object_permission_id ? objectPermissions.get(team.object_permission_id) : undefined;
    const seen =
      refusal('key_vector_store_access_denied', ids, keyPermission) ??
      refusal('team_vector_store_access_denied', ids, teamPermission);
    if (seen !== null || !truncated) return seen;
    if (restricts(keyPermission)) return cutShort('key_vector_store_access_denied', keyPermission);
    if (restricts(teamPermission)) return cutShort('team_vector_store_access_denied', teamPermission);
    return null;
  },
};
