import { expect } from 'chai';
import { globalProxyBudget } from '../../src/checks/global-budget';
import { buildPolicy } from '../../src/config/policy';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { decide } from './fixtures';

describe('global proxy budget — §4 step 7', () => {
  it('denies an LLM route when global spend > litellm_settings.max_budget (default message, YAML int kept)', () => {
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: 150.5 }, policy: { maxBudget: 100 } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Current cost: 150.5, Max budget: 100',
      param: null,
    });
  });

  it('prints the limit as the YAML wrote it: `100.0` stays a float, `100` an int', () => {
    for (const [written, printed] of [['100.0', '100.0'], ['100', '100'], ['1.5e2', '150.0'], ['0x64', '100']] as const) {
      const policy = buildPolicy(parseLiteLlmConfig(`litellm_settings:\n  max_budget: ${written}\n`, {}));
      const denial = decide(globalProxyBudget, { snapshot: { globalSpend: 1000.5 }, policy });
      expect(denial?.message, written).to.equal(`Budget has been exceeded! Current cost: 1000.5, Max budget: ${printed}`);
    }
  });

  it('allows at global spend == max_budget (strict >)', () => {
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: 100 }, policy: { maxBudget: 100 } })).to.equal(null);
  });

  for (const route of ['/models', '/v1/models', '/key/generate']) {
    it(`does not apply to ${route}`, () => {
      expect(decide(globalProxyBudget, { request: { route, model: null }, snapshot: { globalSpend: 500 }, policy: { maxBudget: 100 } })).to.equal(null);
    });
  }

  it('needs a positive max_budget and a known spend', () => {
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: 500 }, policy: { maxBudget: 0 } })).to.equal(null);
    expect(decide(globalProxyBudget, { snapshot: { globalSpend: null }, policy: { maxBudget: 100 } })).to.equal(null);
  });
});
