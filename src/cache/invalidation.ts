/**
 * Cross-replica cache invalidation (field-notes §3: a block must reach every sidecar).
 *
 * A writer purges the shared tier, bumps a generation counter (a row in the database, which every
 * writer and replica can reach whether or not Redis can be) and publishes {kind, id, generation}.
 * Every replica drops the entry when the message arrives (milliseconds), and polls the counter
 * every `pollMs`: a counter that moved without a message (pub/sub lost, subscriber reconnecting,
 * Redis restarted) clears the whole process cache. So a revocation reaches every replica within
 * `pollMs` even when messages are lost, and at once when they are not.
 */
import { ENTITY_KINDS, type CachedAuthStore, type EntityKind } from './cached-auth-store';

export interface InvalidationMessage {
  readonly kind: EntityKind;
  readonly id: string;
  /** The counter's value after this write's bump; UNKNOWN_GENERATION when the bump failed. */
  readonly generation: number;
}

/**
 * Sent when the bump failed: the message still drops the entry everywhere it arrives, and, being
 * below every real generation, neither reads as a gap nor moves a listener's last-seen value.
 */
export const UNKNOWN_GENERATION = 0;

export interface GenerationCounter {
  current(): Promise<number>;
  bump(): Promise<number>;
}

export interface MessageBus {
  publish(message: string): Promise<void>;
  subscribe(onMessage: (message: string) => void): Promise<void>;
  unsubscribe(): Promise<void>;
}

export function invalidationChannel(prefix: string): string {
  return `${prefix}invalidations`;
}

export function parseInvalidation(text: string): InvalidationMessage | null {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object') return null;
    const { kind, id, generation } = value as Record<string, unknown>;
    if (typeof kind !== 'string' || !(ENTITY_KINDS as readonly string[]).includes(kind)) return null;
    if (typeof id !== 'string' || typeof generation !== 'number') return null;
    return { kind: kind as EntityKind, id, generation };
  } catch {
    return null;
  }
}

/** The writer's side: used by the CLI (and any future management API) after every write. */
export class CacheInvalidationPublisher {
  constructor(
    private readonly store: CachedAuthStore,
    private readonly counter: GenerationCounter,
    private readonly bus: MessageBus | null,
  ) {}

  /**
   * Purge, bump, announce — each attempted even when an earlier one failed, so that a Redis outage
   * (purge and announcement fail) still leaves the bump every replica polls for. The shared-tier
   * purge goes first: a replica that reloads after seeing the bump must not find the old copy there.
   * Throws the first failure afterwards (the caller must say that running servers may lag).
   */
  async invalidate(kind: EntityKind, id: string): Promise<void> {
    const failures: unknown[] = [];
    await this.store.invalidate(kind, id).catch((error: unknown) => failures.push(error));
    const generation = await this.counter.bump().catch((error: unknown) => {
      failures.push(error);
      return UNKNOWN_GENERATION;
    });
    const message: InvalidationMessage = { kind, id, generation };
    if (this.bus !== null) await this.bus.publish(JSON.stringify(message)).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  }
}

export interface ListenerEvents {
  dropped(kind: EntityKind): void;
  clearedAll(reason: 'generation_gap' | 'counter_moved' | 'counter_reset'): void;
  pollFailed(error: unknown): void;
}

/** The replica's side: run by `tollgate serve`. */
export class CacheInvalidationListener {
  private lastSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly store: CachedAuthStore,
    private readonly counter: GenerationCounter,
    private readonly bus: MessageBus | null,
    private readonly pollMs: number,
    private readonly events: ListenerEvents,
  ) {}

  async start(): Promise<void> {
    try {
      this.lastSeen = await this.counter.current();
    } catch (error) {
      this.events.pollFailed(error);
    }
    if (this.bus !== null) {
      try {
        await this.bus.subscribe((text) => this.onMessage(text));
      } catch (error) {
        // The poll still bounds the delay; the subscription is retried by the client on reconnect.
        this.events.pollFailed(error);
      }
    }
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.bus !== null) await this.bus.unsubscribe().catch(() => undefined);
  }

  onMessage(text: string): void {
    const message = parseInvalidation(text);
    if (message === null) return;
    this.store.dropLocal(message.kind, message.id);
    this.events.dropped(message.kind);
    if (message.generation > this.lastSeen + 1) {
      // Messages in between never arrived: we cannot know what they named.
      this.store.clearLocal();
      this.events.clearedAll('generation_gap');
    }
    this.lastSeen = Math.max(this.lastSeen, message.generation);
  }

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      // A message may arrive while the read is out: a value between the two is not a change.
      const before = this.lastSeen;
      const generation = await this.counter.current();
      if (generation > this.lastSeen) {
        this.store.clearLocal();
        this.events.clearedAll('counter_moved');
        this.lastSeen = generation;
      } else if (generation < before) {
        this.store.clearLocal();
        this.events.clearedAll('counter_reset');
        this.lastSeen = generation;
      }
    } catch (error) {
      this.events.pollFailed(error);
    } finally {
      this.polling = false;
    }
  }
}
