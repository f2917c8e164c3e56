/**
 * The key as LiteLLM's auth reads it: its own row, with the limits it leaves empty taken from the
 * budget row its `budget_id` links (litellm-schema.md §5, `LiteLLM_VerificationTokenView`).
 *
 * LiteLLM reads keys through a view that joins that budget row as `litellm_budget_table_*`
 * columns, and the view's model copies each of them onto the key where the key's own value is
 * None (`max_budget`, `soft_budget`, `tpm_limit`, `rpm_limit`), and `model_max_budget` where the
 * key's is empty. A key created with `budget_id` alone therefore has the budget's limits, and
 * every check, rate limit and reservation here reads them the same way.
 */
import type { Budget, VirtualKey } from '../domain/entities';
import { hasOwnKeys } from '../util/own-keys';

/** The last key built for a key object, while the same budget object backs it. */
const withDefaults = new WeakMap<VirtualKey, { readonly budget: Budget; readonly key: VirtualKey }>();

export function keyWithBudgetDefaults(key: VirtualKey, budget: Budget | null): VirtualKey {
  if (budget === null || !fillsAnything(key, budget)) return key;
  const known = withDefaults.get(key);
  if (known !== undefined && known.budget === budget) return known.key;
  const filled: VirtualKey = Object.freeze({
    ...key,
    max_budget: key.max_budget ?? budget.max_budget,
    tpm_limit: key.tpm_limit ?? budget.tpm_limit,
    rpm_limit: key.rpm_limit ?? budget.rpm_limit,
    model_max_budget: hasOwnKeys(key.model_max_budget) || budget.model_max_budget === null ? key.model_max_budget : budget.model_max_budget,
  });
  withDefaults.set(key, { budget, key: filled });
  return filled;
}

function fillsAnything(key: VirtualKey, budget: Budget): boolean {
  return (
    (key.max_budget === null && budget.max_budget !== null) ||
    (key.tpm_limit === null && budget.tpm_limit !== null) ||
    (key.rpm_limit === null && budget.rpm_limit !== null) ||
    (!hasOwnKeys(key.model_max_budget) && budget.model_max_budget !== null && hasOwnKeys(budget.model_max_budget))
  );
}
