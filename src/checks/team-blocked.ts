/** common_checks step 1: a blocked team. The "if your admin" typo is LiteLLM's own text. */
import type { Check } from './types';
import { authErrorFromException } from './errors';

export const teamBlocked: Check = {
  name: 'team_blocked',
  spec: 'litellm-auth.md §4 step 1',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const team = ctx.snapshot.team;
    if (team === null || team.blocked !== true) return null;
    return authErrorFromException(`Team=${team.team_id} is blocked. Update via \`/team/unblock\` if your admin.`);
  },
};
