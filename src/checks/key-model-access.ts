/**
 * §2.7 step 3 (`_enforce_key_and_fallback_model_access`): may this key call the requested model,
 * and every client-side fallback in the body?
 */
import type { VirtualKey } from '../domain/entities';
import type { Check, CheckContext, Denial } from './types';
import { ALL_TEAM_MODELS, canObjectCallModel } from './model-access';
import { isRoutableModel } from './model-router';
import { authErrorFromHttpExceptionDict } from './errors';
import { accessGroupModels, requestBody, requestedModel } from './context';
import { teamModelAliasesForChecks } from './served-model';
import { requestFallbackTargets } from './fallbacks';
import { hasOwnKeys } from '../util/own-keys';

/** `can_key_call_model`: the key's models, then (on refusal) its DB access groups' models. */
export function canKeyCallModel(ctx: CheckContext, key: VirtualKey, model: string | readonly string[]): Denial | null {
  return canObjectCallModel(model, key.models, {
    objectType: 'key',
    policy: ctx.policy,
    teamModelAliases: teamModelAliasesForChecks(ctx),
    dbAccessGroupModels: accessGroupModels(ctx.snapshot, key.access_group_ids),
  });
}

/**
 * `is_valid_fallback_model`: LiteLLM asks the router to route the fallback and turns
 * `ProxyModelNotFoundError` (an HTTPException 400 with a dict detail) into the response.
 */
function invalidFallbackModel(ctx: CheckContext, model: string): Denial | null {
  if (isRoutableModel(ctx.policy, model)) return null;
  return authErrorFromHttpExceptionDict(400, {
    error: `/chat/completions: Invalid model name passed in model=${model}. Call \`/v1/models\` to view available models for your key.`,
  });
}

/** A legacy per-key `config` or `all-team-models` hands model access to the team check instead. */
function keyModelCheckSkipped(key: VirtualKey): boolean {
  return hasOwnKeys(key.config) || key.models.includes(ALL_TEAM_MODELS);
}

export const keyModelAccess: Check = {
  name: 'key_model_access',
  spec: 'litellm-auth.md §2.7 step 3, §5',
  statuses: [401, 400],
  errorTypes: ['key_model_access_denied', 'auth_error'],
  decide: (ctx) => {
    const key = ctx.snapshot.key;
    if (key === null || keyModelCheckSkipped(key)) return null;
    const model = requestedModel(ctx);
    if (model !== null) {
      const refusal = canKeyCallModel(ctx, key, model);
      if (refusal !== null) return refusal;
    }
    for (const fallback of requestFallbackTargets(requestBody(ctx))) {
      const refusal = canKeyCallModel(ctx, key, fallback) ?? invalidFallbackModel(ctx, fallback);
      if (refusal !== null) return refusal;
    }
    return null;
  },
};
