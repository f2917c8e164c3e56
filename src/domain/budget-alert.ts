/**
 * A budget alert: spend crossed a soft budget, or a key reached 80 % of its max budget. Never a
 * denial. Field names follow LiteLLM's `CallInfo` (what its `budget_alerts` receive), so a webhook
 * consumer that knows LiteLLM's alerts knows these.
 */

/** LiteLLM's `budget_alerts(type=…)` values for the alerts Tollgate raises. */
export type BudgetAlertType = 'soft_budget' | 'max_budget_alert';

/** `Litellm_EntityType`: whose budget it is. */
export type BudgetAlertEntity = 'key' | 'team' | 'project';

export interface BudgetAlert {
  readonly type: BudgetAlertType;
  readonly event_group: BudgetAlertEntity;
  /** The key hash, team id or project id the budget belongs to (the deduplication key). */
  readonly entity_id: string;
  /** sha256 hex of the key whose request raised the alert (never the key itself). */
  readonly token: string;
  readonly spend: number;
  readonly max_budget: number | null;
  readonly soft_budget: number | null;
  readonly key_alias: string | null;
  readonly user_id: string | null;
  readonly user_email: string | null;
  readonly team_id: string | null;
  readonly team_alias: string | null;
  readonly organization_id: string | null;
  readonly project_id: string | null;
  /** Team soft budget only: `team.metadata.soft_budget_alerting_emails`. */
  readonly alert_emails: readonly string[] | null;
}
