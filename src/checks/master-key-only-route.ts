/** §2.6 step 6: a few routes answer only to the master key itself. */
import { isMasterKeyOnlyRoute } from '../routes/classify';
import type { Check } from './types';
import { authErrorFromException } from './errors';

/** Runs on the virtual-key path only, so every caller here is "not the master key". */
export const masterKeyOnlyRoute: Check = {
  name: 'master_key_only_route',
  spec: 'litellm-auth.md §2.6 step 6',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const route = ctx.request.route;
    if (!isMasterKeyOnlyRoute(route)) return null;
    return authErrorFromException(`Tried to access route=${route}, which is only for MASTER KEY`);
  },
};
