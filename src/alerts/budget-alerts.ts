/**
 * Which budget alerts a request raises (litellm-auth.md §2.7 step 8, §4 steps P and 3.0.5, §8):
 * pure functions over the checks' context, never a denial.
 *
 * - key 80 %: `max_budget * 0.8 <= spend < max_budget` and `spend > 0` (`max_budget_alert`; the
 *   effective max budget, temporary increase included);
 * - key soft budget: the key's linked budget row has a non-zero `soft_budget` and `spend >= it`;
 * - team soft budget: `spend >= soft_budget`, only when `team.metadata.soft_budget_alerting_emails`
 *   names someone (LiteLLM sends team soft alerts to those addresses only);
 * - project soft budget: `spend >= budget.soft_budget`.
 *
 * LiteLLM raises each alert only if the request got that far: an alert is collected when every
 * check before its place in LiteLLM's order passed (the request was allowed, or refused later).
 * Budget alerts follow the budget rules' scope: none for free models or on info routes.
 */
import type { Budget, Project, Team, VirtualKey } from '../domain/entities';
import type { BudgetAlert } from '../domain/budget-alert';
import type { CheckContext } from '../checks/types';
import { VIRTUAL_KEY_PIPELINE } from '../checks/order';
import { areBudgetChecksSkipped } from '../checks/budget-scope';
import { keyMaxBudgetWithTempIncrease } from '../checks/key-budget';
import { budgetOrganizationId } from '../checks/org-budget';

/** `EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE`. */
export const MAX_BUDGET_ALERT_FRACTION = 0.8;

type AlertBase = Omit<BudgetAlert, 'type' | 'event_group' | 'entity_id' | 'spend' | 'max_budget' | 'soft_budget' | 'alert_emails'>;

function baseOf(ctx: CheckContext, key: VirtualKey): AlertBase {
  const { team, user } = ctx.snapshot;
  return {
    token: key.token,
    key_alias: key.key_alias,
    user_id: key.user_id,
    user_email: user?.user_email ?? null,
    team_id: key.team_id,
    team_alias: team?.team_alias ?? null,
    organization_id: budgetOrganizationId(ctx.snapshot),
    project_id: key.project_id,
  };
}

/** `_virtual_key_max_budget_alert_check`. */
export function keyMaxBudgetAlert(key: VirtualKey, keyBudget: Budget | null, now: Date, base: AlertBase): BudgetAlert | null {
  const maxBudget = keyMaxBudgetWithTempIncrease(key, now);
  if (maxBudget === null || !(key.spend > 0)) return null;
  if (!(key.spend >= maxBudget * MAX_BUDGET_ALERT_FRACTION && key.spend < maxBudget)) return null;
  return {
    ...base,
    type: 'max_budget_alert',
    event_group: 'key',
    entity_id: key.token,
    spend: key.spend,
    max_budget: maxBudget,
    soft_budget: keyBudget?.soft_budget ?? null,
    alert_emails: null,
  };
}

/** `_virtual_key_soft_budget_check`: `soft_budget` truthy (0 is no soft budget) and `spend >= soft_budget`. */
export function keySoftBudgetAlert(key: VirtualKey, keyBudget: Budget | null, now: Date, base: AlertBase): BudgetAlert | null {
  const softBudget = keyBudget?.soft_budget ?? null;
  if (softBudget === null || softBudget === 0 || !(key.spend >= softBudget)) return null;
  return {
    ...base,
    type: 'soft_budget',
    event_group: 'key',
    entity_id: key.token,
    spend: key.spend,
    max_budget: keyMaxBudgetWithTempIncrease(key, now),
    soft_budget: softBudget,
    alert_emails: null,
  };
}

/** `soft_budget_alerting_emails`: a list of non-blank strings, or a comma-separated string. */
export function teamAlertEmails(team: Team): readonly string[] {
  const configured = team.metadata['soft_budget_alerting_emails'];
  if (Array.isArray(configured)) {
    return configured.filter((email): email is string => typeof email === 'string' && email.trim() !== '');
  }
  if (typeof configured === 'string') return configured.split(',').map((email) => email.trim()).filter((email) => email !== '');
  return [];
}

/** `_team_soft_budget_check`: `soft_budget is not None` (0 counts) and `spend >= soft_budget`, with recipients. */
export function teamSoftBudgetAlert(team: Team, base: AlertBase): BudgetAlert | null {
  if (team.soft_budget === null || !(team.spend >= team.soft_budget)) return null;
  const emails = teamAlertEmails(team);
  if (emails.length === 0) return null;
  return {
    ...base,
    type: 'soft_budget',
    event_group: 'team',
    entity_id: team.team_id,
    spend: team.spend,
    max_budget: team.max_budget,
    soft_budget: team.soft_budget,
    alert_emails: emails,
  };
}

/** `_project_soft_budget_check`: the project's budget row `soft_budget`, `spend >= it`. */
export function projectSoftBudgetAlert(project: Project, base: AlertBase): BudgetAlert | null {
  const softBudget = project.budget?.soft_budget ?? null;
  if (softBudget === null || !(project.spend >= softBudget)) return null;
  return {
    ...base,
    type: 'soft_budget',
    event_group: 'project',
    entity_id: project.project_id,
    spend: project.spend,
    max_budget: null,
    soft_budget: softBudget,
    alert_emails: null,
  };
}

const POSITION = new Map(VIRTUAL_KEY_PIPELINE.map((check, index) => [check.name, index]));

/** Did the request get past `check`? Allowed requests passed everything; "identify" refusals nothing. */
function passed(check: string, refusedBy: string | null): boolean {
  if (refusedBy === null) return true;
  const refused = POSITION.get(refusedBy);
  const at = POSITION.get(check);
  return refused !== undefined && at !== undefined && refused > at;
}

/**
 * The alerts of one virtual-key request, given the check that refused it (null when allowed).
 * Each alert sits where LiteLLM raises it: the 80 % alert just before the key budget check, the
 * key soft budget just after it, the project soft budget after its hard budget, the team's after
 * its hard budget and the multi-window budgets.
 */
export function budgetAlerts(ctx: CheckContext, refusedBy: string | null): readonly BudgetAlert[] {
  const { key, keyBudget, team, project } = ctx.snapshot;
  if (key === null || areBudgetChecksSkipped(ctx)) return [];
  const base = baseOf(ctx, key);
  const candidates = [
    passed('key_expired', refusedBy) ? keyMaxBudgetAlert(key, keyBudget, ctx.now, base) : null,
    passed('key_budget', refusedBy) ? keySoftBudgetAlert(key, keyBudget, ctx.now, base) : null,
    project !== null && passed('project_budget', refusedBy) ? projectSoftBudgetAlert(project, base) : null,
    // LiteLLM's team soft budget check (3.0.5) runs after both multi-window checks (3.1, 3.2).
    team !== null && passed('key_window_budgets', refusedBy) ? teamSoftBudgetAlert(team, base) : null,
  ];
  return candidates.filter((alert): alert is BudgetAlert => alert !== null);
}
