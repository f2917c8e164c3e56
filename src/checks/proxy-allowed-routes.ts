/**
 * §2.2 step 4: proxy-wide `general_settings.allowed_routes`, exact membership only. LiteLLM
 * enforces it even on non-premium installs (it only logs an error), and so does Tollgate.
 */
import type { Check } from './types';
import { authErrorFromHttpException } from './errors';

export const proxyAllowedRoutes: Check = {
  name: 'proxy_allowed_routes',
  spec: 'litellm-auth.md §2.2 step 4',
  statuses: [403],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const allowed = ctx.policy.allowedRoutes;
    const route = ctx.request.route;
    if (allowed === null || allowed.includes(route)) return null;
    return authErrorFromHttpException(403, `Access forbidden: Route ${route} not allowed`);
  },
};
