import { expect } from 'chai';
import { AdminInputError, AdminStore } from '../../src/store/admin-store';
import { budgetLimits } from '../../src/cli/admin-commands';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AdminInputError);
    return (error as Error).message;
  }
  return expect.fail('expected an AdminInputError');
}

describe('--budget-limits (tollgate user create, end-user create)', () => {
  it('reads a JSON list of window objects', () => {
    expect(budgetLimits('[{"budget_duration":"1d","max_budget":5}]')).to.deep.equal([{ budget_duration: '1d', max_budget: 5 }]);
  });

  it('refuses what is not a JSON list of objects', () => {
    expect(() => budgetLimits('{"budget_duration":"1d"}')).to.throw(AdminInputError, /JSON list/);
    expect(() => budgetLimits('[1]')).to.throw(AdminInputError, /JSON list/);
    expect(() => budgetLimits('[{')).to.throw(AdminInputError, /not valid JSON/);
  });
});

describeEachBackend('AdminStore: multi-window budgets of users and end users', (backend) => {
  let admin: AdminStore;

  before(() => {
    admin = new AdminStore(backend().dataSource, backend().settings);
  });

  it("stores a user's windows as rolling windows (no reset_at) that the store reads back", async () => {
    const user = await admin.createUser({
      userId: uniqueId('user'),
      budgetLimits: [
        { budget_duration: '1d', max_budget: 5 },
        { budget_duration: '30d', max_budget: 100 },
      ],
    });
    expect(user.budget_limits).to.deep.equal([
      { budget_duration: '1d', max_budget: 5, reset_at: null },
      { budget_duration: '30d', max_budget: 100, reset_at: null },
    ]);
  });

  it("stores an end user's windows beside its budget row", async () => {
    const endUser = await admin.createEndUser({ userId: uniqueId('customer'), maxBudget: 10, budgetLimits: [{ budget_duration: '1h', max_budget: 0.5 }] });
    expect(endUser.budget?.max_budget).to.equal(10);
    expect(endUser.budget_limits).to.deep.equal([{ budget_duration: '1h', max_budget: 0.5, reset_at: null }]);
    expect((await admin.createEndUser({ userId: uniqueId('customer') })).budget_limits).to.deep.equal([]);
  });

  it('refuses a window the checks would ignore, or two of one duration, and writes nothing', async () => {
    const userId = uniqueId('user');
    expect(await refusal(admin.createUser({ userId, budgetLimits: [{ budget_duration: 'fortnight', max_budget: 1 }] }))).to.match(/budget_duration/);
    expect(await refusal(admin.createUser({ userId, budgetLimits: [{ budget_duration: '1d', max_budget: -1 }] }))).to.match(/must not be negative/);
    // Read as durations, but of no time at all or of none a date can be: windows that never hold spend.
    for (const budget_duration of ['0d', '0h', '99999999999999999d']) {
      expect(await refusal(admin.createUser({ userId, budgetLimits: [{ budget_duration, max_budget: 1 }] })), budget_duration).to.match(/budget_duration/);
    }
    const notANumber = JSON.parse('[{"budget_duration": "1d", "max_budget": "5"}]') as [{ budget_duration: string; max_budget: number }];
    expect(await refusal(admin.createEndUser({ userId, budgetLimits: notANumber }))).to.match(/finite number/);
    const twice = [
      { budget_duration: '1d', max_budget: 1 },
      { budget_duration: '1d', max_budget: 2 },
    ];
    expect(await refusal(admin.createUser({ userId, budgetLimits: twice }))).to.match(/second window of 1d/);
    expect((await admin.createUser({ userId })).budget_limits).to.deep.equal([]);
  });
});
