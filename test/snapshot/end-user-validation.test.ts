import { expect } from 'chai';
import { Authorizer } from '../../src/authorize/authorize';
import type { RequestFacts } from '../../src/domain/request';
import { validatedEndUserId } from '../../src/snapshot/end-user-validation';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { anEndUser, aPolicy, aRequest, aUser, RAW_KEY } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

describe('validatedEndUserId (validate_end_user_id_in_db)', () => {
  const on = aPolicy({ validateEndUserIdInDb: true });

  function store(): MemoryStore {
    const s = new MemoryStore();
    s.endUsers.set('cust-1', anEndUser({ user_id: 'cust-1' }));
    s.users.set('u-1', aUser({ user_id: 'u-1', user_email: 'Alice@Example.com' }));
    return s;
  }

  it('keeps every id, and looks nothing up, with the setting off', async () => {
    const s = store();
    expect(await validatedEndUserId(s, 'nobody', aPolicy())).to.equal('nobody');
    expect(s.calls).to.deep.equal([]);
  });

  it('keeps a customer id after one lookup', async () => {
    const s = store();
    expect(await validatedEndUserId(s, 'cust-1', on)).to.equal('cust-1');
    expect(s.calls).to.deep.equal(['findEndUser:cust-1']);
  });

  it("keeps a user's id, then a user's email up to case, as the request wrote it", async () => {
    const s = store();
    expect(await validatedEndUserId(s, 'u-1', on)).to.equal('u-1');
    expect(await validatedEndUserId(s, 'alice@example.COM', on)).to.equal('alice@example.COM');
    expect(s.calls).to.deep.equal(['findEndUser:u-1', 'findUser:u-1', 'findEndUser:alice@example.COM', 'findUser:alice@example.COM', 'findUserIdByEmail:alice@example.COM']);
  });

  it('drops an id no table knows, ids that differ by case included', async () => {
    const s = store();
    expect(await validatedEndUserId(s, 'nobody', on)).to.equal(null);
    expect(await validatedEndUserId(s, 'CUST-1', on)).to.equal(null);
    expect(await validatedEndUserId(s, 'alice@example.com ', on)).to.equal(null);
  });

  it('keeps every id, and looks nothing up, when max_end_user_budget_id is set (LiteLLM: the default budget applies)', async () => {
    const s = store();
    expect(await validatedEndUserId(s, 'nobody', aPolicy({ validateEndUserIdInDb: true, maxEndUserBudgetId: 'default' }))).to.equal('nobody');
    expect(s.calls).to.deep.equal([]);
  });

  it('is null for a request that names no end user', () => {
    expect(validatedEndUserId(store(), null, on)).to.equal(null);
  });
});

describe('validate_end_user_id_in_db when the database fails', () => {
  const MASTER = 'sk-master-validation';
  const policy = aPolicy({ validateEndUserIdInDb: true });

  /** A store whose end-user lookup fails as a database outage does. */
  class FailingStore extends MemoryStore {
    override findEndUser(): Promise<null> {
      return Promise.reject(new StoreUnavailableError('database call findEndUser failed'));
    }
  }

  function request(credential: string): RequestFacts {
    return aRequest({ endUserId: 'cust-1', credential: { kind: 'present', value: credential, header: 'authorization' } });
  }

  it("is the store's failure for a virtual key (allow_requests_on_db_unavailable, else UNAVAILABLE), never a silent drop", async () => {
    const authorizer = new Authorizer({ store: new FailingStore(), policy, masterKey: MASTER });
    let failure: unknown = null;
    await Promise.resolve(authorizer.decide(request(RAW_KEY))).catch((error: unknown) => {
      failure = error;
    });
    expect(failure).to.be.instanceOf(StoreUnavailableError);
  });

  it('allows the master key, as its end-user lookups are passed over, without the id it could not confirm', async () => {
    const authorizer = new Authorizer({ store: new FailingStore(), policy, masterKey: MASTER });
    const outcome = await authorizer.decide(request(MASTER));
    expect(outcome.decision.kind).to.equal('allow');
    expect(outcome.facts?.endUserId).to.equal(null);
  });
});
