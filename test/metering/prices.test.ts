import { expect } from 'chai';
import { costOf } from '../../src/metering/cost';
import { PriceTable } from '../../src/metering/prices';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';

const CONFIG = parseLiteLlmConfig(
  `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o-2024-08-06, input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001, cache_read_input_token_cost: 0.00000125 }
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4 }
    model_info: { input_cost_per_token: 0.000003, output_cost_per_token: 0.000015, cache_read_input_token_cost: 0.0000003, cache_creation_input_token_cost: 0.00000375 }
  - model_name: free-model
    litellm_params: { model: openai/free, input_cost_per_token: 0, output_cost_per_token: 0 }
  - model_name: unpriced
    litellm_params: { model: openai/unpriced }
`,
  {},
);

describe('metering: cost from model_list prices', () => {
  const prices = new PriceTable(CONFIG);

  it('prices each kind of token at its own rate (OpenAI cached reads at the cache price)', () => {
    const price = prices.priceOf('gpt-4o', null)!;
    const cost = costOf({ inputTokens: 600, cacheReadTokens: 400, cacheCreationTokens: 0, outputTokens: 50 }, price);
    expect(cost).to.be.closeTo(600 * 0.0000025 + 400 * 0.00000125 + 50 * 0.00001, 1e-15);
  });

  it('prices Anthropic cache writes at cache_creation_input_token_cost (from model_info when litellm_params has none)', () => {
    const price = prices.priceOf('claude', null)!;
    const cost = costOf({ inputTokens: 10, cacheReadTokens: 2000, cacheCreationTokens: 500, outputTokens: 70 }, price);
    expect(cost).to.be.closeTo(10 * 0.000003 + 2000 * 0.0000003 + 500 * 0.00000375 + 70 * 0.000015, 1e-15);
  });

  it('falls back to the provider-reported model, with or without the provider prefix', () => {
    expect(prices.priceOf('not-listed', 'gpt-4o-2024-08-06')?.output).to.equal(0.00001);
    expect(prices.priceOf(null, 'openai/gpt-4o-2024-08-06')?.output).to.equal(0.00001);
  });

  it('prices cache tokens at the input price when no cache price is given; free stays free; unpriced is null', () => {
    expect(prices.priceOf('free-model', null)).to.deep.equal({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });
    expect(prices.priceOf('gpt-4o', null)?.cacheCreation).to.equal(0.0000025);
    expect(prices.priceOf('unpriced', null)).to.equal(null);
  });

  it("takes litellm_params' prices over model_info's, as LiteLLM's Deployment copies them over", () => {
    const both = new PriceTable(
      parseLiteLlmConfig(
        'model_list:\n  - model_name: m\n    litellm_params: { model: openai/m, input_cost_per_token: 0.000005, output_cost_per_token: 0.00002 }\n    model_info: { input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001 }\n',
        {},
      ),
    );
    expect(both.priceOf('m', null)).to.deep.include({ input: 0.000005, output: 0.00002 });
  });

  it('prices a model reached through model_group_alias, model_alias_map or a wildcard deployment by that deployment (never 0)', () => {
    const routed = new PriceTable(
      parseLiteLlmConfig(
        [
          'model_list:',
          '  - model_name: claude-group',
          '    litellm_params: { model: anthropic/claude-sonnet-4, input_cost_per_token: 0.000003, output_cost_per_token: 0.000015 }',
          '  - model_name: openai/*',
          '    litellm_params: { model: openai/*, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }',
          'router_settings:',
          '  model_group_alias: { claude: claude-group }',
          '',
        ].join('\n'),
        {},
      ),
    );
    expect(routed.priceOf('claude', null)).to.deep.include({ input: 0.000003, output: 0.000015 });
    expect(routed.priceOf('openai/gpt-4.1', null)).to.deep.include({ input: 0.000001, output: 0.000002 });
    expect(routed.priceOf('mistral/x', null)).to.equal(null);
  });
});
