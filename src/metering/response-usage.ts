/**
 * Reads the usage (and the provider's id) of one upstream response, whatever its framing: an SSE stream
 * (`text/event-stream`) or a JSON body. Fed the body chunks exactly as Envoy sends them.
 */
import type { Json } from '../domain/entities';
import { GeneratedText } from './generated-text';
import { JsonBody } from './json-body';
import { SseReader } from './sse-reader';
import { UsageAccumulator, type Usage } from './usage';

export interface ResponseUsageOptions {
  /** JSON bodies up to this size are parsed whole; larger ones only by their tail. */
  readonly maxJsonBytes: number;
}

export interface ResponseReading {
  /** Null when the response reported no usage. */
  readonly usage: Usage | null;
  readonly model: string | null;
  readonly responseId: string | null;
  /** UTF-8 bytes of the text it generated: what an estimate charges when it reported no usage. */
  readonly generatedBytes: number;
}

export const DEFAULT_RESPONSE_USAGE_OPTIONS: ResponseUsageOptions = { maxJsonBytes: 8 * 1024 * 1024 };

export class ResponseUsage {
  private readonly usage = new UsageAccumulator();
  private readonly generated = new GeneratedText();
  private readonly sse: SseReader | null;
  private readonly json: JsonBody | null;

  constructor(contentType: string | null, contentEncoding: string | null, options = DEFAULT_RESPONSE_USAGE_OPTIONS) {
    const isSse = (contentType ?? '').toLowerCase().split(';')[0].trim() === 'text/event-stream';
    const encoding = contentEncoding === null ? null : contentEncoding.toLowerCase().trim();
    this.sse = isSse ? new SseReader((data) => this.observeText(data)) : null;
    this.json = isSse ? null : new JsonBody(options.maxJsonBytes, encoding === '' ? null : encoding);
  }

  push(chunk: Buffer): void {
    if (this.sse !== null) this.sse.push(chunk);
    else this.json?.push(chunk);
  }

  /** Call once at end of stream (or when the stream was cut: what was seen so far counts). */
  finish(): ResponseReading {
    if (this.sse !== null) this.sse.end();
    else for (const value of this.json?.finish() ?? []) this.observe(value);
    return {
      usage: this.usage.result(),
      model: this.usage.reportedModel(),
      responseId: this.usage.responseId(),
      generatedBytes: this.generated.byteCount,
    };
  }

  private observe(value: Json): void {
    this.usage.observe(value);
    this.generated.observe(value);
  }

  private observeText(data: string): void {
    if (data === '[DONE]') return;
    try {
      this.observe(JSON.parse(data) as Json);
    } catch {
      // Not JSON (or a truncated line): carries no usage we could trust.
    }
  }
}
