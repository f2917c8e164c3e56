/**
 * common_checks step 3.2 (`_tag_max_budget_check`): every tag in the request that exists in
 * `LiteLLM_TagTable` must be within its budget. LiteLLM: spend > max (strict). Unknown tags pass.
 * The request's tags are the body's with the `x-litellm-tags` header's and the key's own merged
 * in, as newer LiteLLM merges them before this check (checks/pre-auth-tags.ts): a key whose tags
 * carry a budget is held to it though the client names no tag.
 */
import type { Check } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { requestBody } from './context';
import { preAuthRequestTags } from './pre-auth-tags';
import { pyFloat } from './python-format';

export const tagBudget: Check = {
  name: 'tag_budget',
  spec: 'litellm-auth.md §4 step 3.2, §4.12',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    if (ctx.snapshot.tags.length === 0 || areBudgetChecksSkipped(ctx)) return null;
    for (const tagName of preAuthRequestTags(requestBody(ctx), ctx.request, ctx.snapshot.key?.metadata ?? null)) {
      const tag = ctx.snapshot.tags.find((t) => t.tag_name === tagName);
      const maxBudget = tag?.budget?.max_budget ?? null;
      if (tag === undefined || maxBudget === null || !(tag.spend > maxBudget)) continue;
      return budgetExceeded(
        `Budget has been exceeded! Tag=${tagName} Current cost: ${pyFloat(tag.spend)}, Max budget: ${pyFloat(maxBudget)}`,
      );
    }
    return null;
  },
};
