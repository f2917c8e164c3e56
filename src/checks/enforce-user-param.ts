/**
 * common_checks step 6 (`_enforce_user_param_check`): with `enforce_user_param`, POSTs to LLM
 * routes (MCP excluded) must name the end user in `user`. The key's presence is enough, even null.
 */
import { isLlmApiRoute, isMcpRoute } from '../routes/classify';
import type { Check } from './types';
import { authErrorFromException } from './errors';
import { requestBody } from './context';

export const enforceUserParam: Check = {
  name: 'enforce_user_param',
  spec: 'litellm-auth.md §4 step 6',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    if (!ctx.policy.enforceUserParam) return null;
    const route = ctx.request.route;
    if (ctx.request.method.toUpperCase() !== 'POST' || !isLlmApiRoute(route, ctx.policy.passThroughEndpoints) || isMcpRoute(route)) return null;
    if (Object.hasOwn(requestBody(ctx), 'user')) return null;
    // Envoy sent a prefix only: `user` usually follows the prompt (the SDKs write it after
    // `messages`), so its absence from what was seen says nothing. LiteLLM sees the whole body.
    if (ctx.request.bodyTruncated) return null;
    return authErrorFromException("'user' param not passed in. 'enforce_user_param'=True");
  },
};
