import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { PriceTable } from '../../src/metering/prices';
import { estimateCost } from '../../src/spend/cost-estimate';
import { aRequest } from '../checks/fixtures';

const PRICES = new PriceTable(
  parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n', {}),
);

describe('spend: the cost estimated for a reservation', () => {
  it('counts the declared body length at four characters per token, plus the output the request allows', () => {
    const request = aRequest({ model: 'gpt-4o', headers: { 'content-length': '4000' }, body: { model: 'gpt-4o', max_tokens: 100 } });
    expect(estimateCost(request, PRICES, 500)).to.be.closeTo(1000 * 0.001 + 100 * 0.002, 1e-9);
  });

  it('without a content-length counts the bytes Envoy forwarded, without re-serialising the body', () => {
    let read = false;
    const body = { model: 'gpt-4o' };
    Object.defineProperty(body, 'messages', { enumerable: true, get: () => ((read = true), []) });
    const request = aRequest({ model: 'gpt-4o', headers: {}, body, bodyBytes: 800 });
    read = false; // the fixture's deep freeze walked it
    expect(estimateCost(request, PRICES, 500)).to.be.closeTo(200 * 0.001 + 500 * 0.002, 1e-9);
    expect(read, 'the prompt left undecoded stays undecoded').to.equal(false);
  });

  it('counts a cut body for the prefix it holds, not as empty', () => {
    const request = aRequest({ model: 'gpt-4o', headers: {}, body: null, bodyTruncated: true, bodyBytes: 4000 });
    expect(estimateCost(request, PRICES, 0)).to.be.closeTo(1000 * 0.001, 1e-9);
  });

  it('estimates several models (a list, or the body\'s beside the one the handler serves) at the dearest priced one, not at 0', () => {
    const prices = new PriceTable(
      parseLiteLlmConfig(
        'model_list:\n' +
          '  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001, output_cost_per_token: 0.002 }\n' +
          '  - model_name: mini\n    litellm_params: { model: openai/mini, input_cost_per_token: 0.0001, output_cost_per_token: 0.0002 }\n',
        {},
      ),
    );
    const request = aRequest({ model: ['mini', 'gpt-4o', 'unpriced'], headers: { 'content-length': '4000' }, body: { model: 'mini', max_tokens: 100 } });
    expect(estimateCost(request, prices, 500)).to.be.closeTo(1000 * 0.001 + 100 * 0.002, 1e-9);
    expect(estimateCost(aRequest({ model: ['unpriced', 'other'], headers: { 'content-length': '4000' } }), prices, 500)).to.equal(0);
  });

  it('is 0 for a model without a price', () => {
    expect(estimateCost(aRequest({ model: 'unpriced', headers: { 'content-length': '4000' } }), PRICES, 500)).to.equal(0);
  });
});
