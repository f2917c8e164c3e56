/**
 * An incremental Server-Sent Events reader that hands every event's `data` to a callback.
 *
 * Envoy streams the body in arbitrary chunks: a chunk can end inside a line, inside a JSON
 * object, even inside a multi-byte UTF-8 character. Lines are therefore split on the LF byte
 * (0x0A never occurs inside a UTF-8 sequence) and only complete lines are decoded, so a split
 * character is reassembled before it is ever turned into text.
 */
const LF = 0x0a;
const CR = 0x0d;

export interface SseReaderOptions {
  /** Longer lines are skipped (content deltas can be large; usage events never are). */
  readonly maxLineBytes: number;
}

export class SseReader {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The current line outgrew maxLineBytes: drop bytes until its end. */
  private skipping = false;
  private dataLines: string[] = [];

  constructor(
    private readonly onData: (data: string) => void,
    private readonly options: SseReaderOptions = { maxLineBytes: 1024 * 1024 },
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, start)) {
      this.append(chunk.subarray(start, at));
      this.completeLine();
      start = at + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  }

  /** End of stream: a last line without a newline and a last event without a blank line still count. */
  end(): void {
    if (this.partialBytes > 0 || this.skipping) this.completeLine();
    this.dispatch();
  }

  private append(bytes: Buffer): void {
    if (this.skipping || bytes.length === 0) return;
    if (this.partialBytes + bytes.length > this.options.maxLineBytes) {
      this.partial = [];
      this.partialBytes = 0;
      this.skipping = true;
      return;
    }
    // Copied: Envoy's chunk buffers are reused by grpc-js once the handler returns.
    this.partial.push(Buffer.from(bytes));
    this.partialBytes += bytes.length;
  }

  private completeLine(): void {
    const wasSkipping = this.skipping;
    let bytes = this.partial.length === 1 ? this.partial[0] : Buffer.concat(this.partial, this.partialBytes);
    this.partial = [];
    this.partialBytes = 0;
    this.skipping = false;
    if (wasSkipping) return;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    this.line(bytes.toString('utf8'));
  }

  private line(text: string): void {
    if (text === '') {
      this.dispatch();
      return;
    }
    if (!text.startsWith('data:')) return; // event:, id:, retry: and ":" comments carry no usage
    const value = text.slice(5);
    this.dataLines.push(value.startsWith(' ') ? value.slice(1) : value);
  }

  private dispatch(): void {
    if (this.dataLines.length === 0) return;
    const data = this.dataLines.join('\n');
    this.dataLines = [];
    this.onData(data);
  }
}
