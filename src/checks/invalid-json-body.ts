/**
 * A whole body that is not JSON (newer LiteLLM's `_read_request_body` raises a ProxyException: 400
 * `invalid_request_error`, param `request_body`). `user_api_key_auth` holds that error back, decides
 * the request as one with an empty body, and raises it only once the caller has passed: a bad or
 * blocked key, a model or budget refusal, a route the key may not call each answer first with its
 * own error. So this is the last check, before the rate limits and budget reservations of admission,
 * which LiteLLM's pre-call hooks never reach for such a body.
 *
 * The callers that pass no check (the master key, an open proxy, `/user/auth`, a pass-through
 * without auth, anyone on a route made public in `general_settings.public_routes`) are refused it
 * as they are allowed (authorize.ts). LiteLLM's own public routes are not: their endpoints mostly
 * read no body (`/health/liveliness` runs no auth), and of those that do, a missed 400 is the
 * lesser error. A public route's refusal names no one, as LiteLLM's nameless view-only caller.
 */
import type { Check, Denial } from './types';
import { deny } from './types';

export const invalidJsonBody: Check = {
  name: 'invalid_json_body',
  spec: 'newer LiteLLM (§2.1 body: http_parsing_utils._read_request_body, raised last by user_api_key_auth)',
  statuses: [400],
  errorTypes: ['invalid_request_error'],
  decide: (ctx) => invalidJsonDenial(ctx.request.invalidJson),
};

/** The refusal of a body that is not JSON; null for every other body. */
export function invalidJsonDenial(message: string | undefined): Denial | null {
  return message === undefined ? null : deny(400, 'invalid_request_error', message, 'request_body');
}
