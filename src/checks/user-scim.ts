/**
 * §2.7 step 4 *[newer]* and §10: a key whose owning user was deactivated through SCIM
 * (`user.metadata.scim_active` is exactly false) cannot be used. Newer LiteLLM raises a
 * ProxyException here (401 auth_error, param `user_id`).
 *
 * Deliberate choice: the newer behaviour. The seed has no such check, so an offboarded user's keys
 * kept working until someone blocked them one by one; Tollgate follows LiteLLM's fix. A missing
 * or non-boolean `scim_active` is "never touched by SCIM" and passes.
 */
import type { Check } from './types';
import { deny } from './types';

export const userScimDeactivated: Check = {
  name: 'user_scim_deactivated',
  spec: 'litellm-auth.md §2.7 step 4 [newer], §10',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const { key, user } = ctx.snapshot;
    if (key === null || user === null || user.metadata['scim_active'] !== false) return null;
    return deny(
      401,
      'auth_error',
      `User=${user.user_id} has been deactivated via SCIM. Keys owned by this user cannot be used.`,
      'user_id',
    );
  },
};
