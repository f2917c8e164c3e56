/**
 * SSE usage survives any chunking: every split point of a real-shaped stream (each byte, inside
 * a UTF-8 character, inside a JSON line, inside the CRLF) and every pair of split points.
 */
import { expect } from 'chai';
import { ResponseUsage } from '../../src/metering/response-usage';
import { SseReader } from '../../src/metering/sse-reader';

const OPENAI_STREAM = [
  'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"delta":{"content":"Grüße, 世界 🌍"}}]}',
  '',
  ': keep-alive comment',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"delta":{"content":"…é"}}],"usage":null}',
  '',
  'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":33,"total_tokens":153,"prompt_tokens_details":{"cached_tokens":20}}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\r\n');

const ANTHROPIC_STREAM = [
  'event: message_start',
  'data: {"type":"message_start","message":{"model":"claude-sonnet-4","usage":{"input_tokens":12,"cache_read_input_tokens":300,"output_tokens":1}}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"naïve ✓"}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":77}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
].join('\n');

const EXPECTED_OPENAI = { inputTokens: 100, cacheReadTokens: 20, cacheCreationTokens: 0, outputTokens: 33 };
const EXPECTED_ANTHROPIC = { inputTokens: 12, cacheReadTokens: 300, cacheCreationTokens: 0, outputTokens: 77 };

function meter(chunks: Buffer[]) {
  const reader = new ResponseUsage('text/event-stream; charset=utf-8', null);
  for (const chunk of chunks) reader.push(chunk);
  return reader.finish().usage;
}

function splitAt(bytes: Buffer, points: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    out.push(bytes.subarray(from, point));
    from = point;
  }
  out.push(bytes.subarray(from));
  return out;
}

describe('metering: SSE usage across chunk boundaries', () => {
  for (const [name, text, expected] of [
    ['OpenAI (CRLF, multi-byte content, [DONE])', OPENAI_STREAM, EXPECTED_OPENAI],
    ['Anthropic (event: lines, message_start + message_delta)', ANTHROPIC_STREAM, EXPECTED_ANTHROPIC],
  ] as const) {
    const bytes = Buffer.from(text, 'utf8');

    it(`${name}: whole stream`, () => {
      expect(meter([bytes])).to.deep.equal(expected);
    });

    it(`${name}: split at every single byte offset (${bytes.length + 1} ways)`, () => {
      for (let point = 0; point <= bytes.length; point += 1) {
        expect(meter(splitAt(bytes, [point])), `split at ${point}`).to.deep.equal(expected);
      }
    });

    it(`${name}: split at every pair of offsets`, () => {
      for (let first = 0; first <= bytes.length; first += 1) {
        for (let second = first; second <= bytes.length; second += 7) {
          expect(meter(splitAt(bytes, [first, second])), `split at ${first}, ${second}`).to.deep.equal(expected);
        }
      }
    });

    it(`${name}: one byte per chunk`, () => {
      expect(meter([...bytes].map((b) => Buffer.from([b])))).to.deep.equal(expected);
    });
  }

  it('never decodes half a UTF-8 character: data arrives intact however the bytes are cut', () => {
    const text = 'data: {"text":"🌍é世"}\n\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let point = 0; point <= bytes.length; point += 1) {
      const seen: string[] = [];
      const reader = new SseReader((data) => seen.push(data));
      for (const chunk of splitAt(bytes, [point])) reader.push(chunk);
      reader.end();
      expect(seen, `split at ${point}`).to.deep.equal(['{"text":"🌍é世"}']);
    }
  });

  it('joins multi-line data fields and dispatches a last event that has no blank line after it', () => {
    const seen: string[] = [];
    const reader = new SseReader((data) => seen.push(data));
    reader.push(Buffer.from('data: {"a":\ndata: 1}\n\ndata:{"b":2}'));
    reader.end();
    expect(seen).to.deep.equal(['{"a":\n1}', '{"b":2}']);
  });

  it('skips lines longer than the limit without losing the events after them', () => {
    const seen: string[] = [];
    const reader = new SseReader((data) => seen.push(data), { maxLineBytes: 64 });
    reader.push(Buffer.from(`data: ${'x'.repeat(200)}\n\ndata: {"usage":{}}\n\n`));
    reader.end();
    expect(seen).to.deep.equal(['{"usage":{}}']);
  });

  it('reports no usage for a stream without a usage chunk (no stream_options.include_usage)', () => {
    expect(meter([Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n')])).to.equal(null);
  });
});
