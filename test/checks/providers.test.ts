import { expect } from 'chai';
import { inferProvider } from '../../src/checks/providers';

describe('inferProvider (get_llm_provider stand-in) — §5 step 3d', () => {
  const rows: readonly (readonly [string, string | null, string | null])[] = [
    ['gpt-4o', 'openai', 'gpt-4o'],
    ['o1', 'openai', 'o1'],
    ['o3-mini', 'openai', 'o3-mini'],
    ['text-embedding-3-small', 'openai', 'text-embedding-3-small'],
    ['gpt-3.5-turbo-instruct', 'text-completion-openai', 'gpt-3.5-turbo-instruct'],
    ['claude-3-5-sonnet-20240620', 'anthropic', 'claude-3-5-sonnet-20240620'],
    ['gemini-1.5-pro', 'vertex_ai', 'gemini-1.5-pro'],
    ['openai/gpt-4o', 'openai', 'gpt-4o'],
    ['bedrock/us.amazon.nova-micro-v1:0', 'bedrock', 'us.amazon.nova-micro-v1:0'],
    ['gemini/gemini-2.0-flash', 'gemini', 'gemini-2.0-flash'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0'],
    ['us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'bedrock', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0'],
    ['amazon.nova-micro-v1:0', 'bedrock', 'amazon.nova-micro-v1:0'],
    ['amazon.titan-embed-text-v2:0', 'bedrock', 'amazon.titan-embed-text-v2:0'],
    ['meta.llama3-1-70b-instruct-v1:0', 'bedrock', 'meta.llama3-1-70b-instruct-v1:0'],
    ['anthropic.claude', null, null],
    ['my-company.model-v1', null, null],
    ['my-company-model', null, null],
    ['bedrockzzzz/us.amazon.nova', null, null],
    ['o10-custom', null, null],
  ];
  for (const [model, provider, name] of rows) {
    it(`${model} → ${provider ?? 'unknown (no match)'}`, () => {
      const inferred = inferProvider(model);
      if (provider === null) expect(inferred).to.equal(null);
      else expect(inferred).to.deep.equal({ provider, model: name });
    });
  }
});
