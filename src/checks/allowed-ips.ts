/**
 * §2.2 step 3 (`_check_valid_ip`): `general_settings.allowed_ips`. Unset → everyone; an empty
 * list → no one. With `use_x_forwarded_for` the *raw* header value is compared (no splitting on
 * commas, as LiteLLM); otherwise the downstream peer address.
 */
import type { Check } from './types';
import { authErrorFromHttpException } from './errors';

export const allowedIps: Check = {
  name: 'allowed_ips',
  spec: 'litellm-auth.md §2.2 step 3',
  statuses: [403],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const allowed = ctx.policy.allowedIps;
    if (allowed === null) return null;
    const forwarded = ctx.request.headers['x-forwarded-for'];
    const ip = ctx.policy.useXForwardedFor && forwarded !== undefined ? forwarded : (ctx.request.sourceAddress ?? '');
    if (allowed.includes(ip)) return null;
    return authErrorFromHttpException(403, `Access forbidden: IP address ${ip} not allowed.`);
  },
};
