import { expect } from 'chai';
import { loadSnapshot } from '../../src/snapshot/load-snapshot';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import type { Snapshot } from '../../src/checks/types';
import type { BudgetWindowLimit } from '../../src/domain/entities';
import { windowSpendId } from '../../src/spend/window-limits';
import { isPromise } from '../../src/util/maybe-promise';
import { aKey, aPolicy, aRequest, aTeam, KEY_HASH } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';
import { MapSharedCache } from '../support/map-shared-cache';
import { windowSpendTotal } from '../../src/spend/window-spend';

const CACHE_POLICY = aCachePolicy({ negativeTtlMs: 60_000, sharedPrefix: 'lt:' });

const daily: BudgetWindowLimit = { budget_duration: '1d', max_budget: 5, reset_at: null };
const monthly: BudgetWindowLimit = { budget_duration: '30d', max_budget: 50, reset_at: new Date('2030-01-01T00:00:00Z') };

function aDatabase(): MemoryStore {
  const database = new MemoryStore();
  database.keys.set(KEY_HASH, aKey({ team_id: 't1', budget_limits: [daily] }));
  database.teams.set('t1', aTeam({ team_id: 't1', budget_limits: [daily, monthly] }));
  database.windowSpends.set(windowSpendId('key', KEY_HASH, daily), 1.5);
  database.windowSpends.set(windowSpendId('team', 't1', monthly), 20);
  return database;
}

const windowCalls = (store: MemoryStore) => store.calls.filter((call) => call.startsWith('windowSpend:'));

describe('loadSnapshot: spend within the multi-window budgets of the key and its team', () => {
  it('loads every window of the key and of its team, by windowSpendId', async () => {
    const database = aDatabase();
    const snapshot = await loadSnapshot(database, aRequest(), KEY_HASH, aPolicy());
    expect([...(snapshot.budgetWindowSpend ?? new Map<string, number>())]).to.deep.equal([
      [windowSpendId('key', KEY_HASH, daily), 1.5],
      [windowSpendId('team', 't1', daily), 0],
      [windowSpendId('team', 't1', monthly), 20],
    ]);
    expect(windowCalls(database).sort()).to.deep.equal(['windowSpend:key:' + KEY_HASH + ':1d', 'windowSpend:team:t1:1d', 'windowSpend:team:t1:30d']);
  });

  it('reads nothing for a key and team without windows', async () => {
    const database = new MemoryStore();
    database.keys.set(KEY_HASH, aKey({ team_id: 't1' }));
    database.teams.set('t1', aTeam({ team_id: 't1' }));
    const snapshot = await loadSnapshot(database, aRequest(), KEY_HASH, aPolicy());
    expect(snapshot.budgetWindowSpend?.size).to.equal(0);
    expect(windowCalls(database)).to.deep.equal([]);
  });

  it('answers a warm Check from memory (synchronous, no lookup), and refreshes a window in the background once stale', async () => {
    const database = aDatabase();
    let now = Date.parse('2029-12-20T00:00:00Z');
    const cached = new CachedAuthStore(database, CACHE_POLICY, new MapSharedCache(), undefined, () => now);
    const cold = await loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy());
    const lookups = database.calls.length;
    const warm = loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy());
    expect(isPromise(warm), 'answered from memory').to.equal(false);
    expect((warm as Snapshot).budgetWindowSpend).to.deep.equal(cold.budgetWindowSpend);
    expect(database.calls.length).to.equal(lookups);

    database.windowSpends.set(windowSpendId('key', KEY_HASH, daily), 4);
    now += CACHE_POLICY.refreshAfterMs + 1;
    const stale = loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy());
    expect(isPromise(stale), 'a stale entry is still answered at once').to.equal(false);
    expect(windowSpendTotal((stale as Snapshot).budgetWindowSpend?.get(windowSpendId('key', KEY_HASH, daily)))).to.equal(1.5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refreshed = loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy());
    expect(windowSpendTotal((refreshed as Snapshot).budgetWindowSpend?.get(windowSpendId('key', KEY_HASH, daily)))).to.equal(4);
  });
});
