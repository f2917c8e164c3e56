/**
 * common_checks step 8 (`_guardrail_modification_check`): a request that asks to change which
 * guardrails run needs a team allowed to modify guardrails. Only a team whose
 * `metadata.guardrails.modify_guardrails` is exactly false is refused; no team → allowed.
 *
 * The seed looked only at a truthy `metadata.guardrails`. Newer LiteLLM refuses the mere presence
 * of any of four keys (`guardrails`, `disable_global_guardrails`, `disable_global_guardrail`,
 * `opted_out_global_guardrails`) in `metadata`, in `litellm_metadata` or at the body's root, each
 * container read as a dict or parsed from a JSON string (`_coerce_to_dict`). Tollgate follows the
 * newer rule: it refuses everything the seed refused, and an upstream LiteLLM of either version may
 * honour those toggles, so a locked team must not reach it with them.
 *
 * Deliberate difference: a locked team is refused a body Envoy cut short (over `max_request_bytes`).
 * A toggle past the cut cannot be seen here but reaches the upstream, so padding the prompt would
 * otherwise turn a locked team's guardrails off.
 */
import type { Json, Team } from '../domain/entities';
import type { Check } from './types';
import { authErrorFromHttpExceptionDict } from './errors';
import { isJsonObject, requestBody } from './context';
import { metadataAsObject } from './request-metadata';

const GUARDRAIL_MODIFICATION_KEYS = ['guardrails', 'disable_global_guardrails', 'disable_global_guardrail', 'opted_out_global_guardrails'];

/** `guardrail_helpers.can_modify_guardrails`. */
export function canModifyGuardrails(team: Team | null): boolean {
  if (team === null) return true;
  const guardrails = team.metadata['guardrails'];
  return !(isJsonObject(guardrails) && guardrails['modify_guardrails'] === false);
}

/** `_user_requested_modification`: any of the keys present, whatever its value. */
function namesGuardrailKey(container: Json | undefined): boolean {
  const object = metadataAsObject(container);
  return object !== null && GUARDRAIL_MODIFICATION_KEYS.some((key) => Object.hasOwn(object, key));
}

function requestsGuardrailModification(body: Readonly<Record<string, Json>>): boolean {
  return (
    namesGuardrailKey(body['metadata']) ||
    namesGuardrailKey(body['litellm_metadata']) ||
    GUARDRAIL_MODIFICATION_KEYS.some((key) => Object.hasOwn(body, key))
  );
}

export const guardrailModification: Check = {
  name: 'guardrail_modification',
  spec: 'litellm-auth.md §4 step 8',
  statuses: [403],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    if (ctx.request.bodyTruncated) {
      if (canModifyGuardrails(ctx.snapshot.team)) return null;
      return authErrorFromHttpExceptionDict(403, {
        error: 'Your team does not have permission to modify guardrails, and this request body was cut short by Envoy (over max_request_bytes), so it cannot be checked for guardrail changes.',
      });
    }
    if (!requestsGuardrailModification(requestBody(ctx))) return null;
    if (canModifyGuardrails(ctx.snapshot.team)) return null;
    return authErrorFromHttpExceptionDict(403, { error: 'Your team does not have permission to modify guardrails.' });
  },
};
