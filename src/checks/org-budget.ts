/**
 * common_checks step 3.1 (`_organization_max_budget_check`). LiteLLM: spend >= max (non-strict),
 * only when max_budget > 0; the org is the key's, else its team's; a missing org row skips.
 */
import type { Check, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { pyFloat } from './python-format';

/**
 * `valid_token.org_id`, else `team.organization_id`. For a key, `org_id` is the key's own
 * `organization_id` when set: the combined view selects the team's org as `org_id`, but the newest
 * `LiteLLM_VerificationTokenView.__init__` moves the key's `organization_id` over it. Without a key
 * (a JWT) the loaded organization stands for `valid_token.org_id`: the token's org claim, which
 * wins over the team's.
 */
export function budgetOrganizationId(snapshot: Snapshot): string | null {
  const { key, team, organization } = snapshot;
  if (key !== null) return key.organization_id ?? team?.organization_id ?? null;
  return organization?.organization_id ?? team?.organization_id ?? null;
}

export const organizationBudget: Check = {
  name: 'organization_budget',
  spec: 'litellm-auth.md §4 step 3.1',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const orgId = budgetOrganizationId(ctx.snapshot);
    const org = ctx.snapshot.organization;
    if (orgId === null || org === null || org.organization_id !== orgId || areBudgetChecksSkipped(ctx)) return null;
    const maxBudget = org.budget?.max_budget ?? null;
    if (maxBudget === null || !(maxBudget > 0) || !(org.spend >= maxBudget)) return null;
    return budgetExceeded(
      `Budget has been exceeded! Organization=${orgId} Current cost: ${pyFloat(org.spend)}, Max budget: ${pyFloat(maxBudget)}`,
    );
  },
};
