/**
 * A Lua script run with EVALSHA (one round trip, the script body sent only once per Redis
 * process: a NOSCRIPT after a Redis restart falls back to EVAL, which also caches it again).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-shared-cache';
import { withTimeout } from '../util/timeout';

/** A raw RESP reply: what scripts return (strings, integers, nested arrays, nil). */
export type RawReply = string | number | null | RawReply[];

export class LuaScript {
  private readonly sha: string;

  constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly string[], timeoutMs: number): Promise<RawReply> {
    return withTimeout(this.send(client, keys, args), timeoutMs, `redis script ${this.name}`);
  }

  /**
   * The script's reply with no timeout: a caller that gives up waiting can still learn when the
   * script has run (or can no longer run), which is when undoing its effects is safe.
   */
  async send(client: RedisClient, keys: readonly string[], args: readonly string[]): Promise<RawReply> {
    const options = { keys: [...keys], arguments: [...args] };
    try {
      return toRawReply(await client.evalSha(this.sha, options));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return toRawReply(await client.eval(this.source, options));
    }
  }
}

export function toRawReply(value: unknown): RawReply {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(toRawReply);
  throw new Error(`unexpected Redis reply of type ${typeof value}`);
}

export function replyString(value: RawReply | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new Error('expected a string reply');
}

export function replyArray(value: RawReply | undefined): RawReply[] {
  if (Array.isArray(value)) return value;
  throw new Error('expected an array reply');
}
