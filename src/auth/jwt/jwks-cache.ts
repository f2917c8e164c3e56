/**
 * Key sets by JWKS URL, cached the way an authorizer on the request path needs them:
 *
 * - fresh for `public_key_ttl` (LiteLLM's cache TTL); after that the cached set is still served
 *   while one background refresh runs, so a TTL expiry never adds a fetch to a request;
 * - while the endpoint cannot be reached, a set stays usable for `public_key_stale_ttl` more
 *   (newer LiteLLM's stale fallback): a JWKS outage does not turn valid tokens into denials;
 * - an unknown `kid` refetches at most once per `refetchMinIntervalMs` per URL (key rotation
 *   without letting random `kid`s make us hammer the identity provider);
 * - with nothing usable, a failed fetch is retried at most once a second (every JWT for that
 *   issuer is undecided meanwhile, so recovery should be quick, but not a fetch per request);
 * - concurrent refreshes of one URL share a single fetch;
 * - with no usable set and the endpoint down, `keysFor` throws JwksUnavailableError.
 */
import { JwksUnavailableError } from './errors';
import type { JwksFetcher } from './jwks-fetch';
import type { PublicKey } from './public-key';
import type { JwksCacheSettings } from './settings';

interface UrlState {
  keys: readonly PublicKey[] | null;
  fetchedAt: number;
  lastAttemptAt: number;
  /**
   * What the last fetch's failure means for a request with nothing usable, built once per failure:
   * during an outage every token of that issuer is answered with it, and none pays for a new error.
   */
  lastFailure: JwksUnavailableError | null;
  inflight: Promise<void> | null;
}

export interface JwksEvents {
  fetched(url: string, keyCount: number): void;
  fetchFailed(url: string, reason: string): void;
}

const SILENT: JwksEvents = { fetched: () => undefined, fetchFailed: () => undefined };

/** Retry interval while no usable key set exists (bounded by `refetchMinIntervalMs`). */
const COLD_RETRY_MS = 1000;

export class JwksCache {
  private readonly states = new Map<string, UrlState>();

  constructor(
    private readonly settings: JwksCacheSettings,
    private readonly fetcher: JwksFetcher,
    private readonly events: JwksEvents = SILENT,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The keys of `url` when a usable set is in memory (a stale one starts its background refresh),
   * else undefined: then only `keysFor` can answer. Lets a warm token be verified without a promise.
   */
  usableKeys(url: string): readonly PublicKey[] | undefined {
    const state = this.stateOf(url);
    const age = this.clock() - state.fetchedAt;
    if (state.keys !== null && age <= this.settings.ttlMs) return state.keys;
    if (state.keys !== null && age <= this.settings.ttlMs + this.settings.staleTtlMs) {
      if (this.mayRefetch(state)) void this.refresh(url, state);
      return state.keys;
    }
    return undefined;
  }

  /** The usable keys of `url`, fetching when there are none. Throws when none can be had. */
  async keysFor(url: string): Promise<readonly PublicKey[]> {
    const usable = this.usableKeys(url);
    if (usable !== undefined) return usable;
    const state = this.stateOf(url);
    // Nothing usable: fetch now, unless a fetch just failed (a dead endpoint is not retried per request).
    const coldRetryMs = Math.min(COLD_RETRY_MS, this.settings.refetchMinIntervalMs);
    const fetchedBefore = state.fetchedAt;
    if (this.mayRefetch(state, coldRetryMs) || state.inflight !== null) await this.refresh(url, state);
    // A set fetched for this very request is usable for it, even with a TTL of zero.
    const fetchedNow = state.fetchedAt !== fetchedBefore;
    if (state.keys !== null && (fetchedNow || this.clock() - state.fetchedAt <= this.settings.ttlMs + this.settings.staleTtlMs)) {
      return state.keys;
    }
    throw state.lastFailure ?? new JwksUnavailableError(url, 'not fetched');
  }

  /**
   * A token names a `kid` the cached set lacks: refetch once if the rate limit allows, and return
   * whatever set is usable afterwards (the old one when the refetch fails).
   */
  async refetchForUnknownKid(url: string): Promise<readonly PublicKey[]> {
    const state = this.stateOf(url);
    if (this.mayRefetch(state) || state.inflight !== null) await this.refresh(url, state);
    return state.keys ?? [];
  }

  private stateOf(url: string): UrlState {
    let state = this.states.get(url);
    if (state === undefined) {
      state = { keys: null, fetchedAt: 0, lastAttemptAt: Number.NEGATIVE_INFINITY, lastFailure: null, inflight: null };
      this.states.set(url, state);
    }
    return state;
  }

  private mayRefetch(state: UrlState, intervalMs = this.settings.refetchMinIntervalMs): boolean {
    return state.inflight === null && this.clock() - state.lastAttemptAt >= intervalMs;
  }

  /** Never rejects: a failure keeps the previous set and is remembered for the rate limit. */
  private refresh(url: string, state: UrlState): Promise<void> {
    if (state.inflight !== null) return state.inflight;
    state.lastAttemptAt = this.clock();
    state.inflight = this.fetcher(url, this.settings.fetchTimeoutMs).then(
      (keys) => {
        state.keys = keys;
        state.fetchedAt = this.clock();
        state.lastFailure = null;
        state.inflight = null;
        this.events.fetched(url, keys.length);
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        state.lastFailure = new JwksUnavailableError(url, reason);
        state.inflight = null;
        this.events.fetchFailed(url, reason);
      },
    );
    return state.inflight;
  }
}
