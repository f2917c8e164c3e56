/**
 * common_checks step 2.1 (`can_user_call_model`): personal keys only (no team). A user whose
 * models include `no-default-models` may call nothing outside a team.
 */
import type { Check } from './types';
import { deny } from './types';
import { NO_DEFAULT_MODELS, canObjectCallModel } from './model-access';
import { requestedModel } from './context';
import { pyList } from './python-format';

export const userModelAccess: Check = {
  name: 'user_model_access',
  spec: 'litellm-auth.md §4 step 2.1, §5',
  statuses: [401],
  errorTypes: ['user_model_access_denied', 'key_model_access_denied'],
  decide: (ctx) => {
    const { team, user } = ctx.snapshot;
    const model = requestedModel(ctx);
    if (model === null || team !== null || user === null) return null;
    if (user.models.includes(NO_DEFAULT_MODELS)) {
      // LiteLLM (sic): this branch reports `key_model_access_denied`, not `user_model_access_denied`.
      const tried = typeof model === 'string' ? model : pyList(model);
      return deny(
        401,
        'key_model_access_denied',
        `User not allowed to access model. No default model access, only team models allowed. Tried to access ${tried}`,
        'model',
      );
    }
    return canObjectCallModel(model, user.models, { objectType: 'user', policy: ctx.policy });
  },
};
