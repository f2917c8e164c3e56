import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { lastUsageObject } from '../../src/metering/json-body';
import { ResponseUsage } from '../../src/metering/response-usage';

const BODY = JSON.stringify({
  id: 'chatcmpl-1',
  model: 'gpt-4o-mini',
  choices: [{ message: { role: 'assistant', content: 'a "usage": {"prompt_tokens": 999} in text, and } braces {' } }],
  usage: { prompt_tokens: 40, completion_tokens: 10, total_tokens: 50 },
});

describe('metering: usage from buffered JSON responses', () => {
  it('parses a body delivered in many chunks', () => {
    const reader = new ResponseUsage('application/json', null);
    const bytes = Buffer.from(BODY);
    for (let i = 0; i < bytes.length; i += 13) reader.push(bytes.subarray(i, i + 13));
    expect(reader.finish()).to.deep.equal({
      usage: { inputTokens: 40, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 10 },
      model: 'gpt-4o-mini',
      responseId: 'chatcmpl-1',
      generatedBytes: Buffer.byteLength('a "usage": {"prompt_tokens": 999} in text, and } braces {'),
    });
  });

  it('inflates a gzip body', () => {
    const reader = new ResponseUsage('application/json', 'gzip');
    reader.push(gzipSync(Buffer.from(BODY)));
    expect(reader.finish().usage?.outputTokens).to.equal(10);
  });

  it('reads usage from the tail of a body larger than the limit', () => {
    const reader = new ResponseUsage('application/json', null, { maxJsonBytes: 1024 });
    const big = JSON.stringify({ choices: [{ message: { content: 'x'.repeat(300_000) } }], usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const bytes = Buffer.from(big);
    for (let i = 0; i < bytes.length; i += 4096) reader.push(bytes.subarray(i, i + 4096));
    expect(reader.finish().usage).to.deep.equal({ inputTokens: 7, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 3 });
  });

  it('finds the last usage object and respects braces inside strings', () => {
    expect(lastUsageObject('{"a":{"usage":{"x":1}},"usage":{"s":"}{","n":2}}')).to.deep.equal({ s: '}{', n: 2 });
    expect(lastUsageObject('{"usage": {"unterminated": 1')).to.equal(undefined);
  });

  it('reports no usage for an error body, an unknown encoding or invalid JSON', () => {
    for (const [type, encoding, body] of [
      ['application/json', null, '{"error":{"message":"rate limited"}}'],
      ['application/json', 'zstd', BODY],
      ['application/json', null, '{"usage": {"prompt_tokens": 1'],
    ] as const) {
      const reader = new ResponseUsage(type, encoding);
      reader.push(Buffer.from(body));
      expect(reader.finish().usage).to.equal(null);
    }
  });
});

describe("metering: the provider's response id, read with the usage", () => {
  const streamed = (text: string, piece = 7): ResponseUsage => {
    const reader = new ResponseUsage('text/event-stream; charset=utf-8', null);
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += piece) reader.push(bytes.subarray(i, i + piece));
    return reader;
  };

  it('reads it from an OpenAI stream (every chunk carries it)', () => {
    const reader = streamed(
      [
        'data: {"id":"chatcmpl-S1","object":"chat.completion.chunk","choices":[{"delta":{"content":"hi"}}]}',
        'data: {"id":"chatcmpl-S1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    expect(reader.finish()).to.deep.include({ responseId: 'chatcmpl-S1' });
  });

  it('reads it from an Anthropic stream (message_start)', () => {
    const reader = streamed(
      [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_A1","model":"claude-sonnet-4","usage":{"input_tokens":5,"output_tokens":1}}}',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9"}}',
        'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":8}}',
        'event: message_stop\ndata: {"type":"message_stop"}',
        '',
      ].join('\n\n'),
    );
    expect(reader.finish()).to.deep.include({ responseId: 'msg_A1', model: 'claude-sonnet-4' });
  });

  it('reports none when the response carries none', () => {
    const reader = streamed('data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}\n\ndata: [DONE]\n\n');
    expect(reader.finish()).to.deep.include({ responseId: null });
  });
});
