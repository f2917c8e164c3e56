import { expect } from 'chai';
import { endUserBudget, endUserBudgetBeforeKeyLookup } from '../../src/checks/end-user-budget';
import { aBudget, aDeployment, anEndUser, decide } from './fixtures';

const freeGpt4o = { modelList: [aDeployment({ modelName: 'gpt-4o', inputCostPerToken: 0, outputCostPerToken: 0 })] };

describe('end-user budget — §2.5 and §4 step 5', () => {
  const customer = (spend: number, max: number | null) =>
    anEndUser({ user_id: 'customer-1', spend, budget: aBudget({ max_budget: max }) });

  it('before the key lookup: denies at end-user spend > max_budget (400, ExceededBudget message)', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: customer(3.5, 3) } })).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'ExceededBudget: End User=customer-1 over budget. Spend=3.5, Budget=3.0',
      param: null,
    });
  });

  it('before the key lookup: allows at spend == max_budget (strict >)', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: customer(3, 3) } })).to.equal(null);
  });

  it('before the key lookup: skipped on info routes', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { request: { route: '/v1/models', model: null }, snapshot: { endUser: customer(9, 3) } })).to.equal(null);
  });

  it('before the key lookup: not skipped for free models (LiteLLM decides that later)', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: customer(9, 3) }, policy: freeGpt4o })?.type).to.equal(
      'budget_exceeded',
    );
  });

  it('an unknown end user, or one without a budget, passes', () => {
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: null } })).to.equal(null);
    expect(decide(endUserBudgetBeforeKeyLookup, { snapshot: { endUser: anEndUser({ spend: 100 }) } })).to.equal(null);
  });

  it('common_checks step 5: same comparison, skipped for free models', () => {
    expect(decide(endUserBudget, { snapshot: { endUser: customer(9, 3) } })?.type).to.equal('budget_exceeded');
    expect(decide(endUserBudget, { snapshot: { endUser: customer(9, 3) }, policy: freeGpt4o })).to.equal(null);
  });
});
