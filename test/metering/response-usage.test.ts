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
