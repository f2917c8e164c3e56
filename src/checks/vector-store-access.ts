/**
 * common_checks step 11 (`vector_store_access_check`, `_can_object_call_vector_stores`): the
 * vector stores a request names must be allowed by the key's object permission, then by the
 * team's. A missing permission row, or an empty `vector_stores` list, allows every store.
 *
 * Deliberate differences: LiteLLM skips the check when no vector-store registry is configured and
 * reads the permission rows uncached; Tollgate always checks (a row that restricts stores is
 * enforced whatever the proxy has registered) and reads them through its cache like every row.
 */
import type { Json, ObjectPermission } from '../domain/entities';
import type { Check, Denial, ProxyErrorType } from './types';
import { deny } from './types';
import { requestBody } from './context';
import { pyFloat, pyList } from './python-format';
import { requestedVectorStoreIds } from './vector-store-ids';

/** Python `str()` of a requested id (normally a string). */
function idText(id: Json): string {
  if (typeof id === 'string') return id;
  if (id === null) return 'None';
  if (typeof id === 'boolean') return id ? 'True' : 'False';
  if (typeof id === 'number') return Number.isInteger(id) ? String(id) : pyFloat(id);
  return JSON.stringify(id);
}

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
    `User not allowed to access vector store. Tried to access ${idText(denied)}. Only allowed to access ${pyList(allowed)}`,
    'vector_store',
  );
}

export const vectorStoreAccess: Check = {
  name: 'vector_store_access',
  spec: 'litellm-auth.md §4 step 11, §4.11',
  statuses: [401],
  errorTypes: ['key_vector_store_access_denied', 'team_vector_store_access_denied'],
  decide: (ctx) => {
    const ids = requestedVectorStoreIds(requestBody(ctx));
    if (ids.length === 0) return null;
    const { key, team, objectPermissions } = ctx.snapshot;
    const keyPermission = key?.object_permission_id ? objectPermissions.get(key.object_permission_id) : undefined;
    const teamPermission = team?.object_permission_id ? objectPermissions.get(team.object_permission_id) : undefined;
    return (
      refusal('key_vector_store_access_denied', ids, keyPermission) ??
      refusal('team_vector_store_access_denied', ids, teamPermission)
    );
  },
};
