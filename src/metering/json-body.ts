/**
 * A non-streamed (JSON) response body, collected as Envoy streams it and parsed at its end.
 *
 * Bodies up to `maxBytes` are parsed whole. Past that only the tail is kept: OpenAI and Anthropic
 * put `usage` at the end of the object, so the last `"usage": {...}` in the tail is parsed on its
 * own. Compressed bodies are inflated first (Envoy routes are configured not to ask for them).
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Json } from '../domain/entities';

const TAIL_BYTES = 64 * 1024;

export class JsonBody {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private overflowed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly contentEncoding: string | null,
  ) {}

  push(chunk: Buffer): void {
    if (this.overflowed && this.contentEncoding !== null) return;
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
    if (this.bytes <= this.maxBytes) return;
    if (this.contentEncoding !== null) {
      // A compressed tail cannot be inflated on its own: give up on this body.
      this.chunks = [];
      this.bytes = 0;
      this.overflowed = true;
      return;
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(all.length - TAIL_BYTES)];
    this.bytes = TAIL_BYTES;
    this.overflowed = true;
  }

  /** The parsed objects that may carry usage (the whole body, or the tail's usage object). */
  finish(): Json[] {
    const raw = Buffer.concat(this.chunks);
    if (!this.overflowed) {
      const text = decode(raw, this.contentEncoding);
      const parsed = text === null ? undefined : parseJson(text);
      return parsed === undefined ? [] : [parsed];
    }
    if (this.contentEncoding !== null) return [];
    const usage = lastUsageObject(raw.toString('utf8'));
    return usage === undefined ? [] : [{ usage }];
  }
}

function decode(raw: Buffer, encoding: string | null): string | null {
  try {
    switch (encoding) {
      case null:
      case 'identity':
        return raw.toString('utf8');
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(raw).toString('utf8');
      case 'deflate':
        return inflateSync(raw).toString('utf8');
      case 'br':
        return brotliDecompressSync(raw).toString('utf8');
      default:
        return null;
    }
  } catch {
    return null;
  }
}

function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** The balanced `{...}` after the last `"usage":` in `text` (strings with braces inside are respected). */
export function lastUsageObject(text: string): Json | undefined {
  const match = /"usage"\s*:\s*\{/g;
  let start = -1;
  for (let m = match.exec(text); m !== null; m = match.exec(text)) start = m.index + m[0].length - 1;
  if (start === -1) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth += 1;
    else if (c === '}') {
      depth -= 1;
      if (depth === 0) return parseJson(text.slice(start, i + 1));
    }
  }
  return undefined;
}
