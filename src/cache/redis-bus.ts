/** Redis as the invalidation bus (the generation counter lives in the database: db-generation-counter.ts). */
import { withTimeout } from '../util/timeout';
import type { MessageBus } from './invalidation';
import type { RedisClient } from './redis-shared-cache';

export class RedisMessageBus implements MessageBus {
  /** Subscribing puts a connection in subscriber mode: it needs its own. */
  private subscriber: RedisClient | null = null;

  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly timeoutMs: number,
  ) {}

  async publish(message: string): Promise<void> {
    await withTimeout(this.client.publish(this.channel, message), this.timeoutMs, 'redis PUBLISH');
  }

  async subscribe(onMessage: (message: string) => void): Promise<void> {
    const subscriber = this.client.duplicate();
    subscriber.on('error', () => undefined); // reported through the main client's error handler
    this.subscriber = subscriber;
    // connect() settles only once Redis answers — never, if Redis is down at startup — and `serve`
    // waits for this call before reporting SERVING. So wait at most the command timeout; the
    // connection keeps retrying and subscribes when it succeeds (the client resubscribes on every
    // later reconnect by itself). Meanwhile the generation poll bounds the invalidation delay.
    const subscribed = subscriber.connect().then(() => subscriber.subscribe(this.channel, (message: string) => onMessage(message)));
    subscribed.catch(() => undefined);
    await withTimeout(subscribed, this.timeoutMs, 'redis SUBSCRIBE');
  }

  async unsubscribe(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    if (subscriber !== null && subscriber.isOpen) {
      await subscriber.unsubscribe(this.channel).catch(() => undefined);
      subscriber.destroy();
    }
  }
}
