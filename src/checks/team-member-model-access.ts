/**
 * common_checks step 2.2 (`_check_team_member_model_access`, newer LiteLLM): a team member whose
 * membership budget lists `allowed_models` may call only those within the team, whatever the
 * team allows. An empty list adds no restriction.
 */
import type { Check } from './types';
import { deny } from './types';
import { canObjectCallModel } from './model-access';
import { requestedModel } from './context';
import { pyList } from './python-format';

export const teamMemberModelAccess: Check = {
  name: 'team_member_model_access',
  spec: 'litellm-auth.md §4 step 2.2 [newer]',
  statuses: [401],
  errorTypes: ['team_model_access_denied'],
  decide: (ctx) => {
    const { team, membership } = ctx.snapshot;
    const allowed = membership?.budget?.allowed_models;
    const model = requestedModel(ctx);
    if (team === null || membership == null || allowed === undefined || allowed.length === 0 || model === null) return null;
    if (canObjectCallModel(model, allowed, { objectType: 'team', policy: ctx.policy }) === null) return null;
    const tried = typeof model === 'string' ? model : pyList(model);
    return deny(
      401,
      'team_model_access_denied',
      `Team member not allowed to access model. User=${membership.user_id}, Team=${team.team_id}, Model=${tried}. Allowed member models = ${pyList(allowed)}`,
      'model',
    );
  },
};
