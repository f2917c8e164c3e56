import { expect } from 'chai';
import { loadSnapshot } from '../../src/snapshot/load-snapshot';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import type { Snapshot } from '../../src/checks/types';
import type { BudgetWindowLimit } from '../../src/domain/entities';
import { windowSpendId } from '../../src/spend/window-limits';
import { isPromise } from '../../src/util/maybe-promise';
import { aKey, anEndUser, aPolicy, aRequest, aTeam, aUser, KEY_HASH } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';
import { MapSharedCache } from '../support/map-shared-cache';
import { windowSpendTotal } from '../../src/spend/window-spend';

const CACHE_POLICY = aCachePolicy({ negativeTtlMs: 60_000, sharedPrefix: 'lt:' });

const hourly: BudgetWindowLimit = { budget_duration: '1h', max_budget: 1, reset_at: null };
const daily: BudgetWindowLimit = { budget_duration: '1d', max_budget: 5, reset_at: null };

/** A personal key of u1, whose user and the end user cust each have windows. */
function aDatabase(keyTeam: string | null = null): MemoryStore {
  const database = new MemoryStore();
  database.keys.set(KEY_HASH, aKey({ team_id: keyTeam, user_id: 'u1' }));
  if (keyTeam !== null) database.teams.set(keyTeam, aTeam({ team_id: keyTeam }));
  database.users.set('u1', aUser({ user_id: 'u1', budget_limits: [hourly, daily] }));
  database.endUsers.set('cust', anEndUser({ user_id: 'cust', budget_limits: [daily] }));
  database.windowSpends.set(windowSpendId('user', 'u1', daily), 2.5);
  database.windowSpends.set(windowSpendId('end_user', 'cust', daily), 7);
  return database;
}

const windowCalls = (store: MemoryStore) => store.calls.filter((call) => call.startsWith('windowSpend:'));
const withEndUser = () => aRequest({ endUserId: 'cust' });

describe('loadSnapshot: spend within the multi-window budgets of the user and the end user', () => {
  it("loads every window of a personal key's user and of the end user, by windowSpendId", async () => {
    const database = aDatabase();
    const snapshot = await loadSnapshot(database, withEndUser(), KEY_HASH, aPolicy());
    expect([...(snapshot.budgetWindowSpend ?? new Map<string, number>())]).to.deep.equal([
      [windowSpendId('user', 'u1', hourly), 0],
      [windowSpendId('user', 'u1', daily), 2.5],
      [windowSpendId('end_user', 'cust', daily), 7],
    ]);
    expect(windowCalls(database).sort()).to.deep.equal(['windowSpend:end_user:cust:1d', 'windowSpend:user:u1:1d', 'windowSpend:user:u1:1h']);
  });

  it("reads no user window for a team key (only a personal key's user is judged by them), the end user's still", async () => {
    const database = aDatabase('t1');
    const snapshot = await loadSnapshot(database, withEndUser(), KEY_HASH, aPolicy());
    expect([...(snapshot.budgetWindowSpend ?? new Map<string, number>())]).to.deep.equal([[windowSpendId('end_user', 'cust', daily), 7]]);
    expect(windowCalls(database)).to.deep.equal(['windowSpend:end_user:cust:1d']);
  });

  it("reads a team key's user windows with apply_user_budget_to_team_keys, which holds team keys to them too", async () => {
    const database = aDatabase('t1');
    const snapshot = await loadSnapshot(database, withEndUser(), KEY_HASH, aPolicy({ applyUserBudgetToTeamKeys: true }));
    expect(windowSpendTotal(snapshot.budgetWindowSpend?.get(windowSpendId('user', 'u1', daily)))).to.equal(2.5);
    expect(windowCalls(database).sort()).to.deep.equal(['windowSpend:end_user:cust:1d', 'windowSpend:user:u1:1d', 'windowSpend:user:u1:1h']);
  });

  it('reads nothing for a user and end user without windows, or a request without an end user', async () => {
    const database = new MemoryStore();
    database.keys.set(KEY_HASH, aKey({ team_id: null, user_id: 'u1' }));
    database.users.set('u1', aUser({ user_id: 'u1' }));
    database.endUsers.set('cust', anEndUser({ user_id: 'cust' }));
    expect((await loadSnapshot(database, withEndUser(), KEY_HASH, aPolicy())).budgetWindowSpend?.size).to.equal(0);
    expect(windowCalls(database)).to.deep.equal([]);
  });

  it('answers a warm Check with user and end-user windows from memory: synchronous, no database or shared-cache round trip', async () => {
    const database = aDatabase();
    const shared = new MapSharedCache();
    let now = Date.parse('2029-12-20T00:00:00Z');
    const cached = new CachedAuthStore(database, CACHE_POLICY, shared, undefined, () => now);
    const cold = await loadSnapshot(cached, withEndUser(), KEY_HASH, aPolicy());
    const lookups = database.calls.length;
    const reads = shared.gets;
    const writes = shared.writes;
    const warm = loadSnapshot(cached, withEndUser(), KEY_HASH, aPolicy());
    expect(isPromise(warm), 'answered from memory').to.equal(false);
    expect((warm as Snapshot).budgetWindowSpend).to.deep.equal(cold.budgetWindowSpend);
    expect((warm as Snapshot).budgetWindowSpend?.size).to.equal(3);
    expect(database.calls.length, 'database lookups').to.equal(lookups);
    expect(shared.gets, 'shared-cache reads').to.equal(reads);
    expect(shared.writes, 'shared-cache writes').to.equal(writes);

    database.windowSpends.set(windowSpendId('end_user', 'cust', daily), 9);
    now += CACHE_POLICY.refreshAfterMs + 1;
    const stale = loadSnapshot(cached, withEndUser(), KEY_HASH, aPolicy());
    expect(isPromise(stale), 'a stale entry is still answered at once').to.equal(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refreshed = loadSnapshot(cached, withEndUser(), KEY_HASH, aPolicy());
    expect(windowSpendTotal((refreshed as Snapshot).budgetWindowSpend?.get(windowSpendId('end_user', 'cust', daily)))).to.equal(9);
  });
});
