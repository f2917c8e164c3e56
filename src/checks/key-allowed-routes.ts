/**
 * Virtual-key `allowed_routes` (`RouteChecks.is_virtual_key_allowed_to_call_route`, §6.4), run
 * after every other check. LiteLLM raises this one outside its exception handler, so its clients
 * get FastAPI's `{"detail": …}` body; Tollgate answers with the usual `{"error": …}` envelope
 * (spec README §4.5), status 403 as LiteLLM.
 */
import { keyAllowedRoutesAdmit } from '../routes/classify';
import type { Check } from './types';
import { authErrorFromHttpException } from './errors';
import { pyList } from './python-format';

export const keyAllowedRoutes: Check = {
  name: 'key_allowed_routes',
  spec: 'litellm-auth.md §6.4, README §4.5',
  statuses: [403],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    const route = ctx.request.route;
    if (key === null || keyAllowedRoutesAdmit(route, key.allowed_routes, ctx.policy.passThroughEndpoints)) return null;
    return authErrorFromHttpException(
      403,
      `Virtual key is not allowed to call this route. Only allowed to call routes: ${pyList(key.allowed_routes)}. Tried to call route: ${route}`,
    );
  },
};
