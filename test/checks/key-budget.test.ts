import { expect } from 'chai';
import { keyBudget, keyBudgetThrottle, keyMaxBudgetWithTempIncrease } from '../../src/checks/key-budget';
import { NOW, aContext, aDeployment, aKey, aSnapshot, decide } from './fixtures';

describe('key budget — §2.7 steps 1 and 8', () => {
  it('denies a key at spend == max_budget (400 budget_exceeded, default BudgetExceededError message)', () => {
    expect(decide(keyBudget, { snapshot: { key: aKey({ spend: 10, max_budget: 10 }) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Current cost: 10.0, Max budget: 10.0',
      param: null,
    });
  });

  it('denies a key above max_budget', () => {
    expect(decide(keyBudget, { snapshot: { key: aKey({ spend: 10.5, max_budget: 10 }) } })?.message).to.equal(
      'Budget has been exceeded! Current cost: 10.5, Max budget: 10.0',
    );
  });

  it('allows a key below max_budget, and a key without one', () => {
    expect(decide(keyBudget, { snapshot: { key: aKey({ spend: 9.99, max_budget: 10 }) } })).to.equal(null);
    expect(decide(keyBudget, { snapshot: { key: aKey({ spend: 1000, max_budget: null }) } })).to.equal(null);
  });

  it('checks the key budget on LLM API routes only (a management route passes)', () => {
    expect(
      decide(keyBudget, { request: { route: '/team/new', model: null }, snapshot: { key: aKey({ spend: 10, max_budget: 10 }) } }),
    ).to.equal(null);
  });

  it('README §4.1: exempts info routes (GET /v1/models) from the key budget', () => {
    expect(
      decide(keyBudget, {
        request: { route: '/v1/models', method: 'GET', model: null, body: null },
        snapshot: { key: aKey({ spend: 10, max_budget: 10 }) },
      }),
    ).to.equal(null);
  });

  it('§2.7.5: skips the key budget when every requested model is explicitly free', () => {
    expect(
      decide(keyBudget, {
        snapshot: { key: aKey({ spend: 10, max_budget: 10 }) },
        policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] },
      }),
    ).to.equal(null);
  });

  it('§2.7.5: a model with an unknown price is not free', () => {
    expect(
      decide(keyBudget, {
        snapshot: { key: aKey({ spend: 10, max_budget: 10 }) },
        policy: { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: null })] },
      })?.type,
    ).to.equal('budget_exceeded');
  });

  it('§2.7.5: one paid model among several keeps budgets on', () => {
    expect(
      decide(keyBudget, {
        request: { model: ['free', 'gpt-4o'] },
        snapshot: { key: aKey({ spend: 10, max_budget: 10 }) },
        policy: { modelList: [aDeployment({ modelName: 'free', inputCostPerToken: 0, outputCostPerToken: 0 })] },
      })?.type,
    ).to.equal('budget_exceeded');
  });

  describe('temporary budget increase — §2.7 step 1', () => {
    const withIncrease = (expiry: string) =>
      aKey({ spend: 12, max_budget: 10, metadata: { temp_budget_increase: 5, temp_budget_expiry: expiry } });

    it('adds an unexpired increase to max_budget (spend 12 < 15 allows)', () => {
      expect(decide(keyBudget, { snapshot: { key: withIncrease('2025-07-01T00:00:00Z') } })).to.equal(null);
    });

    it('reports the increased budget when it is exceeded', () => {
      const key = aKey({ spend: 15, max_budget: 10, metadata: { temp_budget_increase: 5, temp_budget_expiry: '2025-07-01T00:00:00Z' } });
      expect(decide(keyBudget, { snapshot: { key } })?.message).to.equal(
        'Budget has been exceeded! Current cost: 15.0, Max budget: 15.0',
      );
    });

    it('ignores an expired increase', () => {
      expect(decide(keyBudget, { snapshot: { key: withIncrease('2025-05-01T00:00:00Z') } })?.type).to.equal('budget_exceeded');
    });

    it('reads a naive expiry as UTC', () => {
      expect(keyMaxBudgetWithTempIncrease(withIncrease('2025-06-01T12:30:00'), NOW)).to.equal(15);
      expect(keyMaxBudgetWithTempIncrease(withIncrease('2025-06-01 11:30:00'), NOW)).to.equal(10);
    });

    it('needs both metadata fields and a max_budget', () => {
      expect(keyMaxBudgetWithTempIncrease(aKey({ max_budget: 10, metadata: { temp_budget_increase: 5 } }), NOW)).to.equal(10);
      expect(
        keyMaxBudgetWithTempIncrease(
          aKey({ max_budget: null, metadata: { temp_budget_increase: 5, temp_budget_expiry: '2030-01-01' } }),
          NOW,
        ),
      ).to.equal(null);
    });
  });

  describe('throttle on budget exceeded (newer LiteLLM budget_throttle.py, LIT-3894)', () => {
    const optedIn = (overrides: Parameters<typeof aKey>[0] = {}) =>
      aKey({ spend: 20, max_budget: 10, rpm_limit: 100, tpm_limit: 1000, metadata: { throttle_on_budget_exceeded: true }, ...overrides });
    const policy = { budgetExceededThrottlePercentage: 0.1 };

    it('lets an over-budget key that opted in and has an rpm or tpm limit through, to be throttled to the configured share', () => {
      expect(decide(keyBudget, { snapshot: { key: optedIn() }, policy })).to.equal(null);
      expect(keyBudgetThrottle(aContext({ snapshot: aSnapshot({ key: optedIn() }), policy }))).to.equal(0.1);
      expect(decide(keyBudget, { snapshot: { key: optedIn({ tpm_limit: null }) }, policy }), 'an rpm limit alone').to.equal(null);
    });

    it('still refuses (400) a key that did not opt in, that has no rpm or tpm limit, or when no valid share is configured', () => {
      const refusedKeys = [
        optedIn({ metadata: {} }),
        optedIn({ metadata: { throttle_on_budget_exceeded: 'true' } }),
        optedIn({ rpm_limit: null, tpm_limit: null }),
      ];
      for (const key of refusedKeys) expect(decide(keyBudget, { snapshot: { key }, policy })?.type).to.equal('budget_exceeded');
      for (const share of [null, undefined]) {
        expect(decide(keyBudget, { snapshot: { key: optedIn() }, policy: { budgetExceededThrottlePercentage: share } })?.type).to.equal('budget_exceeded');
      }
    });

    it('throttles nothing while the key is within its budget', () => {
      expect(keyBudgetThrottle(aContext({ snapshot: aSnapshot({ key: optedIn({ spend: 5 }) }), policy }))).to.equal(null);
    });
  });
});
