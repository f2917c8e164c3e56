/**
 * One metered request: who it is charged to (what Check resolved), what it used and cost.
 * This is what travels through the durable queue, so it is plain JSON and validated on the way out.
 */
import { z } from 'zod';
import type { ModelBudgetCounter } from '../checks/model-budget-scopes';
import type { TeamMemberModelCounter } from '../checks/team-member-model-budget';

/** The identity Check resolved for a request: every entity its spend is attributed to. */
export interface Attribution {
  readonly keyHash: string | null;
  readonly userId: string | null;
  readonly teamId: string | null;
  readonly orgId: string | null;
  readonly projectId: string | null;
  readonly endUserId: string | null;
  /** The request's tags as sent (logged on its SpendLogs row). */
  readonly tags: readonly string[];
  /** The tags charged (those with a row); absent: all of `tags`. */
  readonly chargedTags?: readonly string[];
  /** The model the client asked for (a model_list name). */
  readonly model: string | null;
  /**
   * The model whose per-model tpm windows the response's tokens feed, when LiteLLM's aliases
   * rewrite `model` into another before its limiter reads it (ratelimit/limiter-model.ts): the
   * window the Check's per-model limits read. Absent: `model` (and in events of an earlier version).
   */
  readonly rateLimitModel?: string;
  /**
   * The agent whose rate-limit windows the response's tokens feed (the key's agent_id, v3's
   * `agent`), and the session of that agent (v3's `agent_session`). Absent: none (and in events
   * of an earlier version). They name no spend counter: only token windows.
   */
  readonly agentId?: string | null;
  readonly agentSessionId?: string | null;
  /**
   * The agent's `max_budget_per_session` holds that session (ratelimit/agent-session-caps.ts): the
   * response is charged to the session's spend too. Absent: not (and in events of an earlier version).
   */
  readonly agentSessionBudget?: boolean;
  /**
   * The session of that agent whose `max_budget_per_session` spend the response is charged to, as
   * the caps read it ('' is one); it wins over `agentSessionBudget`. Absent: that flag decides.
   */
  readonly agentBudgetSessionId?: string;
  /**
   * The per-model budget windows (`model_max_budget`) the response is charged to, resolved at
   * Check time (checks/model-budget-scopes.ts). Absent: none (and in events of an earlier version).
   */
  readonly modelBudgets?: readonly ModelBudgetCounter[];
  /**
   * The member's counter of the team's `team_member_model_max_budget` the response is charged to,
   * resolved at Check time (checks/team-member-model-budget.ts). Absent: none.
   */
  readonly teamMemberModel?: TeamMemberModelCounter;
}

export const NO_ATTRIBUTION: Attribution = Object.freeze({
  keyHash: null,
  userId: null,
  teamId: null,
  orgId: null,
  projectId: null,
  endUserId: null,
  tags: Object.freeze([]),
  model: null,
});

const attributionSchema = z.object({
  keyHash: z.string().nullable(),
  userId: z.string().nullable(),
  teamId: z.string().nullable(),
  orgId: z.string().nullable(),
  projectId: z.string().nullable(),
  endUserId: z.string().nullable(),
  tags: z.array(z.string()),
  /**
   * The tags charged: those with a LiteLLM_TagTable row when the Check ran (LiteLLM's update of
   * an unknown tag changes nothing). Absent from events of an earlier version: all tags then.
   */
  chargedTags: z.array(z.string()).readonly().optional(),
  model: z.string().nullable(),
  rateLimitModel: z.string().optional(),
  agentId: z.string().nullable().optional(),
  agentSessionId: z.string().nullable().optional(),
  agentSessionBudget: z.boolean().optional(),
  agentBudgetSessionId: z.string().optional(),
  modelBudgets: z
    .array(z.object({ scope: z.enum(['key', 'user', 'team', 'end_user']), id: z.string(), budgetModel: z.string(), duration: z.string() }))
    .readonly()
    .optional(),
  teamMemberModel: z.object({ userId: z.string(), teamId: z.string(), model: z.string() }).optional(),
});

const tokenCount = z.number().int().nonnegative();

export const spendEventSchema = z.object({
  /**
   * What the charge is counted once by and logged under (SpendLogs' request_id). Not the
   * x-request-id alone, which a client may choose and repeat: see chargeIdOf in
   * metering/metered-exchange.ts.
   */
  chargeId: z.string().min(1),
  /** Envoy's x-request-id ('' when there was none): recorded on the log row. */
  requestId: z.string(),
  /**
   * The id the Check reserved under ('' when it reserved nothing): the admission id (spend/admission.ts).
   * Absent from entries queued by an earlier version, whose reservation the requestId named.
   */
  reservationId: z.string().optional(),
  /** LiteLLM's call_type (`acompletion`, `aembedding`, …). */
  callType: z.string(),
  attribution: attributionSchema,
  /** The model that answered (provider-reported when known). */
  model: z.string(),
  usage: z.object({
    inputTokens: tokenCount,
    cacheReadTokens: tokenCount,
    cacheCreationTokens: tokenCount,
    outputTokens: tokenCount,
  }),
  cost: z.number().nonnegative(),
  /** Epoch milliseconds. */
  startTime: z.number(),
  endTime: z.number(),
  completionStartTime: z.number().nullable(),
  /** The response reported no usage: `usage` is Tollgate's estimate (metering/usage-estimate.ts). */
  usageEstimated: z.boolean().optional(),
});
export type SpendEvent = z.infer<typeof spendEventSchema>;

export function encodeSpendEvent(event: SpendEvent): string {
  return JSON.stringify(event);
}

/**
 * Entries queued by an earlier version have no chargeId: they were charged under their requestId,
 * so that is their charge id (the flush must find the rows and markers they may already have).
 */
function withChargeId(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'chargeId' in value) return value;
  return { ...value, chargeId: (value as { requestId?: unknown }).requestId };
}

/** Null for an entry that is not a SpendEvent (a poison message is dropped, not retried forever). */
export function decodeSpendEvent(text: string): SpendEvent | null {
  try {
    const parsed = spendEventSchema.safeParse(withChargeId(JSON.parse(text)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
