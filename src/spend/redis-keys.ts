/**
 * Where spend state lives in Redis, all under the configured key prefix (`tollgate:` by default):
 *
 *   <p>spend:c:<target>        hash  s = spend in window w, w = window end (ms, 0 = none),
 *                                    r = reserved by in-flight requests, n = queued, unflushed events,
 *                                    u = created by a charge before any database seed
 *   <p>spend:c:<target>:r      zset  live reservations, member "<amount>|<request id>", score = expiry
 *   <p>spend:res:<request id>  hash  one request's reservation: a = amount, k = counter keys,
 *                                    t = tokens held against tpm limits, b = the buckets holding them
 *   <p>spend:done:<request id> string  the request was recorded (idempotency marker)
 *   <p>spend:events            stream  the durable queue of SpendEvents, consumer group "flush"
 *   <p>spend:mb:<scope>:<id>:<budget model>:<duration>
 *                              hash  one per-model budget window (model_max_budget): s = spend,
 *                                    t = start (ms), d = length (ms); expires at its end
 *   <p>spend:tmm:<user>:<team>:<model>
 *                              string  a member's spend on one model of its team's
 *                                    team_member_model_max_budget; never expires (LiteLLM never resets it)
 *   <p>spend:si:<agent>:<session>  string  an agent session's admitted calls (max_iterations); expires
 *                                    LITELLM_MAX_ITERATIONS_TTL after its first
 *   <p>spend:sik:<key>:<session>  string  the same for a key's own max_iterations (a key without an agent)
 *   <p>spend:sb:<agent>:<session>  hash  an agent session's spend (max_budget_per_session): s = spend,
 *                                    r = reserved; with :r, live reservations as a counter's; expires
 *                                    LITELLM_MAX_BUDGET_PER_SESSION_TTL after its first write
 *   <p>spend:wt:<target>       hash  a key's, team's, user's or end user's recent metered spend by the
 *                                    minute its requests started (field: minute since the epoch), the
 *                                    part of its multi-window budgets SpendLogs may not show yet;
 *                                    fields older than WINDOW_TAIL_RETAIN_MS go, the hash with them
 *
 * Scripts touch several of these keys at once: on a Redis Cluster the prefix holds a hash tag
 * (`{tollgate}:`, settings refuse one without) so they share a slot.
 */
import type { ModelBudgetCounter } from '../checks/model-budget-scopes';
import type { TeamMemberModelCounter } from '../checks/team-member-model-budget';
import { targetName, uriPart, type SpendTarget } from './targets';

export const FLUSH_GROUP = 'flush';

export class SpendKeys {
  private readonly base: string;

  constructor(prefix: string) {
    this.base = `${prefix}spend:`;
  }

  counter(target: SpendTarget): string {
    return `${this.base}c:${targetName(target)}`;
  }

  reservation(reservationId: string): string {
    return `${this.base}res:${uriPart(reservationId)}`;
  }

  done(chargeId: string): string {
    return `${this.base}done:${uriPart(chargeId)}`;
  }

  /** Marks a charge whose tokens were counted without metering (COUNT_TOKENS). */
  tokensCounted(chargeId: string): string {
    return `${this.base}tokens-done:${uriPart(chargeId)}`;
  }

  /** LiteLLM's `<scope>_model_spend:<id>:<budget model>:<duration>`, under Tollgate's prefix. */
  modelBudget(counter: ModelBudgetCounter): string {
    return `${this.base}mb:${counter.scope}:${uriPart(counter.id)}:${uriPart(counter.budgetModel)}:${uriPart(counter.duration)}`;
  }

  /** LiteLLM's `spend:team_member:<user>:<team>:model:<model>`, under Tollgate's prefix. */
  teamMemberModel(counter: TeamMemberModelCounter): string {
    return `${this.base}tmm:${uriPart(counter.userId)}:${uriPart(counter.teamId)}:${uriPart(counter.model)}`;
  }

  /** An agent session's admitted calls (ratelimit/agent-session-caps.ts). */
  sessionIterations(agentId: string, sessionId: string): string {
    return `${this.base}si:${uriPart(agentId)}:${uriPart(sessionId)}`;
  }

  /** A session's admitted calls under a key's own max_iterations, counted per key (ratelimit/agent-session-caps.ts). */
  keySessionIterations(keyHash: string, sessionId: string): string {
    return `${this.base}sik:${uriPart(keyHash)}:${uriPart(sessionId)}`;
  }

  /** An agent session's spend and reservations (ratelimit/agent-session-caps.ts). */
  sessionBudget(agentId: string, sessionId: string): string {
    return `${this.base}sb:${uriPart(agentId)}:${uriPart(sessionId)}`;
  }

  /** A window entity's recent spend by minute (spend/window-tail.ts). */
  windowTail(target: SpendTarget): string {
    return `${this.base}wt:${targetName(target)}`;
  }

  get stream(): string {
    return `${this.base}events`;
  }
}
