import { expect } from 'chai';
import { decodeCached, encodeCached } from '../../src/cache/codec';
import { userModelBudget } from '../../src/checks/user-model-budget';
import type { User } from '../../src/domain/entities';
import { aKey, aUser, decide } from '../checks/fixtures';

describe('cache codec', () => {
  it('round-trips Dates, nulls and nested values, and deep-freezes the result', () => {
    const value = { expires: new Date('2030-01-02T03:04:05.678Z'), spend: 1.5, models: ['a'], meta: { x: null } };
    const decoded = decodeCached<typeof value>(encodeCached(value));
    expect(decoded.expires).to.be.instanceOf(Date);
    expect(decoded.expires.toISOString()).to.equal('2030-01-02T03:04:05.678Z');
    expect(decoded).to.deep.equal(value);
    expect(Object.isFrozen(decoded.models)).to.equal(true);
  });

  it("carries a user's per-model budgets and spend, and still reads a user cached before they existed", () => {
    const limits = { 'gpt-4o': { max_budget: 1, budget_duration: '1d' } };
    const current = aUser({ model_max_budget: limits, model_spend: { 'gpt-4o': 2 } });
    const decoded = decodeCached<User>(encodeCached(current));
    expect(decoded).to.deep.equal(current);
    expect(decide(userModelBudget, { snapshot: { key: aKey({ user_id: 'user-1' }), user: decoded } })?.type).to.equal('budget_exceeded');

    const { model_max_budget: _limits, model_spend: _spend, ...older } = current;
    const old = decodeCached<User>(encodeCached(older));
    expect(old.model_max_budget).to.equal(undefined);
    expect(decide(userModelBudget, { snapshot: { key: aKey({ user_id: 'user-1' }), user: old } })).to.equal(null);
  });
});
