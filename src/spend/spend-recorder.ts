/**
 * Where a metered request's spend goes.
 *
 * With Redis: one script (RECORD_SPEND) charges every counter, the per-model budget windows
 * the Check named (model_max_budget, as LiteLLM's limiter counts them) and the member's counter of
 * the team's team_member_model_max_budget and the window tails of its key, user, team and end
 * user (spend/window-tail.ts), gives back the request's
 * reservation, feeds the token windows and appends the event to the durable queue — atomically,
 * and at most once per charge id (never per x-request-id alone, which a client can repeat).
 * Without Redis (or while it is unreachable): the event is written straight to the database,
 * which is idempotent on its own (SpendLogs' primary key), so nothing is lost; counters that miss
 * it catch up when they next seed from the database.
 */
import type { RedisClient } from '../cache/redis-shared-cache';
import { MODEL_TOKEN_COUNTED_KINDS, minuteOf, RATE_BUCKET_TTL_MS, rateBucketKey, TOKEN_COUNTED_KINDS } from '../ratelimit/rate-limits';
import { rateLimitTokensOf, type TokenRateLimitType } from '../metering/usage';
import { COUNT_TOKENS, RECORD_SPEND, RELEASE_RESERVATION } from './counter-scripts';
import { durationMs } from './budget-window';
import type { SpendKeys } from './redis-keys';
import { encodeSpendEvent, type SpendEvent } from './spend-event';
import type { SpendWriter } from './spend-writer';
import { agentTargetsOf, targetsOf } from './targets';
import { tailMinuteOf, WINDOW_TAIL_RETAIN_MS, windowTailTargets } from './window-tail';

export interface SpendRecorder {
  /** Resolves false when this charge id was already recorded. */
  record(event: SpendEvent): Promise<boolean>;
  /** Gives a reservation back (by the id it was taken under) without charging anything (upstream error, nothing metered). */
  release(reservationId: string): Promise<void>;
}

/** LiteLLM's LITELLM_MAX_BUDGET_PER_SESSION_TTL default. */
const DEFAULT_SESSION_TTL_MS = 3_600_000;

/** Long enough to cover every replay of one response; charge ids are unique per response. */
const DONE_TTL_MS = 24 * 3_600_000;

export class DirectSpendRecorder implements SpendRecorder {
  constructor(private readonly writer: SpendWriter) {}

  async record(event: SpendEvent): Promise<boolean> {
    return (await this.writer.write([{ event, windows: new Map() }])) > 0;
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}

export interface RedisRecorderOptions {
  readonly prefix: string;
  readonly timeoutMs: number;
  /** Which of a response's tokens the tpm windows count (general_settings.token_rate_limit_type). */
  readonly tokenRateLimitType: TokenRateLimitType;
  /** How long an agent session's spend lasts from its first write (LITELLM_MAX_BUDGET_PER_SESSION_TTL); an hour by default. */
  readonly agentSessionBudgetTtlMs?: number;
  readonly onFallback: (error: unknown) => void;
}

export class RedisSpendRecorder implements SpendRecorder {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: SpendKeys,
    private readonly fallback: SpendRecorder,
    private readonly options: RedisRecorderOptions,
  ) {}

  async record(event: SpendEvent): Promise<boolean> {
    try {
      if (!this.client.isReady) throw new Error('Redis is not connected');
      return await this.recordInRedis(event);
    } catch (error) {
      this.options.onFallback(error);
      return this.fallback.record(event);
    }
  }

  async release(reservationId: string): Promise<void> {
    if (reservationId === '' || !this.client.isReady) return; // an unreleased reservation expires by itself
    await RELEASE_RESERVATION.run(this.client, [this.keys.reservation(reservationId)], [reservationId], this.options.timeoutMs);
  }

  /**
   * Only the tpm windows of the event (tokenBucketsOf), once per charge id: what
   * the rate limiter needs when spend is not metered. The tokens the Check reserved for it are
   * given back in the same step. Redis trouble is thrown (rate limits fail open, as at admission).
   */
  async countTokens(event: SpendEvent): Promise<boolean> {
    if (!this.client.isReady) throw new Error('Redis is not connected');
    const reservationId = event.reservationId ?? event.requestId;
    const buckets = tokenBucketsOf(event, this.options.prefix);
    const keys = [this.keys.tokensCounted(event.chargeId), this.keys.reservation(reservationId), ...buckets];
    // The marker only has to outlive the buckets it guards.
    const args = [String(rateLimitTokensOf(event.usage, this.options.tokenRateLimitType)), String(RATE_BUCKET_TTL_MS), String(RATE_BUCKET_TTL_MS), reservationId];
    return (await COUNT_TOKENS.run(this.client, keys, args, this.options.timeoutMs)) === 1;
  }

  private async recordInRedis(event: SpendEvent): Promise<boolean> {
    const reservationId = event.reservationId ?? event.requestId;
    const targets = targetsOf(event.attribution);
    const buckets = tokenBucketsOf(event, this.options.prefix);
    const windows = event.attribution.modelBudgets ?? [];
    const member = event.attribution.teamMemberModel;
    const memberCounters = member === undefined ? [] : [this.keys.teamMemberModel(member)];
    const tails = windowTailTargets(targets);
    const { agentId, agentSessionId, agentSessionBudget, agentBudgetSessionId } = event.attribution;
    // The session spend a max_budget_per_session reads, when the Check named it.
    const budgetSession = agentBudgetSessionId ?? (agentSessionBudget === true ? agentSessionId : null) ?? null;
    const sessionBudget = agentId != null && budgetSession !== null ? [this.keys.sessionBudget(agentId, budgetSession)] : [];
    const now = Date.now();
    const keys = [
      this.keys.done(event.chargeId),
      this.keys.stream,
      // The reservation ADMIT made at Check time.
      this.keys.reservation(reservationId),
      ...targets.map((t) => this.keys.counter(t)),
      ...windows.map((w) => this.keys.modelBudget(w)),
      ...memberCounters,
      ...buckets,
      ...tails.map((t) => this.keys.windowTail(t)),
      ...sessionBudget,
    ];
    const args = [
      reservationId,
      String(event.cost),
      encodeSpendEvent(event),
      String(DONE_TTL_MS),
      String(targets.length),
      String(rateLimitTokensOf(event.usage, this.options.tokenRateLimitType)),
      String(RATE_BUCKET_TTL_MS),
      String(windows.length),
      String(now),
      ...windows.map((w) => String(windowLengthMs(w.duration, now))),
      String(memberCounters.length),
      String(tails.length),
      String(tailMinuteOf(event.startTime)),
      String(WINDOW_TAIL_RETAIN_MS),
      String(sessionBudget.length),
      String(this.options.agentSessionBudgetTtlMs ?? DEFAULT_SESSION_TTL_MS),
    ];
    const reply = await RECORD_SPEND.run(this.client, keys, args, this.options.timeoutMs);
    return reply === 1;
  }
}

/** About three centuries: longer windows are held to it, so that Redis always takes the TTL. */
const LONGEST_WINDOW_MS = 10_000_000_000_000;

/**
 * A per-model budget window's length: LiteLLM's `duration_in_seconds` as of the charge (a month
 * from now for `mo`), at least 1 ms (a window of `0d` holds nothing past its own charge, and Redis
 * takes no TTL of 0), at most LONGEST_WINDOW_MS (a duration of millennia, or of more months than a
 * date can hold, would make the TTL and with it the whole charge fail).
 */
export function windowLengthMs(duration: string, now: number): number {
  const length = durationMs(duration, now) ?? LONGEST_WINDOW_MS;
  return Number.isFinite(length) ? Math.min(LONGEST_WINDOW_MS, Math.max(1, Math.floor(length))) : LONGEST_WINDOW_MS;
}

/**
 * The tpm buckets a response's tokens go to, in the minute it ended: its key, user, team, team
 * member, organization and end user, its key's agent and that agent's session, and the per-model windows of its key, team, project and
 * organization for the model the request asked for as v3 reads it (its alias's target: the window
 * the Check's limits read, as v3 reconciles under its `reserved_model`), whether or not a limit reads them: v3's
 * `_collect_tpm_scope_targets` charges every scope that might carry a tpm counter, "independent
 * of whether each scope had a configured TPM limit at pre-call", so a limit set mid-minute sees
 * the minute's tokens. Feeding only the limited ones would save up to four INCRBYs inside this
 * one script (no round trip) and lose that. The same script first gives back what the Check reserved on
 * the tpm-limited ones (in the minute of the Check): a reserved window ends up with actual −
 * reserved added to what the reservation added, the others with the actual tokens, as v3's
 * `_build_reservation_aware_tpm_ops` reconciles.
 */
function tokenBucketsOf(event: SpendEvent, prefix: string): string[] {
  const minute = minuteOf(event.endTime);
  const model = event.attribution.rateLimitModel ?? event.attribution.model;
  const buckets: string[] = [];
  for (const target of targetsOf(event.attribution)) {
    if (TOKEN_COUNTED_KINDS.has(target.kind)) buckets.push(rateBucketKey(prefix, target, 'tpm', minute));
    if (model !== null && MODEL_TOKEN_COUNTED_KINDS.has(target.kind)) buckets.push(rateBucketKey(prefix, target, 'tpm', minute, model));
  }
  for (const target of agentTargetsOf(event.attribution)) buckets.push(rateBucketKey(prefix, target, 'tpm', minute));
  return buckets;
}
