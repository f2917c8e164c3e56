/**
 * common_checks step 8 (`_guardrail_modification_check`, seed version): a request that sets
 * `metadata.guardrails` needs a team allowed to modify guardrails. Only a team whose
 * `metadata.guardrails.modify_guardrails` is exactly false is refused; no team → allowed.
 * Newer LiteLLM also catches `disable_global_guardrail(s)` flags; not reproduced. Metadata sent
 * as a JSON string is parsed, as newer LiteLLM does (`_coerce_to_dict`); the seed failed on it.
 */
import type { Team } from '../domain/entities';
import type { Check } from './types';
import { authErrorFromHttpExceptionDict } from './errors';
import { isJsonObject, requestBody } from './context';
import { metadataAsObject } from './request-metadata';
import { isTruthy } from '../domain/truthiness';

/** `guardrail_helpers.can_modify_guardrails`. */
export function canModifyGuardrails(team: Team | null): boolean {
  if (team === null) return true;
  const guardrails = team.metadata['guardrails'];
  return !(isJsonObject(guardrails) && guardrails['modify_guardrails'] === false);
}

export const guardrailModification: Check = {
  name: 'guardrail_modification',
  spec: 'litellm-auth.md §4 step 8',
  statuses: [403],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    // Metadata sent as a JSON string (multipart, extra_body) is read as newer LiteLLM reads it.
    const metadata = metadataAsObject(requestBody(ctx)['metadata']);
    if (metadata === null || !isTruthy(metadata['guardrails'])) return null;
    if (canModifyGuardrails(ctx.snapshot.team)) return null;
    return authErrorFromHttpExceptionDict(403, { error: 'Your team does not have permission to modify guardrails.' });
  },
};
