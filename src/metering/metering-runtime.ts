/**
 * Builds metering from settings: the ext_proc handler, the Check-side hooks (counter overlay,
 * admission, correlation) and the background flusher. Everything is inert unless configured:
 * - `tollgate.metering`: ext_proc records spend; budget checks read the shared counters;
 * - `tollgate.budget_reservation` (with metering): reserve at Check, settle at the response;
 * - `tollgate.enforce_rate_limits` (default on): rpm / tpm from the rows; a tpm-limited Check holds
 *   its estimated tokens until its response (or its failure) settles them.
 * Counters, reservations and rate limits need Redis; without it spend is written to the
 * database directly and the checks read the (cached) database spend.
 */
import type { DataSource } from 'typeorm';
import type { Outcome } from '../authorize/authorize';
import type { RedisClient } from '../cache/redis-shared-cache';
import type { ModelDeploymentConfig } from '../config/litellm-config';
import type { Settings } from '../config/settings';
import type { RequestFacts } from '../domain/request';
import type { Logger } from '../observability/logger';
import type { SpendOverlay } from '../snapshot/load-snapshot';
import { MeteringAdmitter, RedisAdmitter, type Admitter } from '../spend/admission';
import { SpendKeys } from '../spend/redis-keys';
import { SpendCounters } from '../spend/spend-counters';
import { SpendFlusher } from '../spend/spend-flusher';
import { DirectSpendRecorder, RedisSpendRecorder, type SpendRecorder } from '../spend/spend-recorder';
import { SpendWriter } from '../spend/spend-writer';
import { admissionIdOf, attributionFromDecision } from './admitted-identity';
import { Correlations } from './correlation';
import { createExternalProcessorHandler } from './ext-proc-handler';
import type { ExternalProcessorHandlers } from './ext-proc-protos';
import { MeteredExchange, type ExchangeOutcome } from './metered-exchange';
import { PriceTable } from './prices';
import { DEFAULT_RESPONSE_USAGE_OPTIONS } from './response-usage';
import type { SpendEvent } from '../spend/spend-event';
import { withTimeout } from '../util/timeout';
import { meteringStats } from './metering-metrics';

/** Check → ext_proc request headers takes milliseconds; a minute covers any queueing in Envoy. */
const CORRELATION_TTL_MS = 60_000;
const CORRELATION_MAX_ENTRIES = 100_000;

export interface MeteringRuntime {
  readonly spendOverlay: SpendOverlay | undefined;
  readonly admission: Admitter | undefined;
  readonly onDecision: (outcome: Outcome | null, facts: RequestFacts | null) => void;
  /** An allow Envoy never received (answered UNAVAILABLE at the deadline instead): its reservation is given back. */
  readonly onDiscardedDecision: (outcome: Outcome, facts: RequestFacts) => void;
  readonly process: ExternalProcessorHandlers['Process'];
  /** Once the database is connected: spend can be written, the flusher starts. */
  start(dataSource: DataSource): void;
  /** Prices the models LiteLLM keeps in its database too (server/database-models.ts). */
  useDatabaseModels(models: readonly ModelDeploymentConfig[]): void;
  stop(): Promise<void>;
}

/** A writer that exists once the database does (ext_proc may be called before that). */
class DeferredRecorder implements SpendRecorder {
  target: SpendRecorder | null = null;
  record(event: SpendEvent): Promise<boolean> {
    if (this.target === null) return Promise.reject(new Error('database not connected yet'));
    // Every write that bypasses Redis passes here: as the recorder without Redis, or its fallback.
    meteringStats.directWrites += 1;
    return this.target.record(event);
  }
  release(requestId: string): Promise<void> {
    return this.target === null ? Promise.resolve() : this.target.release(requestId);
  }
}

/** One warning per `everyMs` for a fault that would otherwise log on every request. */
function throttled(logger: Logger, message: string, everyMs = 10_000): (error: unknown) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < everyMs) return;
    last = Date.now();
    logger.warn({ err: String(error) }, message);
  };
}

export function createMetering(settings: Settings, redis: RedisClient | null, logger: Logger): MeteringRuntime {
  const options = settings.metering;
  const prefix = settings.cache.redisKeyPrefix;
  const keys = new SpendKeys(prefix);
  const prices = new PriceTable(settings.config);
  const correlations = new Correlations(CORRELATION_TTL_MS, CORRELATION_MAX_ENTRIES);
  const direct = new DeferredRecorder();
  const redisRecorder =
    redis === null
      ? null
      : new RedisSpendRecorder(redis, keys, direct, {
          prefix,
          timeoutMs: Math.max(settings.redisTimeoutMs, 1000),
          tokenRateLimitType: options.tokenRateLimitType,
          agentSessionBudgetTtlMs: settings.agentSessionTtls.budgetMs,
          onFallback: throttled(logger, 'metering: Redis unavailable, writing spend straight to the database'),
        });
  const recorder: SpendRecorder = redisRecorder ?? direct;
  // With metering off, the responses Envoy streams still feed the tpm windows the rate limiter
  // reads (LiteLLM's limiter counts every success's tokens): otherwise a tpm_limit never bites.
  // Their identity is the ext_authz metadata Envoy forwards with the stream.
  const tokensOnly = !options.enabled && options.enforceRateLimits ? redisRecorder : null;
  let flusher: SpendFlusher | null = null;
  const pending = new Set<Promise<void>>();

  const counters =
    options.enabled && redis !== null
      ? new SpendCounters(redis, keys, {
          timeoutMs: settings.redisTimeoutMs,
          idleMs: options.counterIdleMs,
          onError: throttled(logger, 'spend counters unavailable: budget checks use the database spend'),
        })
      : null;
  const reservation = options.enabled && options.budgetReservation;
  const admission: Admitter | undefined =
    redis !== null && (options.enforceRateLimits || options.rateLimitMetadata || reservation || options.enabled)
      ? new RedisAdmitter(redis, keys, prices, {
          prefix,
          enforceRateLimits: options.enforceRateLimits,
          reservation: reservation
            ? { ttlMs: options.reservationTtlMs, defaultOutputTokens: options.reservationDefaultOutputTokens }
            : null,
          rateLimitMetadata: options.rateLimitMetadata,
          metering: options.enabled,
          timeoutMs: settings.redisTimeoutMs,
          idleCounterMs: options.counterIdleMs,
          // LiteLLM's flag is about its database; here it also lets a Redis that cannot take a
          // reservation admit with the caller's identity, instead of failing the Check as an outage.
          admitWhenReservationUnavailable: settings.allowRequestsOnDbUnavailable,
          agentSessionTtls: settings.agentSessionTtls,
          onError: throttled(
            logger,
            'admission: Redis unavailable (rate limits not applied, a request admitted without a reservation, or a reservation left to expire)',
          ),
        })
      : options.enabled
        ? new MeteringAdmitter()
        : undefined;

  const releaseFailed = throttled(logger, 'metering: the reservation of an allow Envoy never received was not released; it expires by itself');
  const meteringOff = throttled(logger, 'metering: an ext_proc stream arrived but tollgate.metering is off; nothing recorded');
  const tokensUncounted = throttled(logger, 'rate limits: the tokens of a response could not be counted (Redis unavailable); tpm limits under-count');
  const tokensNotReleased = throttled(logger, 'rate limits: the tokens reserved for a failed response could not be given back (Redis unavailable); they age out with their minute');
  const settle = async (outcome: ExchangeOutcome): Promise<void> => {
    // The ExternalProcessor service is always served, so Envoy may stream to it with metering off.
    // Recording then would write spend nobody asked for: with Redis into a queue no flusher drains
    // (the flusher runs only with metering) and counters no Check reads, without it straight into
    // LiteLLM's columns (twice counted where LiteLLM itself is the upstream).
    if (!options.enabled) {
      meteringStats.responses.ignored += 1;
      if (tokensOnly === null) {
        meteringOff(`request ${outcome.kind === 'charge' ? outcome.event.requestId : outcome.requestId}`);
      } else if (outcome.kind === 'charge') {
        await tokensOnly.countTokens(outcome.event).catch(tokensUncounted);
      } else {
        // Nothing to count (an upstream error, no usage): the tokens its Check reserved go back.
        await tokensOnly.release(outcome.reservationId).catch(tokensNotReleased);
      }
      return;
    }
    if (outcome.kind === 'release') {
      meteringStats.responses[outcome.reason] += 1;
      if (outcome.reason === 'unmetered') {
        logger.warn({ requestId: outcome.requestId }, 'metering: a successful response reported no usage; nothing charged');
      }
      await recorder.release(outcome.reservationId);
      return;
    }
    meteringStats.responses[!outcome.priced ? 'unpriced' : outcome.estimated ? 'estimated' : 'charged'] += 1;
    if (!outcome.priced) logger.warn({ requestId: outcome.event.requestId, model: outcome.event.model }, 'metering: model has no price in model_list; charged 0');
    let recorded: boolean;
    try {
      recorded = await recorder.record(outcome.event);
    } catch (error) {
      meteringStats.events.failed += 1;
      throw error;
    }
    meteringStats.events[recorded ? 'recorded' : 'duplicate'] += 1;
    if (recorded) meteringStats.recordedCost += outcome.event.cost;
    logger.debug({ requestId: outcome.event.requestId, chargeId: outcome.event.chargeId, cost: outcome.event.cost, recorded }, 'metering: spend recorded');
  };

  return {
    spendOverlay: counters === null ? undefined : (snapshot, facts) => counters.overlay(snapshot, new Date(), facts),
    admission,
    onDecision: (outcome, facts) => {
      // Without metering, tokens are attributed from the metadata Envoy forwards: remembering
      // every allow on the default setup would cost each Check for streams that may never come.
      if (!options.enabled || outcome === null || facts === null || outcome.decision.kind !== 'allow') return;
      correlations.remember(facts.requestId, {
        attribution: attributionFromDecision(outcome.decision, facts),
        admittedAt: Date.now(),
        admissionId: admissionIdOf(outcome.decision),
      });
    },
    onDiscardedDecision: (outcome) => {
      // Only an allow reserves (budget, or tokens against a tpm limit, metering on or off). Envoy
      // got UNAVAILABLE for this one, so no settled response can be counted on to give the
      // reservation back (a second release, should one come, finds nothing).
      const admissionId = admissionIdOf(outcome.decision);
      if (admissionId === null) return;
      const releasing = recorder
        .release(admissionId)
        .catch(releaseFailed)
        .finally(() => pending.delete(releasing));
      pending.add(releasing);
    },
    process: createExternalProcessorHandler({
      newExchange: () => new MeteredExchange({ correlations, prices, usage: DEFAULT_RESPONSE_USAGE_OPTIONS, now: Date.now }),
      settle: (outcome) => {
        // Tracked so a graceful stop waits for spend that is being recorded right now.
        const recording = settle(outcome).finally(() => pending.delete(recording));
        pending.add(recording);
        return recording;
      },
      logger,
    }),
    useDatabaseModels(models) {
      prices.useDatabaseModels(models);
    },
    start(dataSource) {
      const writer = new SpendWriter(dataSource);
      direct.target = new DirectSpendRecorder(writer);
      if (redis === null || !options.enabled) return;
      flusher = new SpendFlusher(
        redis,
        keys,
        writer,
        {
          intervalMs: options.flushIntervalMs,
          batchSize: options.flushBatchSize,
          claimIdleMs: options.claimIdleMs,
          idleCounterMs: options.counterIdleMs,
          redisTimeoutMs: Math.max(settings.redisTimeoutMs, 1000),
          pauseBeforeCommitMs: options.flushPauseBeforeCommitMs,
          pauseBeforeAckMs: options.flushPauseBeforeAckMs,
        },
        logger,
      );
      flusher.start();
      const client = redis;
      const timeoutMs = Math.max(settings.redisTimeoutMs, 1000);
      meteringStats.queueLength = () => withTimeout(client.xLen(keys.stream), timeoutMs, 'redis XLEN');
    },
    async stop() {
      meteringStats.queueLength = null;
      await Promise.allSettled([...pending]);
      await flusher?.stop();
    },
  };
}
