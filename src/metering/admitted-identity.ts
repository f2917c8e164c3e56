/**
 * The identity Check resolved, in the two forms metering receives it:
 * - from the Check itself on this replica (the allow decision and its request facts);
 * - from the ext_authz dynamic metadata Envoy forwards with the ext_proc stream
 *   (metadata_options.forwarding_namespaces.untyped: [envoy.filters.http.ext_authz]),
 *   which works whichever replica answered the Check.
 * Field names are the dynamic-metadata names of spec README §3, plus `request_tags` and
 * `admission_id` (spend/admission.ts).
 */
import { modelBudgetName, type ModelBudgetCounter, type ModelBudgetScope } from '../checks/model-budget-scopes';
import type { TeamMemberModelCounter } from '../checks/team-member-model-budget';
import { isDuration } from '../spend/budget-window';
import type { Decision } from '../domain/decision';
import type { Json } from '../domain/entities';
import { modelLabel, type RequestFacts } from '../domain/request';
import { fromStruct, type Struct } from '../envoy/messages';
import { tagsFromBody } from '../snapshot/request-tags';
import type { Attribution } from '../spend/spend-event';

export const EXT_AUTHZ_NAMESPACE = 'envoy.filters.http.ext_authz';

export function attributionFromDecision(decision: Decision, facts: RequestFacts): Attribution {
  const id = decision.identity;
  return {
    keyHash: id.keyHash ?? null,
    userId: id.userId ?? null,
    teamId: id.teamId ?? null,
    orgId: id.orgId ?? null,
    projectId: id.projectId ?? null,
    endUserId: id.endUserId ?? facts.endUserId ?? null,
    tags: admittedTagsOf(decision) ?? tagsFromBody(facts.sentBody === undefined ? facts.body : facts.sentBody),
    ...chargedTagsOf(decision.kind === 'allow' ? decision.metadata?.charged_tags : undefined),
    model: typeof facts.model === 'string' ? modelLabel(facts.model) : (id.model ?? null),
    ...rateLimitModelOf(decision.kind === 'allow' ? decision.metadata?.rate_limit_model : undefined),
    ...(decision.kind === 'allow' && decision.metadata !== undefined ? agentOf(decision.metadata) : {}),
    ...modelBudgetsOf(decision.kind === 'allow' ? decision.metadata?.model_budgets : undefined),
    ...teamMemberModelOf(decision.kind === 'allow' ? decision.metadata?.team_member_model : undefined),
  };
}

function text(values: Readonly<Record<string, Json>>, name: string): string | null {
  const value = values[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Null when Envoy forwarded no ext_authz metadata (Check was not consulted, or not forwarded). */
export function attributionFromMetadata(filterMetadata: Record<string, Struct> | undefined): Attribution | null {
  const struct = filterMetadata?.[EXT_AUTHZ_NAMESPACE];
  if (struct === undefined) return null;
  const values = fromStruct(struct);
  const tags = values.request_tags;
  return {
    keyHash: text(values, 'key_hash'),
    userId: text(values, 'user_id'),
    teamId: text(values, 'team_id'),
    orgId: text(values, 'org_id'),
    projectId: text(values, 'project_id'),
    endUserId: text(values, 'end_user_id'),
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    ...chargedTagsOf(values.charged_tags),
    model: text(values, 'model'),
    ...rateLimitModelOf(values.rate_limit_model),
    ...agentOf(values),
    ...modelBudgetsOf(values.model_budgets),
    ...teamMemberModelOf(values.team_member_model),
  };
}

/**
 * `agent_id` / `agent_session_id` from the admission's metadata (spend/admission.ts): the agent token
 * windows the response feeds. `agent_budget_session_id` names the session whose spend it is charged
 * to too (an empty id is one); from an earlier version, which names none, `agent_session_budget`
 * charges `agent_session_id`'s.
 */
function agentOf(values: Readonly<Record<string, Json>>): Pick<Attribution, 'agentId' | 'agentSessionId' | 'agentSessionBudget' | 'agentBudgetSessionId'> {
  const agentId = text(values, 'agent_id');
  if (agentId === null) return {};
  const sessionId = text(values, 'agent_session_id');
  const budgetSessionId = values.agent_budget_session_id;
  return {
    agentId,
    ...(sessionId === null ? {} : { agentSessionId: sessionId }),
    ...(sessionId !== null && values.agent_session_budget === true ? { agentSessionBudget: true } : {}),
    ...(typeof budgetSessionId === 'string' ? { agentBudgetSessionId: budgetSessionId } : {}),
  };
}

/**
 * `rate_limit_model` from the admission's metadata (spend/admission.ts): the alias target whose
 * per-model tpm windows the response feeds. Absent (no alias, or a replica that names none): the model's.
 */
function rateLimitModelOf(value: Json | undefined): Pick<Attribution, 'rateLimitModel'> {
  return typeof value === 'string' && value !== '' ? { rateLimitModel: value } : {};
}

const SCOPES: ReadonlySet<string> = new Set<ModelBudgetScope>(['key', 'user', 'team', 'end_user']);

/**
 * `model_budgets` from the admission's metadata (`[scope, id, budget model, duration]` each): the
 * per-model windows the response is charged to. An entry that is not one of these is dropped, as
 * is one whose duration cannot be read (its window would be held for centuries, windowLengthMs),
 * and a window named twice is charged once.
 */
function modelBudgetsOf(value: Json | undefined): { modelBudgets?: ModelBudgetCounter[] } {
  if (!Array.isArray(value)) return {};
  const windows = new Map<string, ModelBudgetCounter>();
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length !== 4 || !entry.every((part): part is string => typeof part === 'string')) continue;
    const [scope, id, budgetModel, duration] = entry;
    if (!SCOPES.has(scope) || !isDuration(duration)) continue;
    const window = { scope: scope as ModelBudgetScope, id, budgetModel, duration };
    windows.set(modelBudgetName(window), window);
  }
  return windows.size > 0 ? { modelBudgets: [...windows.values()] } : {};
}

/** `team_member_model` from the admission's metadata (`[user, team, model]`): the member's per-model counter the response is charged to. */
function teamMemberModelOf(value: Json | undefined): { teamMemberModel?: TeamMemberModelCounter } {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((part): part is string => typeof part === 'string')) return {};
  const [userId, teamId, model] = value;
  return { teamMemberModel: { userId, teamId, model } };
}

/**
 * The tags the admission named (`request_tags`: the body's as sent with the header's and the key's
 * merged in, spend/admission.ts), none when it named none; undefined for an allow not admitted,
 * whose body's own tags are all that is known here (LiteLLM logs the body as sent: the query's
 * parameters only reach its auth checks).
 */
function admittedTagsOf(decision: Decision): string[] | undefined {
  if (decision.kind !== 'allow' || decision.metadata === undefined) return undefined;
  const tags = decision.metadata.request_tags;
  if (Array.isArray(tags)) return tags.filter((t): t is string => typeof t === 'string');
  return typeof decision.metadata.admission_id === 'string' ? [] : undefined;
}

/** `charged_tags` from the admission's metadata; none (all tags charged) from a replica that sends none. */
function chargedTagsOf(value: Json | undefined): { chargedTags?: string[] } {
  return Array.isArray(value) ? { chargedTags: value.filter((t): t is string => typeof t === 'string') } : {};
}

/** The admission id an allow carries in its metadata (spend/admission.ts), null when it was not admitted. */
export function admissionIdOf(decision: Decision): string | null {
  if (decision.kind !== 'allow') return null;
  const id = decision.metadata?.admission_id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** The admission id in the ext_authz metadata Envoy forwarded with the ext_proc stream, null without one. */
export function admissionIdFromMetadata(filterMetadata: Record<string, Struct> | undefined): string | null {
  const field = filterMetadata?.[EXT_AUTHZ_NAMESPACE]?.fields?.admission_id;
  return field?.stringValue !== undefined && field.stringValue !== '' ? field.stringValue : null;
}
