/**
 * common_checks step 12 (`check_tools_allowlist`): the key's `metadata.allowed_tools`, or when
 * that is empty the team's, limits which tools a request may name. No list → any tool.
 *
 * LiteLLM extracts the names before it looks at either list, so a `tools` its extractor cannot
 * iterate (`"tools": 5` on a tool-capable route) raises TypeError for every caller: 401 auth_error.
 * A JWT identity is checked against its team's list (LiteLLM builds it a token carrying
 * `team_metadata`); the master key has no list.
 *
 * Deliberate difference: a body Envoy cut short (over `max_request_bytes`) is refused for a caller
 * with a list on a tool-capable route. LiteLLM sees the whole body; Tollgate sees a prefix, and a
 * tool past the cut (or a second `tools` member, which Python's parser lets win) would reach the
 * upstream unchecked — padding the prompt would be a way around the list. As for a model the cut
 * hides from a caller limited to some models (envoy/attributes.ts), refusing is the only answer
 * that does not grant what the list forbids.
 */
import type { Json } from '../domain/entities';
import type { Check, Denial } from './types';
import { deny } from './types';
import { requestBody } from './context';
import { requestToolNames, toolApiForRoute } from './tool-names';
import { pyList, pyStr } from './python-format';
import { isPythonTypeError } from './python-iteration';
import { authErrorFromException } from './errors';

const TOOLS_CUT_SHORT: Denial = Object.freeze({
  status: 403,
  type: 'tool_access_denied',
  message:
    'Tool(s) unread: request body cut short by Envoy (over max_request_bytes), so the allowed tools list for this key/team cannot be checked. Send a smaller body.',
  param: 'tools',
});

function nonEmptyList(value: Json | undefined): readonly Json[] | null {
  return Array.isArray(value) && value.length > 0 ? value : null;
}

export const toolAllowlist: Check = {
  name: 'tool_allowlist',
  spec: 'litellm-auth.md §4 step 12, §4.12',
  statuses: [403, 401],
  errorTypes: ['tool_access_denied', 'auth_error'],
  decide: (ctx) => {
    const { key, team } = ctx.snapshot;
    const effective =
      nonEmptyList(key?.metadata['allowed_tools']) ?? nonEmptyList(team?.metadata['allowed_tools']) ?? null;
    const names = requestToolNames(ctx.request.route, requestBody(ctx), effective !== null);
    if (isPythonTypeError(names)) return authErrorFromException(names.typeError);
    if (effective === null) return null;
    const allowed = new Set(effective.map(pyStr));
    const disallowed = names.filter((name) => !allowed.has(name));
    // A tool the prefix shows is named as in a whole body; only then is the unread rest refused.
    if (disallowed.length === 0) return ctx.request.bodyTruncated && toolApiForRoute(ctx.request.route) !== null ? TOOLS_CUT_SHORT : null;
    return deny(
      403,
      'tool_access_denied',
      `Tool(s) ${pyList(disallowed)} are not in the allowed tools list for this key/team.`,
      'tools',
    );
  },
};
