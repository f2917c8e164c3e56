/**
 * The shared spend counters as the Check path sees them: one EVALSHA per request reads (and if
 * needed seeds or rolls over) every counter of the snapshot, and the budget checks then run,
 * unchanged and pure, over the snapshot with those values.
 *
 * Concurrent Checks asking for the same counters share one round trip (no added staleness
 * beyond that round trip). When Redis cannot answer in time, the snapshot keeps its database
 * spend: a Redis fault never inflates spend (field-notes §1) and never blocks a decision.
 */
import type { Snapshot } from '../checks/types';
import type { RedisClient } from '../cache/redis-shared-cache';
import { READ_COUNTERS } from './counter-scripts';
import { counterSlots, overlaySpend, type CounterSlot } from './counter-slots';
import { replyArray, replyString } from '../cache/lua-script';
import type { SpendKeys } from './redis-keys';
import { targetName } from './targets';

export interface SpendCountersOptions {
  readonly timeoutMs: number;
  /** A counter with nothing queued expires after this long without a charge (then re-seeds from the DB). */
  readonly idleMs: number;
  readonly onError: (error: unknown) => void;
}

export class SpendCounters {
  private readonly inFlight = new Map<string, Promise<Map<string, number>>>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: SpendKeys,
    private readonly options: SpendCountersOptions,
  ) {}

  /** The snapshot with shared spend; unchanged when it has no counters or Redis is unavailable. */
  async overlay(snapshot: Snapshot, now: Date): Promise<Snapshot> {
    const slots = counterSlots(snapshot, now.getTime());
    if (slots.length === 0 || !this.client.isReady) return snapshot;
    try {
      return overlaySpend(snapshot, await this.read(slots, now.getTime()));
    } catch (error) {
      this.options.onError(error);
      return snapshot;
    }
  }

  /** Counter values by target name (seeding absent ones). */
  read(slots: readonly CounterSlot[], now: number): Promise<Map<string, number>> {
    const signature = slots.map((s) => `${targetName(s.target)}@${s.windowEnd}`).join('\n');
    const shared = this.inFlight.get(signature);
    if (shared !== undefined) return shared;
    const read = this.readNow(slots, now).finally(() => this.inFlight.delete(signature));
    this.inFlight.set(signature, read);
    return read;
  }

  private async readNow(slots: readonly CounterSlot[], now: number): Promise<Map<string, number>> {
    const args = [String(now), String(this.options.idleMs)];
    for (const slot of slots) args.push(String(slot.windowEnd), String(slot.windowStart), String(slot.seed));
    const reply = replyArray(
      await READ_COUNTERS.run(this.client, slots.map((s) => this.keys.counter(s.target)), args, this.options.timeoutMs),
    );
    const values = new Map<string, number>();
    slots.forEach((slot, i) => {
      const value = Number(replyString(reply[i]));
      if (Number.isFinite(value)) values.set(targetName(slot.target), value);
    });
    return values;
  }
}
