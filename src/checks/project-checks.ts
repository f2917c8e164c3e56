/** common_checks step P (`_run_project_checks`): blocked, model access, then budget. */
import type { Check } from './types';
import { authErrorFromException, budgetExceeded } from './errors';
import { canObjectCallModel } from './model-access';
import { areBudgetChecksSkipped } from './budget-scope';
import { requestedModel } from './context';
import { pyFloat } from './python-format';

export const projectBlocked: Check = {
  name: 'project_blocked',
  spec: 'litellm-auth.md §4 step P',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const project = ctx.snapshot.project;
    if (project === null || project.blocked !== true) return null;
    return authErrorFromException(
      `Project=${project.project_id} is blocked. Update via \`/project/update\` if you're an admin.`,
    );
  },
};

/** Unlike keys and teams, an empty project list is not checked at all (same outcome: allowed). */
export const projectModelAccess: Check = {
  name: 'project_model_access',
  spec: 'litellm-auth.md §4 step P, §5',
  statuses: [401],
  errorTypes: ['project_model_access_denied'],
  decide: (ctx) => {
    const project = ctx.snapshot.project;
    const model = requestedModel(ctx);
    if (project === null || model === null || project.models.length === 0) return null;
    return canObjectCallModel(model, project.models, { objectType: 'project', policy: ctx.policy });
  },
};

/** LiteLLM: spend > budget.max_budget (strict). */
export const projectBudget: Check = {
  name: 'project_budget',
  spec: 'litellm-auth.md §4 step P',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const project = ctx.snapshot.project;
    if (project === null || areBudgetChecksSkipped(ctx)) return null;
    const maxBudget = project.budget?.max_budget ?? null;
    if (maxBudget === null || !(project.spend > maxBudget)) return null;
    return budgetExceeded(
      `Budget has been exceeded! Project=${project.project_id} Current cost: ${pyFloat(project.spend)}, Max budget: ${pyFloat(maxBudget)}`,
    );
  },
};
