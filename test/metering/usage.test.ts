import { expect } from 'chai';
import { UsageAccumulator, promptTokensOf, rateLimitTokensOf, tokenRateLimitTypeOf, totalTokensOf } from '../../src/metering/usage';
import type { Json } from '../../src/domain/entities';

function usageOf(...objects: Json[]) {
  const accumulator = new UsageAccumulator();
  for (const object of objects) accumulator.observe(object);
  return { usage: accumulator.result(), model: accumulator.reportedModel() };
}

describe('metering: usage from provider responses', () => {
  it('reads OpenAI chat usage, cached tokens taken out of the prompt (they are included in prompt_tokens)', () => {
    const { usage, model } = usageOf({
      model: 'gpt-4o-2024-08-06',
      usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_tokens_details: { cached_tokens: 400 } },
    });
    expect(usage).to.deep.equal({ inputTokens: 600, cacheReadTokens: 400, cacheCreationTokens: 0, outputTokens: 50 });
    expect(model).to.equal('gpt-4o-2024-08-06');
    expect(promptTokensOf(usage!)).to.equal(1000);
    expect(totalTokensOf(usage!)).to.equal(1050);
  });

  it('rounds a fractional count and takes none past 2^53, which the queue could not hold', () => {
    expect(usageOf({ usage: { prompt_tokens: 10.4, completion_tokens: 1e16 } }).usage).to.deep.equal({
      inputTokens: 10,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      outputTokens: 0,
    });
  });

  it('keeps a response id as the database will store it: half a surrogate pair as U+FFFD', () => {
    const accumulator = new UsageAccumulator();
    accumulator.observe({ id: 'chatcmpl-\udc00x', usage: { prompt_tokens: 1 } });
    expect(accumulator.responseId()).to.equal('chatcmpl-\ufffdx');
  });

  it('reads OpenAI embeddings usage (no completion tokens)', () => {
    expect(usageOf({ usage: { prompt_tokens: 8, total_tokens: 8 } }).usage).to.deep.equal({
      inputTokens: 8,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      outputTokens: 0,
    });
  });

  it('reads the Responses API usage from response.completed (input_tokens include cached_tokens)', () => {
    const { usage } = usageOf({
      type: 'response.completed',
      response: { model: 'gpt-4.1', usage: { input_tokens: 300, input_tokens_details: { cached_tokens: 100 }, output_tokens: 20 } },
    });
    expect(usage).to.deep.equal({ inputTokens: 200, cacheReadTokens: 100, cacheCreationTokens: 0, outputTokens: 20 });
  });

  it('reads Anthropic usage, where input_tokens exclude cache reads and writes', () => {
    const { usage } = usageOf({
      type: 'message',
      model: 'claude-sonnet-4',
      usage: { input_tokens: 10, cache_read_input_tokens: 2000, cache_creation_input_tokens: 500, output_tokens: 70 },
    });
    expect(usage).to.deep.equal({ inputTokens: 10, cacheReadTokens: 2000, cacheCreationTokens: 500, outputTokens: 70 });
  });

  it('merges Anthropic stream events: input from message_start, cumulative output from the last message_delta', () => {
    const { usage, model } = usageOf(
      { type: 'message_start', message: { model: 'claude-sonnet-4', usage: { input_tokens: 25, cache_read_input_tokens: 0, output_tokens: 1 } } },
      { type: 'content_block_delta', delta: { text: 'hi' } },
      { type: 'message_delta', usage: { output_tokens: 15 } },
      { type: 'message_delta', usage: { output_tokens: 42 } },
    );
    expect(usage).to.deep.equal({ inputTokens: 25, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens: 42 });
    expect(model).to.equal('claude-sonnet-4');
  });

  it('reports no usage (not zero usage) when none was seen, and ignores hostile values', () => {
    expect(usageOf({ choices: [] }, 'text', null, [1, 2]).usage).to.equal(null);
    expect(usageOf({ usage: { prompt_tokens: -5, completion_tokens: 'many' } }).usage).to.equal(null);
  });
});

describe('metering: the tokens a response counts against tpm limits (v3: total less cache reads)', () => {
  it('OpenAI chat: prompt_tokens_details.cached_tokens are taken out of the total', () => {
    const { usage } = usageOf({ usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_tokens_details: { cached_tokens: 400 } } });
    expect(totalTokensOf(usage!)).to.equal(1050);
    expect(rateLimitTokensOf(usage!, 'total')).to.equal(650);
  });

  it('Responses API: input_tokens_details.cached_tokens are taken out of the total', () => {
    const { usage } = usageOf({
      type: 'response.completed',
      response: { usage: { input_tokens: 300, input_tokens_details: { cached_tokens: 100 }, output_tokens: 20, total_tokens: 320 } },
    });
    expect(rateLimitTokensOf(usage!, 'total')).to.equal(220);
  });

  it('Anthropic: cache_read_input_tokens are not counted, cache_creation_input_tokens are', () => {
    const { usage } = usageOf({
      type: 'message',
      usage: { input_tokens: 10, cache_read_input_tokens: 2000, cache_creation_input_tokens: 500, output_tokens: 70 },
    });
    expect(totalTokensOf(usage!)).to.equal(2580);
    expect(rateLimitTokensOf(usage!, 'total')).to.equal(580);
  });

  it('counts every token of a response without cache reads, and never less than zero', () => {
    expect(rateLimitTokensOf(usageOf({ usage: { prompt_tokens: 8, total_tokens: 8 } }).usage!, 'total')).to.equal(8);
    // More cached tokens than prompt tokens (a provider bug): the cache reads are capped at the prompt.
    expect(rateLimitTokensOf(usageOf({ usage: { prompt_tokens: 5, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 9 } } }).usage!, 'total')).to.equal(3);
  });
});

describe('metering: general_settings.token_rate_limit_type (v3: input, output or total)', () => {
  const openAi = usageOf({ usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_tokens_details: { cached_tokens: 400 } } }).usage!;
  const anthropic = usageOf({
    type: 'message',
    usage: { input_tokens: 10, cache_read_input_tokens: 2000, cache_creation_input_tokens: 500, output_tokens: 70 },
  }).usage!;

  it('input counts the prompt less its cache reads (cache writes count)', () => {
    expect(rateLimitTokensOf(openAi, 'input')).to.equal(600);
    expect(rateLimitTokensOf(anthropic, 'input')).to.equal(510);
  });

  it('output counts the completion alone', () => {
    expect(rateLimitTokensOf(openAi, 'output')).to.equal(50);
    expect(rateLimitTokensOf(anthropic, 'output')).to.equal(70);
  });

  it('reads input and output; anything else, unset included, is total, as get_rate_limit_type does', () => {
    expect(tokenRateLimitTypeOf('input')).to.equal('input');
    expect(tokenRateLimitTypeOf('output')).to.equal('output');
    for (const other of [undefined, null, 'total', 'Output', 'outputs', 1, true, ['input']]) expect(tokenRateLimitTypeOf(other)).to.equal('total');
  });
});

describe("metering: the provider's id of a response", () => {
  const idOf = (...objects: Json[]): string | null => {
    const accumulator = new UsageAccumulator();
    for (const object of objects) accumulator.observe(object);
    return accumulator.responseId();
  };

  it('reads the top-level id of an OpenAI body or chunk and of an Anthropic body', () => {
    expect(idOf({ id: 'chatcmpl-abc', object: 'chat.completion', usage: { prompt_tokens: 1 } })).to.equal('chatcmpl-abc');
    expect(idOf({ id: 'msg_01XYZ', type: 'message', usage: { input_tokens: 1, output_tokens: 1 } })).to.equal('msg_01XYZ');
  });

  it("reads Anthropic's message_start message.id, not a later content block's id", () => {
    expect(
      idOf(
        { type: 'message_start', message: { id: 'msg_01ABC', usage: { input_tokens: 3, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1' } },
        { type: 'message_delta', usage: { output_tokens: 9 } },
      ),
    ).to.equal('msg_01ABC');
  });

  it("reads a Responses API stream's response.id", () => {
    expect(idOf({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } }, { type: 'response.output_text.delta', item_id: 'msg_2' })).to.equal('resp_1');
  });

  it('keeps the first id seen, and ignores ids that are not non-empty strings', () => {
    expect(idOf({ id: 'chatcmpl-1' }, { id: 'chatcmpl-2' })).to.equal('chatcmpl-1');
    expect(idOf({ id: 42 }, { id: '' }, { id: null }, { id: ['x'] }, { id: 'chatcmpl-3' })).to.equal('chatcmpl-3');
    expect(idOf({ choices: [] }, 'text', null)).to.equal(null);
  });

  it('does not use an over-long id as is: it keeps its sha256, the same for the same id', () => {
    const long = `chatcmpl-${'x'.repeat(400)}`;
    const id = idOf({ id: long });
    expect(id).to.match(/^[0-9a-f]{64}$/);
    expect(idOf({ id: long })).to.equal(id);
    expect(idOf({ id: `${long}y` })).to.not.equal(id);
  });
});
