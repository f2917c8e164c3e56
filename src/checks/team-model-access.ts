/**
 * common_checks step 2 (`can_team_access_model`): the team's models, then the team's DB access
 * groups. An empty team list means every model; `all-proxy-models` and `*` too.
 */
import type { Team } from '../domain/entities';
import type { Check, CheckContext, Denial } from './types';
import { canObjectCallModel } from './model-access';
import { accessGroupModels, requestedModel } from './context';
import { teamModelAliasesForChecks } from './served-model';

export function canTeamCallModel(ctx: CheckContext, team: Team, model: string | readonly string[]): Denial | null {
  return canObjectCallModel(model, team.models, {
    objectType: 'team',
    policy: ctx.policy,
    teamModelAliases: teamModelAliasesForChecks(ctx),
    dbAccessGroupModels: accessGroupModels(ctx.snapshot, team.access_group_ids),
  });
}

export const teamModelAccess: Check = {
  name: 'team_model_access',
  spec: 'litellm-auth.md §4 step 2, §5',
  statuses: [401],
  errorTypes: ['team_model_access_denied'],
  decide: (ctx) => {
    const team = ctx.snapshot.team;
    const model = requestedModel(ctx);
    if (team === null || model === null) return null;
    return canTeamCallModel(ctx, team, model);
  },
};
