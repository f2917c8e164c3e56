/**
 * Moves SpendEvents from the Redis stream to the database, in batches, with at-least-once
 * delivery made exactly-once by the idempotent writer:
 *
 *   read (XREADGROUP) → write + commit (SpendWriter) → acknowledge (ACK_FLUSHED: XACK + XDEL)
 *
 * A process that dies anywhere in that sequence leaves its entries pending in the consumer group;
 * after `claimIdleMs` any replica takes them over (XAUTOCLAIM) and replays them. A replay after
 * the commit finds the SpendLogs rows already there and adds nothing. Entries this consumer read
 * but could not write (database down) are retried first, in order, on the next cycle.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../cache/redis-shared-cache';
import type { Logger } from '../observability/logger';
import { withTimeout } from '../util/timeout';
import { meteringStats, type MeteringStats } from '../metering/metering-metrics';
import { ACK_FLUSHED } from './counter-scripts';
import { toRawReply, type RawReply } from '../cache/lua-script';
import { FLUSH_GROUP, type SpendKeys } from './redis-keys';
import { decodeSpendEvent } from './spend-event';
import { isRefusedRowError, type QueuedSpend, type SpendWriter } from './spend-writer';
import { targetName, targetsOf } from './targets';

export interface SpendFlusherOptions {
  readonly intervalMs: number;
  readonly batchSize: number;
  /** Entries pending this long with another consumer are taken over (that consumer is presumed dead). */
  readonly claimIdleMs: number;
  readonly idleCounterMs: number;
  readonly redisTimeoutMs: number;
  /** Recovery drills only: hold a batch this long before its commit / before its acknowledgement. */
  readonly pauseBeforeCommitMs: number;
  readonly pauseBeforeAckMs: number;
}

interface StreamEntry {
  readonly id: string;
  readonly fields: ReadonlyMap<string, string>;
}

export class SpendFlusher {
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private cycle: Promise<void> = Promise.resolve();
  private stopped = false;
  private groupReady = false;
  private lastClaimAt = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: SpendKeys,
    private readonly writer: SpendWriter,
    private readonly options: SpendFlusherOptions,
    private readonly logger: Logger,
    private readonly stats: MeteringStats = meteringStats,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scheduling and waits for the batch in progress (its entries stay pending if unfinished). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.cycle;
  }

  /** One cycle: resolves with the number of entries handled (written or found already written). */
  async flushOnce(): Promise<number> {
    if (!this.client.isReady) return 0;
    await this.ensureGroup();
    let entries = await this.readGroup('0'); // ours, read before but not acknowledged
    if (entries.length === 0 && Date.now() - this.lastClaimAt >= Math.min(this.options.claimIdleMs, 5_000)) {
      this.lastClaimAt = Date.now();
      entries = await this.claimAbandoned();
    }
    if (entries.length === 0) entries = await this.readGroup('>');
    if (entries.length === 0) return 0;
    await this.handle(entries);
    return entries.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.cycle = this.flushOnce().then(
        (handled) => this.schedule(handled >= this.options.batchSize ? 0 : this.options.intervalMs),
        (error: unknown) => {
          this.stats.batches.failed += 1;
          this.logger.warn({ err: String(error) }, 'spend flush failed; entries stay queued and are retried');
          this.schedule(this.options.intervalMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  private async handle(entries: readonly StreamEntry[]): Promise<void> {
    const queued: QueuedSpend[] = [];
    for (const entry of entries) {
      const event = decodeSpendEvent(entry.fields.get('e') ?? '');
      if (event === null) {
        this.stats.flushed.unreadable += 1;
        this.logger.error({ entry: entry.id }, 'dropping an unreadable spend queue entry');
        continue;
      }
      const names = targetsOf(event.attribution).map(targetName);
      const windows = (entry.fields.get('w') ?? '').split(',');
      queued.push({ event, windows: new Map(names.map((name, i) => [name, Number(windows[i]) || 0])) });
    }
    this.logger.debug({ entries: entries.length, consumer: this.consumer }, 'spend batch read');
    await pause(this.options.pauseBeforeCommitMs);
    const refusedBefore = this.stats.flushed.refused;
    const written = await this.writeSettingAsideRefused(queued);
    const refused = this.stats.flushed.refused - refusedBefore;
    this.logger.debug({ entries: entries.length, written, consumer: this.consumer }, 'spend batch committed');
    await pause(this.options.pauseBeforeAckMs);
    await this.acknowledge(entries);
    this.stats.batches.ok += 1;
    this.stats.flushed.written += written;
    this.stats.flushed.replayed += queued.length - written - refused;
  }

  /**
   * Writes the batch; when the database refuses a row's data, writes its entries one by one and
   * drops only the refused one (logged with its charge and cost), so one bad row cannot hold up
   * every later charge forever. Any other failure (the database down) keeps the whole batch queued.
   */
  private async writeSettingAsideRefused(queued: readonly QueuedSpend[]): Promise<number> {
    try {
      return await this.writer.write(queued);
    } catch (error) {
      if (!isRefusedRowError(error)) throw error;
      if (queued.length > 1) {
        let written = 0;
        for (const item of queued) written += await this.writeSettingAsideRefused([item]);
        return written;
      }
      const event = queued[0]?.event;
      this.stats.flushed.refused += 1;
      this.logger.error({ charge: event?.chargeId, cost: event?.cost, err: String(error) }, 'the database refused a spend row: dropped, the rest of the batch written');
      return 0;
    }
  }

  /** Unreadable entries are acknowledged too: replaying them could never succeed. */
  private async acknowledge(entries: readonly StreamEntry[]): Promise<void> {
    const counterKeys: string[] = [];
    const indexOf = new Map<string, number>();
    const args = [FLUSH_GROUP, String(this.options.idleCounterMs), String(Date.now()), String(entries.length)];
    for (const entry of entries) {
      const event = decodeSpendEvent(entry.fields.get('e') ?? '');
      const keys = event === null ? [] : targetsOf(event.attribution).map((t) => this.keys.counter(t));
      // RECORD_SPEND wrote each counter's window in the same order, 'u' for one not yet seeded.
      const windows = (entry.fields.get('w') ?? '').split(',');
      args.push(entry.id, String(event?.cost ?? 0), String(keys.length));
      keys.forEach((key, i) => {
        if (!indexOf.has(key)) {
          counterKeys.push(key);
          indexOf.set(key, counterKeys.length);
        }
        const index = indexOf.get(key) ?? 0;
        args.push(String(windows[i] === 'u' ? -index : index));
      });
    }
    await ACK_FLUSHED.run(this.client, [this.keys.stream, ...counterKeys], args, this.options.redisTimeoutMs);
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      await this.command(['XGROUP', 'CREATE', this.keys.stream, FLUSH_GROUP, '0', 'MKSTREAM']);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
    this.groupReady = true;
  }

  private async readGroup(from: '0' | '>'): Promise<StreamEntry[]> {
    const args = ['XREADGROUP', 'GROUP', FLUSH_GROUP, this.consumer, 'COUNT', String(this.options.batchSize)];
    const reply = await this.command([...args, 'STREAMS', this.keys.stream, from]);
    if (!Array.isArray(reply) || reply.length === 0) return [];
    const stream = reply[0];
    return Array.isArray(stream) && Array.isArray(stream[1]) ? parseEntries(stream[1]) : [];
  }

  private async claimAbandoned(): Promise<StreamEntry[]> {
    const reply = await this.command([
      'XAUTOCLAIM',
      this.keys.stream,
      FLUSH_GROUP,
      this.consumer,
      String(this.options.claimIdleMs),
      '0-0',
      'COUNT',
      String(this.options.batchSize),
    ]);
    const entries = Array.isArray(reply) && Array.isArray(reply[1]) ? parseEntries(reply[1]) : [];
    this.stats.claimed += entries.length;
    if (entries.length > 0) this.logger.info({ entries: entries.length, consumer: this.consumer }, 'took over abandoned spend entries');
    return entries;
  }

  private async command(args: string[]): Promise<RawReply> {
    try {
      return toRawReply(await withTimeout(this.client.sendCommand(args), this.options.redisTimeoutMs * 5, `redis ${args[0]}`));
    } catch (error) {
      // The group vanishes with the stream (Redis restarted without persistence): create it again.
      if (error instanceof Error && error.message.startsWith('NOGROUP')) this.groupReady = false;
      throw error;
    }
  }
}

/** `[[id, [field, value, …]], …]`; entries deleted while pending come back as nil and are skipped. */
function parseEntries(raw: RawReply[]): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) continue;
    const fields = new Map<string, string>();
    const flat = item[1];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i];
      const value = flat[i + 1];
      if (typeof name === 'string' && typeof value === 'string') fields.set(name, value);
    }
    entries.push({ id: item[0], fields });
  }
  return entries;
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
