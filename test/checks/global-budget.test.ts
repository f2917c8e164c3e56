import { expect } from 'chai';
import { globalProxyBudget } from '../../src/checks/global-budget';
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
