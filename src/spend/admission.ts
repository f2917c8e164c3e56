/**
 * The admission step after the checks allow: rpm / tpm limits and, in reservation mode, a budget
 * reservation — decided together in one atomic script (ADMIT), so a request refused by one never
 * consumes the other. It may add dynamic metadata to the allow (identity for metering on another
 * replica, Envoy AI Gateway's `rate_limit`).
 *
 * A metered allow, and any allow that holds tokens against a tpm limit (v3's reservation, metering
 * on or off), is named by an admission id minted here, once per Check, and carried to ext_proc
 * in the dynamic metadata (`admission_id`): it names the reservation and joins the response to the
 * Check. Envoy's x-request-id cannot: Envoy keeps a client-sent one for peers it deems internal,
 * so two requests may share it, and with it one reservation and one identity.
 *
 * Redis trouble never invents a refusal. Rate limits alone fail open (reported). A reservation
 * that cannot be taken is "cannot decide" (ReservationUnavailableError → gRPC UNAVAILABLE, so
 * Envoy's failure mode applies): reservation mode was chosen to bound overshoot, and admitting
 * without one would silently drop that bound. Unless the operator chose availability over that
 * bound (`allow_requests_on_db_unavailable`): the request is then admitted as the checks allowed
 * it, with the caller's own identity, so its spend is charged to its key, team and user, only
 * without a reservation (reported). Thrown instead, the error would reach the Check's outage path,
 * which allows as the proxy admin: the identity the checks resolved would be lost.
 */
import { randomUUID } from 'node:crypto';
import type { CheckContext, Denial } from '../checks/types';
import type { RedisClient } from '../cache/redis-shared-cache';
import type { Json, WindowSpend } from '../domain/entities';
import { UNREAD_MODEL } from '../domain/request';
import { pyFixed, pyFloat } from '../checks/python-format';
import { chargedModelBudgetsOf } from '../checks/model-budget-scopes';
import { chargedTeamMemberModelCounter } from '../checks/team-member-model-budget';
import { budgetExceeded } from '../checks/errors';
import { keyBudgetThrottle, throttledKeyRefusal } from '../checks/key-budget';
import type { PriceTable } from '../metering/prices';
import { tagsOfRequest } from '../snapshot/request-tags';
import { isRateLimitedRoute } from '../routes/classify';
import { rateLimitDenial, aiGatewayRateLimit } from '../ratelimit/rate-limit-denial';
import { agentIdOf, agentSessionIdOf, minuteOf, MODEL_TOKEN_COUNTED_KINDS, RATE_BUCKET_TTL_MS, rateBucketKey, rateLimitsOf, TOKEN_COUNTED_KINDS, type RateLimit } from '../ratelimit/rate-limits';
import { v3ModelOf } from '../ratelimit/limiter-model';
import { retryAfterSeconds } from '../ratelimit/retry-after';
import { estimateRequestTokens } from '../ratelimit/token-estimate';
import { NO_LIMITS, reservationLimitsOf, type BudgetLimit, type ModelBudgetLimit, type ReservationLimits, type WindowBudgetLimit } from './budget-limits';
import { isTailReadable, tailFromMinute } from './window-tail';
import { agentSessionCapsOf, iterationsExceededMessage, sessionBudgetExceededMessage, type AgentSessionCaps } from '../ratelimit/agent-session-caps';
import { isWindowSpend, windowSpendTotal } from './window-spend';
import { estimateCost } from './cost-estimate';
import { ADMIT, RELEASE_RESERVATION } from './counter-scripts';
import { replyArray, replyString, type RawReply } from '../cache/lua-script';
import type { SpendKeys } from './redis-keys';
import type { MaybePromise } from '../util/maybe-promise';
import { withTimeout } from '../util/timeout';
import { wellFormed } from '../util/well-formed';

/** No Check waits on the release of an abandoned reservation: it may wait longer than a Check could. */
const RELEASE_TIMEOUT_FLOOR_MS = 1000;

/**
 * How long a reservation of tokens alone is kept for its response to settle: a bucket counts in
 * its own minute and, weighted, the next, and expires two minutes after its last write; after
 * that there is nothing left to give back.
 */
const TOKEN_HOLD_MS = RATE_BUCKET_TTL_MS + 60_000;

/** What ADMIT reserves: the request's estimated cost against budgets, its estimated tokens against tpm limits. */
interface Estimate {
  readonly cost: number;
  readonly tokens: number;
}

/** The smallest tpm limit among those enforced, null when none is (no allocation: runs on every limited Check). */
function smallestTpmLimit(limits: readonly RateLimit[]): number | null {
  let smallest: number | null = null;
  for (const limit of limits) {
    if (limit.metric === 'tpm' && (smallest === null || limit.limit < smallest)) smallest = limit.limit;
  }
  return smallest;
}

const NO_METADATA: Readonly<Record<string, Json>> = Object.freeze({});

export type Admission =
  | { readonly kind: 'admit'; readonly metadata: Readonly<Record<string, Json>> }
  | { readonly kind: 'deny'; readonly check: string; readonly denial: Denial };

/** The budget reservation could not be taken (Redis down or slow): the Check cannot be decided. */
export class ReservationUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`budget reservation unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ReservationUnavailableError';
  }
}

/** What an abandoned ADMIT reserved may not have been given back: if so, it holds until its TTL. */
export class ReservationNotReleasedError extends Error {
  constructor(admissionId: string, cause: unknown) {
    super(`reservation ${admissionId} maybe not released (it then expires by itself): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ReservationNotReleasedError';
  }
}

export interface Admitter {
  /**
   * A value at once when Redis has nothing to decide (no rate limit to enforce, no budget to
   * reserve: most keys), so a warm Check stays synchronous; a promise otherwise.
   */
  admit(ctx: CheckContext): MaybePromise<Admission>;
}

export interface AdmissionOptions {
  readonly prefix: string;
  readonly enforceRateLimits: boolean;
  readonly reservation: { readonly ttlMs: number; readonly defaultOutputTokens: number } | null;
  readonly rateLimitMetadata: boolean;
  /**
   * Metering follows the allow: name it by an admission id and put it and the request's tags in
   * the metadata, for metering on whichever replica Envoy streams to. Reservations need it.
   */
  readonly metering: boolean;
  /** Mints admission ids (tests name them); randomUUID by default. */
  readonly newAdmissionId?: () => string;
  readonly timeoutMs: number;
  readonly idleCounterMs: number;
  /**
   * A reservation that cannot be taken admits the request without one (reported through onError)
   * instead of throwing ReservationUnavailableError: `allow_requests_on_db_unavailable`.
   */
  readonly admitWhenReservationUnavailable: boolean;
  /** How long an agent session's call count and spend last from their first write (Settings.agentSessionTtls); an hour each by default. */
  readonly agentSessionTtls?: { readonly iterationsMs: number; readonly budgetMs: number };
  readonly onError: (error: unknown) => void;
}

const DEFAULT_SESSION_TTLS = Object.freeze({ iterationsMs: 3_600_000, budgetMs: 3_600_000 });

export class RedisAdmitter implements Admitter {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: SpendKeys,
    private readonly prices: PriceTable,
    private readonly options: AdmissionOptions,
  ) {}

  admit(ctx: CheckContext): MaybePromise<Admission> {
    // The route is classified only when something reads it: rate limits, their metadata, or the
    // caps of an agent (a request without one, metering alone, does no more than before).
    const rateLimitedRoute =
      (this.options.enforceRateLimits || this.options.rateLimitMetadata || ctx.snapshot.agent !== null) &&
      isRateLimitedRoute(ctx.request.route, ctx.policy.passThroughEndpoints);
    const limited = (this.options.enforceRateLimits || this.options.rateLimitMetadata) && rateLimitedRoute;
    const limits = limited ? rateLimitsOf(ctx.snapshot, ctx.request.model, ctx.request, keyBudgetThrottle(ctx), ctx.policy) : [];
    const enforced = this.options.enforceRateLimits ? limits : [];
    // The tokens reserved against the tpm limits (v3, always on there too); 0 when none applies.
    const smallestTpm = smallestTpmLimit(enforced);
    const tokens = smallestTpm === null ? 0 : estimateRequestTokens(ctx.request, smallestTpm);
    // A tpm reservation is settled by its response, found by the admission id: one is minted for
    // it without metering too (ext_proc then only counts tokens, COUNT_TOKENS).
    const admissionId = this.options.metering || tokens > 0 ? (this.options.newAdmissionId ?? randomUUID)() : null;
    const session = rateLimitedRoute ? this.sessionCapsOf(ctx) : null;
    const metadata = admissionMetadata(
      admissionId,
      this.options.metering,
      ctx,
      this.options.rateLimitMetadata ? aiGatewayRateLimit(limits) : null,
      session?.maxBudget != null ? session.sessionId : null,
      rateLimitModelOf(ctx),
    );
    const reservation = this.options.reservation;
    const budgets = reservation !== null && this.options.metering && admissionId !== null ? reservationLimitsOf(ctx) : NO_LIMITS;
    const budgeted = budgets.budgets.length > 0 || budgets.modelBudgets.length > 0;
    if (enforced.length === 0 && !budgeted && session === null) return { kind: 'admit', metadata };
    const reserving = reservation !== null && (budgeted || (session?.maxBudget != null && admissionId !== null));
    const estimate = reserving ? estimateCost(ctx.request, this.prices, reservation.defaultOutputTokens) : 0;
    return this.admitThroughRedis(ctx, admissionId ?? '', enforced, budgets, { cost: estimate, tokens }, metadata, session);
  }

  /**
   * The agent session caps this admission enforces (ratelimit/agent-session-caps.ts): its call cap
   * where rate limits are enforced (it is one), its spend cap where metering counts the spend (it
   * is a budget, read from what metering charged). Null when neither applies: most requests.
   */
  private sessionCapsOf(ctx: CheckContext): AgentSessionCaps | null {
    const caps = agentSessionCapsOf(ctx.snapshot, ctx.request);
    if (caps === null) return null;
    const maxIterations = this.options.enforceRateLimits ? caps.maxIterations : null;
    const maxBudget = this.options.metering ? caps.maxBudget : null;
    if (maxIterations === null && maxBudget === null) return null;
    if (maxIterations === caps.maxIterations && maxBudget === caps.maxBudget) return caps;
    return caps.agentId === null ? { ...caps, maxIterations } : { ...caps, maxIterations, maxBudget };
  }

  /**
   * ADMIT's two session keys: the call count and the spend. A key's own cap (no agent) counts
   * calls per key and caps no spend, so its iteration key stands in for the spend key ADMIT never reads.
   */
  private sessionKeys({ agentId, keyHash, sessionId }: AgentSessionCaps): [string, string] {
    if (agentId !== null) return [this.keys.sessionIterations(agentId, sessionId), this.keys.sessionBudget(agentId, sessionId)];
    const iterations = this.keys.keySessionIterations(keyHash, sessionId);
    return [iterations, iterations];
  }

  private async admitThroughRedis(
    ctx: CheckContext,
    admissionId: string,
    enforced: readonly RateLimit[],
    limits: ReservationLimits,
    estimate: Estimate,
    metadata: Readonly<Record<string, Json>>,
    session: AgentSessionCaps | null,
  ): Promise<Admission> {
    const now = ctx.now.getTime();
    const { budgets } = limits;
    let sent: Promise<RawReply> | null = null;
    try {
      if (!this.client.isReady) throw new Error('Redis is not connected');
      sent = this.send(now, admissionId, enforced, limits, estimate, session);
      const reply = await withTimeout(sent, this.options.timeoutMs, `redis script ${ADMIT.name}`);
      const verdict = verdictOf(reply, now, enforced, limits, estimate, session);
      if (verdict === null) return { kind: 'admit', metadata };
      if (verdict.kind !== 'rate_limited') return verdict;
      const tokens = verdict.tokenWindow === null ? null : await this.tokensInWindow(verdict.tokenWindow, now);
      return { kind: 'deny', check: 'rate_limit', denial: rateLimitDenial(verdict.type, verdict.descriptor, verdict.used, verdict.retryAfterSeconds, tokens) };
    } catch (error) {
      // Giving up on the reply does not stop the script: it may still reserve, for a request that
      // is refused here and so never reaches metering to give it back, or that is admitted here
      // unreserved and whose response may settle before the script has run. Tokens reserved for
      // a request admitted here (rate limits fail open) are given back too: its response is then
      // counted whole, as without a reservation.
      // A session's calls the script counted stay counted, as rpm counts do.
      if (sent !== null && admissionId !== '' && (budgets.length > 0 || estimate.tokens > 0 || estimate.cost > 0)) this.releaseOnceRun(sent, admissionId);
      // A key over its budget passed the key budget check only to be slowed by its own limits:
      // with those not applied it would run unlimited past its budget, so it is refused instead.
      const overBudget = enforced.some((limit) => limit.target.kind === 'key') ? throttledKeyRefusal(ctx) : null;
      if (overBudget !== null) {
        this.options.onError(error);
        return { kind: 'deny', check: 'key_budget', denial: overBudget };
      }
      // Nothing to reserve (a session's spend cap reserves too, with budget_reservation, and so does
      // a per-model budget, whatever the estimate, as a budget of its own): limits fail open.
      if (budgets.length === 0 && limits.modelBudgets.length === 0 && estimate.cost === 0) {
        this.options.onError(error);
        return { kind: 'admit', metadata };
      }
      const unavailable = new ReservationUnavailableError(error);
      if (!this.options.admitWhenReservationUnavailable) throw unavailable;
      this.options.onError(unavailable);
      return { kind: 'admit', metadata };
    }
  }

  /**
   * The tokens counted in a tpm window no limit reads (the crossed entity's, for the 429's
   * `current tpm`), weighed as ADMIT weighs a sliding window. Read only for a refusal, so admitted
   * Checks pay nothing for it; null (the message then says 0) when Redis does not answer, since
   * the refusal stands either way.
   */
  private async tokensInWindow(window: TokenWindow, now: number): Promise<number | null> {
    const minute = minuteOf(now);
    const { prefix, timeoutMs } = this.options;
    try {
      const [current, previous] = await withTimeout(
        this.client.mGet([rateBucketKey(prefix, window.target, 'tpm', minute, window.model), rateBucketKey(prefix, window.target, 'tpm', minute - 1, window.model)]),
        timeoutMs,
        'redis MGET of a tpm window',
      );
      const weight = 1 - (now % 60_000) / 60_000;
      return Math.max(0, Number(previous ?? 0) * weight + Number(current ?? 0));
    } catch {
      return null;
    }
  }

  /**
   * Gives back what an abandoned ADMIT reserved, sent only once that ADMIT has run or failed: sent
   * earlier it could overtake the script (a NOSCRIPT answer re-sends it as EVAL). A release that
   * fails is reported, never thrown: the reservation then expires with its TTL.
   */
  private releaseOnceRun(sent: Promise<RawReply>, admissionId: string): void {
    const timeoutMs = Math.max(this.options.timeoutMs, RELEASE_TIMEOUT_FLOOR_MS);
    const release = (): Promise<RawReply> => RELEASE_RESERVATION.run(this.client, [this.keys.reservation(admissionId)], [admissionId], timeoutMs);
    sent
      .then(release, release)
      .catch((error: unknown) => this.options.onError(new ReservationNotReleasedError(admissionId, error)));
  }

  private send(
    now: number,
    admissionId: string,
    limits: readonly RateLimit[],
    { budgets, windows, modelBudgets }: ReservationLimits,
    estimate: Estimate,
    session: AgentSessionCaps | null,
  ): Promise<RawReply> {
    const minute = minuteOf(now);
    const keys = [this.keys.reservation(admissionId)];
    for (const limit of limits) {
      keys.push(rateBucketKey(this.options.prefix, limit.target, limit.metric, minute, limit.model ?? null));
      keys.push(rateBucketKey(this.options.prefix, limit.target, limit.metric, minute - 1, limit.model ?? null));
    }
    for (const budget of budgets) keys.push(this.keys.counter(budget.slot.target));
    for (const window of windows) keys.push(this.keys.windowTail(window.tail));
    if (session !== null) keys.push(...this.sessionKeys(session));
    for (const budget of modelBudgets) keys.push(this.keys.modelBudget(budget.counter));
    const ttlMs = this.options.reservation?.ttlMs ?? 0;
    const args = [
      String(now),
      String(limits.length),
      String(budgets.length),
      admissionId,
      String(estimate.cost),
      String(now + ttlMs),
      // Held tokens matter only while their bucket is in a window: the reservation outlives that.
      String(Math.max(ttlMs + 60_000, TOKEN_HOLD_MS)),
      String(this.options.idleCounterMs),
      String(RATE_BUCKET_TTL_MS),
      String(estimate.tokens),
    ];
    for (const limit of limits) args.push(String(limit.limit), limit.metric);
    for (const budget of budgets) {
      args.push(budget.max === null ? '' : String(budget.max), String(budget.slot.windowEnd), String(budget.slot.windowStart), String(budget.slot.seed));
    }
    args.push(String(windows.length));
    for (const window of windows) args.push(String(window.budget + 1), String(window.window.max_budget), ...windowSpendArgs(window.spend, now));
    if (session === null) args.push('0');
    else {
      const ttls = this.options.agentSessionTtls ?? DEFAULT_SESSION_TTLS;
      args.push('1', session.maxIterations === null ? '' : String(session.maxIterations), session.maxBudget === null ? '' : String(session.maxBudget));
      args.push(String(ttls.iterationsMs), String(ttls.budgetMs));
    }
    args.push(String(modelBudgets.length));
    for (const budget of modelBudgets) args.push(String(budget.max));
    return ADMIT.send(this.client, keys, args);
  }
}

/**
 * Without Redis nothing is limited or reserved, but a metered allow is still named, so that its
 * response is joined to this Check and no other.
 */
export class MeteringAdmitter implements Admitter {
  admit(ctx: CheckContext): Admission {
    return { kind: 'admit', metadata: admissionMetadata(randomUUID(), true, ctx, null) };
  }
}

/**
 * What an allow adds to the identity's dynamic metadata: nothing (shared, no allocation) unless
 * metered or limited. Unmetered, an admission id (a tpm reservation's) comes without the tags,
 * which only spend is charged to. With an admission id, a request acting for an agent (the key's,
 * else a known one the request names) also names the agent (`agent_id`) and the request's session
 * (`agent_session_id`), whose tpm windows the response feeds (v3's `_collect_tpm_scope_targets`),
 * limited or not, like every other scope.
 */
function admissionMetadata(
  admissionId: string | null,
  metered: boolean,
  ctx: CheckContext,
  rateLimit: Json | null,
  budgetSessionId: string | null = null,
  rateLimitModel: string | null = null,
): Readonly<Record<string, Json>> {
  if (admissionId === null && rateLimit === null && rateLimitModel === null) return NO_METADATA;
  const metadata: Record<string, Json> = {};
  if (admissionId !== null) metadata.admission_id = admissionId;
  // Every response feeds its model's tpm windows, admitted under an id or not: they are the alias
  // target's whenever the per-model limits read that one.
  if (rateLimitModel !== null) metadata.rate_limit_model = wellFormed(rateLimitModel);
  if (admissionId !== null && metered) {
    const sent = ctx.request.sentBody;
    // The tags LiteLLM checks and charges: the body's as sent, with the header's and the key's merged in.
    const tags = tagsOfRequest(sent === undefined ? ctx.request.body : sent, ctx.request, ctx.snapshot.key);
    if (tags.length > 0) {
      // Half a surrogate pair, which a JSON body may escape, would be invalid UTF-8 in the
      // metadata's protobuf strings; spend logs store the tags well-formed all the same.
      metadata.request_tags = tags.map(wellFormed);
      // Only the tags with a row are charged: a body naming 100 000 tags must not make as many
      // counters and UPDATEs (LiteLLM's update of an unknown tag changes nothing).
      metadata.charged_tags = ctx.snapshot.tags.map((tag) => tag.tag_name).filter((name) => tags.includes(name));
    }
    // The per-model budget windows the response is charged to (`model_budgets`), decided here with
    // the rows the checks read, as LiteLLM's post-call increment reads the budgets auth put on the token.
    const windows = chargedModelBudgetsOf(ctx.snapshot, ctx.request);
    if (windows.length > 0) metadata.model_budgets = windows.map((w) => [w.scope, wellFormed(w.id), wellFormed(w.budgetModel), wellFormed(w.duration)]);
    // The member's counter of the team's team_member_model_max_budget for the request's model
    // (`team_member_model`: [user, team, model]), named only when the team limits that model.
    const member = chargedTeamMemberModelCounter(ctx.snapshot, ctx.request);
    if (member !== null) metadata.team_member_model = [wellFormed(member.userId), wellFormed(member.teamId), wellFormed(member.model)];
  }
  const agentId = admissionId === null ? null : agentIdOf(ctx.snapshot, ctx.request);
  if (agentId !== null) {
    metadata.agent_id = agentId;
    const sessionId = agentSessionIdOf(ctx.request);
    if (sessionId !== null) metadata.agent_session_id = sessionId;
    // The session's max_budget_per_session reads its spend: the response is charged to it
    // (ratelimit/agent-session-caps.ts; the capped agent is the key's, which agentIdOf names first).
    // It is the session both LiteLLM hooks read, which need not be the limits' (an empty id, or a
    // body id before the header's), so it is named apart. The flag alone is what an earlier
    // version's metering reads, as charging agent_session_id: set only when that is the session.
    if (budgetSessionId !== null && metered) {
      metadata.agent_budget_session_id = budgetSessionId;
      if (budgetSessionId === sessionId) metadata.agent_session_budget = true;
    }
  }
  if (rateLimit !== null) metadata.rate_limit = rateLimit;
  return metadata;
}

/**
 * The model whose windows the response's tokens feed (ratelimit/limiter-model.ts v3ModelOf: the one
 * LiteLLM serves and v3 reconciles under) when it is not the one metering names the response by (an
 * alias rewrote it, or the handler's own `model` parameter, the path's or the query's, replaced the
 * body's), null otherwise: named in the metadata so that the tokens land in a window the Check read.
 * A list or an unread model is fed as before.
 */
function rateLimitModelOf(ctx: CheckContext): string | null {
  const sent = ctx.request.model;
  const model = v3ModelOf(ctx.snapshot, sent, ctx.policy, ctx.request);
  if (typeof model !== 'string' || model === UNREAD_MODEL) return null;
  return model === sent ? null : model;
}

/** A tpm window that responses feed whether or not a limit reads it (TOKEN_COUNTED_KINDS). */
interface TokenWindow {
  readonly target: RateLimit['target'];
  readonly model: string | null;
}

/** A crossed rpm / tpm limit, with what its 429 prints. */
interface RateLimited {
  readonly kind: 'rate_limited';
  readonly type: RateLimit['type'];
  readonly descriptor: readonly RateLimit[];
  readonly used: ReadonlyMap<RateLimit, number>;
  readonly retryAfterSeconds: number;
  /**
   * The crossed entity's tpm window when it has no tpm limit: LiteLLM's classic limiter prints the
   * tokens it counted for the entity then (its docs' example: `current tpm: 348, tpm limit:
   * 9223372036854775807`), which ADMIT did not read. Null when a tpm limit was read, or no response
   * feeds that window.
   */
  readonly tokenWindow: TokenWindow | null;
}

/** ADMIT's reply as a refusal, or null when admitted. */
function verdictOf(
  raw: RawReply,
  now: number,
  limits: readonly RateLimit[],
  { budgets, windows, modelBudgets }: ReservationLimits,
  estimate: Estimate,
  session: AgentSessionCaps | null = null,
): Admission | RateLimited | null {
  const reply = replyArray(raw);
  const verdict = replyString(reply[0]);
  if (verdict === 'rate_limited') {
    const crossed = limits[Number(reply[1]) - 1];
    const counts = limits.map((limit, i) => ({
      metric: limit.metric,
      limit: limit.limit,
      previous: Number(replyString(reply[3 + 2 * i])),
      current: Number(replyString(reply[4 + 2 * i])),
      amount: limit.metric === 'tpm' ? Math.max(1, estimate.tokens) : 1,
    }));
    // LiteLLM's message prints both counts of the crossed entity: the other metric's, when it is
    // limited too, is weighed as the ADMIT script weighs it. Only the crossed descriptor's limits
    // are passed: a request naming several models has one per-model descriptor of a type per model.
    const weight = 1 - (now % 60_000) / 60_000;
    const used = new Map<RateLimit, number>();
    const descriptor: RateLimit[] = [];
    limits.forEach((limit, i) => {
      if (limit.type !== crossed.type || limit.target.id !== crossed.target.id || (limit.model ?? null) !== (crossed.model ?? null)) return;
      descriptor.push(limit);
      used.set(limit, counts[i].previous * weight + counts[i].current);
    });
    used.set(crossed, Number(replyString(reply[2])));
    const model = crossed.model ?? null;
    const fed = model === null ? TOKEN_COUNTED_KINDS.has(crossed.target.kind) : MODEL_TOKEN_COUNTED_KINDS.has(crossed.target.kind);
    const tokenWindow = fed && !descriptor.some((l) => l.metric === 'tpm') ? { target: crossed.target, model } : null;
    return { kind: 'rate_limited', type: crossed.type, descriptor, used, retryAfterSeconds: retryAfterSeconds(now, counts), tokenWindow };
  }
  if (verdict === 'over_budget') {
    const budget = budgets[Number(reply[1]) - 1];
    const spend = Number(replyString(reply[2]));
    const reserved = Number(replyString(reply[3]));
    return { kind: 'deny', check: 'budget_reservation', denial: reservationDenial(budget, spend, reserved, estimate.cost) };
  }
  if (verdict === 'session_iterations' && session !== null && session.maxIterations !== null) {
    const denial = sessionCapDenial(iterationsExceededMessage(session.sessionId, Number(replyString(reply[1])), session.maxIterations));
    return { kind: 'deny', check: 'agent_session_iterations', denial };
  }
  if (verdict === 'session_budget' && session !== null && session.maxBudget !== null) {
    const spend = Number(replyString(reply[1]));
    const reserved = Number(replyString(reply[2]));
    return { kind: 'deny', check: 'agent_session_budget', denial: sessionCapDenial(sessionBudgetMessage(session.sessionId, session.maxBudget, spend, reserved, estimate.cost)) };
  }
  if (verdict === 'over_model_budget') {
    const budget = modelBudgets[Number(reply[1]) - 1];
    const spend = Number(replyString(reply[2]));
    const reserved = Number(replyString(reply[3]));
    return { kind: 'deny', check: 'budget_reservation', denial: modelBudgetReservationDenial(budget, spend, reserved, estimate.cost) };
  }
  if (verdict === 'over_window') {
    const window = windows[Number(reply[1]) - 1];
    const spend = Number(replyString(reply[2]));
    const reserved = Number(replyString(reply[3]));
    return { kind: 'deny', check: 'budget_reservation', denial: windowReservationDenial(window, spend, reserved, estimate.cost) };
  }
  return null;
}

/**
 * A multi-window budget as ADMIT reads it: settled spend, the tail spend known, and the first
 * minute of the Redis tail to read ('' when the tail cannot add to it: a spend that is a number or
 * no readable state, a state cached longer than the tails keep).
 */
function windowSpendArgs(spend: WindowSpend | number, now: number): [string, string, string] {
  // A value that is not a readable state (the shared tier holds other versions' values) is read
  // as the window check reads it (windowSpendTotal), never passed to the script field by field.
  if (typeof spend === 'number' || !isWindowSpend(spend)) return [String(windowSpendTotal(spend)), '0', ''];
  return [String(spend.settled), String(spend.tail), isTailReadable(spend, now) ? String(tailFromMinute(spend)) : ''];
}

/**
 * The window check's refusal (window-budgets.ts: LiteLLM's text), saying why a request the spend
 * alone would have admitted is refused: what is already promised to in-flight requests.
 */
function windowReservationDenial(window: WindowBudgetLimit, spend: number, reserved: number, estimate: number): Denial {
  return budgetExceeded(
    `ExceededBudget: ${window.who} over ${window.window.budget_duration} budget. Spend=$${pyFixed(spend, 4)}, Limit=$${pyFixed(window.window.max_budget, 2)} ` +
      `(reserved for requests in flight ${pyFloat(reserved)}, estimated cost of this request ${pyFloat(estimate)})`,
  );
}

/**
 * LiteLLM's budget refusal (400 budget_exceeded, its message shape), saying why a request that
 * the spend alone would have admitted is refused: what is already promised to in-flight requests.
 */
function reservationDenial(budget: BudgetLimit, spend: number, reserved: number, estimate: number): Denial {
  const max = budget.max ?? 0;
  return budgetExceeded(
    `Budget has been exceeded! Current cost: ${pyFloat(spend)}, Max budget: ${pyFloat(max)} ` +
      `(${budget.slot.target.kind} ${budget.slot.target.id}: reserved for requests in flight ${pyFloat(reserved)}, ` +
      `estimated cost of this request ${pyFloat(estimate)})`,
  );
}

/** LiteLLM's HTTPException(429, detail) of its session limiters, re-raised: type and param the string "None". */
function sessionCapDenial(message: string): Denial {
  return { status: 429, type: 'None', param: 'None', message };
}

/**
 * LiteLLM's text when the spend alone reached the cap; with what requests in flight hold added,
 * as the budget reservation's refusals say, when only the reservation refuses.
 */
function sessionBudgetMessage(sessionId: string, maxBudget: number, spend: number, reserved: number, estimate: number): string {
  const text = sessionBudgetExceededMessage(sessionId, spend, maxBudget);
  if (spend >= maxBudget) return text;
  return `${text} (reserved for requests in flight ${pyFloat(reserved)}, estimated cost of this request ${pyFloat(estimate)})`;
}

/** The per-model checks' names for a window's owner (key-, user-, team- and end-user-model-budget.ts). */
const MODEL_BUDGET_OWNERS: Readonly<Record<ModelBudgetLimit['counter']['scope'], string>> = {
  key: 'LiteLLM Virtual Key',
  user: 'LiteLLM User',
  team: 'LiteLLM Team',
  end_user: 'LiteLLM End User',
};

/**
 * The per-model check's refusal (400 budget_exceeded, its words), saying why a request the window's
 * spend alone would have admitted is refused: what requests in flight hold on it.
 */
function modelBudgetReservationDenial({ counter, max, model, keyAlias }: ModelBudgetLimit, spend: number, reserved: number, estimate: number): Denial {
  const alias = counter.scope === 'key' ? `, key_alias: ${keyAlias ?? 'None'}` : '';
  return budgetExceeded(
    `${MODEL_BUDGET_OWNERS[counter.scope]}: ${counter.id}${alias}, exceeded budget for model=${model} ` +
      `(${counter.duration} window: spend ${pyFloat(spend)}, max budget ${pyFloat(max)}, reserved for requests in flight ${pyFloat(reserved)}, ` +
      `estimated cost of this request ${pyFloat(estimate)})`,
  );
}
