/** §2.7 step 2: a blocked key. Raised by LiteLLM as a plain Exception, hence 401 auth_error. */
import type { Check } from './types';
import { authErrorFromException } from './errors';

export const keyBlocked: Check = {
  name: 'key_blocked',
  spec: 'litellm-auth.md §2.7 step 2',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) =>
    ctx.snapshot.key?.blocked === true
      ? authErrorFromException("Key is blocked. Update via `/key/unblock` if you're an admin.")
      : null,
};
