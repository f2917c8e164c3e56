import { expect } from 'chai';
import { loadSnapshot } from '../../src/snapshot/load-snapshot';
import { tagsFromBody } from '../../src/snapshot/request-tags';
import { requestedVectorStoreIds } from '../../src/checks/vector-store-ids';
import type { Json } from '../../src/domain/entities';
import { aBudget, aKey, aMembership, anAccessGroup, anAgent, anEndUser, anObjectPermission, anOrg, aPolicy, aRequest, aTag, aTeam, aUser, KEY_HASH } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';
import { MapSharedCache } from '../support/map-shared-cache';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import type { Snapshot } from '../../src/checks/types';
import { isPromise } from '../../src/util/maybe-promise';

const CACHE_POLICY = aCachePolicy({ negativeTtlMs: 60_000, sharedPrefix: 'lt:' });

describe('loadSnapshot', () => {
  it('loads nothing but the end user when the key is unknown', async () => {
    const store = new MemoryStore();
    store.endUsers.set('cust', anEndUser({ user_id: 'cust' }));
    const snapshot = await loadSnapshot(store, aRequest({ endUserId: 'cust' }), KEY_HASH, aPolicy());
    expect(snapshot.key).to.equal(null);
    expect(snapshot.endUser?.user_id).to.equal('cust');
    expect(store.calls.sort()).to.deep.equal([`findEndUser:cust`, `findKey:${KEY_HASH}`]);
  });

  it('never looks up a credential that cannot be a virtual key', async () => {
    const store = new MemoryStore();
    await loadSnapshot(store, aRequest(), null, aPolicy());
    expect(store.calls).to.deep.equal([]);
  });

  it('loads team, user, membership and the team organization for a team key', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey({ team_id: 't1', user_id: 'u1' }));
    store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o-team' }));
    store.users.set('u1', aUser({ user_id: 'u1' }));
    store.organizations.set('o-team', anOrg({ organization_id: 'o-team' }));
    const snapshot = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(snapshot.team?.team_id).to.equal('t1');
    expect(snapshot.user?.user_id).to.equal('u1');
    expect(snapshot.organization?.organization_id).to.equal('o-team');
    expect(store.calls).to.include('findMembership:u1:t1');
  });

  describe("the team's default member budget (metadata.team_member_budget_id)", () => {
    function aMemberOf(budgetOfMembership: ReturnType<typeof aBudget> | null, withMembership = true): MemoryStore {
      const store = new MemoryStore();
      store.keys.set(KEY_HASH, aKey({ team_id: 't1', user_id: 'u1' }));
      store.teams.set('t1', aTeam({ team_id: 't1', metadata: { team_member_budget_id: 'member-default' } }));
      store.users.set('u1', aUser({ user_id: 'u1' }));
      store.budgets.set('member-default', aBudget({ budget_id: 'member-default', max_budget: 3 }));
      if (withMembership) store.memberships.set('u1:t1', aMembership({ user_id: 'u1', team_id: 't1', spend: 1, budget: budgetOfMembership }));
      return store;
    }

    it('is loaded for a membership without a budget row, and for a member with no membership row', async () => {
      for (const store of [aMemberOf(null), aMemberOf(null, false)]) {
        const snapshot = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
        expect(snapshot.teamMemberDefaultBudget?.max_budget).to.equal(3);
        expect(store.calls).to.include('findBudget:member-default');
      }
    });

    it("is not read when the membership has a budget row of its own, nor for a team without one", async () => {
      const own = aMemberOf(aBudget({ budget_id: 'own', max_budget: 10 }));
      expect((await loadSnapshot(own, aRequest(), KEY_HASH, aPolicy())).teamMemberDefaultBudget ?? null).to.equal(null);
      expect(own.calls).to.not.include('findBudget:member-default');
      const plain = aMemberOf(null);
      plain.teams.set('t1', aTeam({ team_id: 't1' }));
      expect((await loadSnapshot(plain, aRequest(), KEY_HASH, aPolicy())).teamMemberDefaultBudget ?? null).to.equal(null);
      expect(plain.calls.filter((call) => call.startsWith('findBudget'))).to.deep.equal([]);
    });

    it('is read from memory once cached: a warm Check stays synchronous', async () => {
      const store = aMemberOf(null);
      const cached = new CachedAuthStore(store, CACHE_POLICY, new MapSharedCache());
      await loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy());
      const calls = store.calls.length;
      const warm = loadSnapshot(cached, aRequest(), KEY_HASH, aPolicy());
      expect(isPromise(warm)).to.equal(false);
      expect((isPromise(warm) ? null : warm)?.teamMemberDefaultBudget?.max_budget).to.equal(3);
      expect(store.calls.length).to.equal(calls);
    });
  });

  describe('access groups by id', () => {
    const withGroups = (store: MemoryStore, ...models: string[][]): void => {
      models.forEach((names, i) => store.accessGroups.set(`ag-${i}`, Object.freeze(anAccessGroup({ access_group_id: `ag-${i}`, access_model_names: names }))));
    };

    it('reuses the map while the same group objects answer, and sees a reloaded group at once', async () => {
      const store = new MemoryStore();
      store.keys.set(KEY_HASH, aKey({ team_id: 't1' }));
      store.teams.set('t1', aTeam({ team_id: 't1', access_group_ids: Object.freeze(['ag-0', 'ag-1']) as string[] }));
      withGroups(store, ['gpt-4o'], ['claude']);
      const first = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      const second = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      expect([...first.accessGroups.keys()]).to.deep.equal(['ag-0', 'ag-1']);
      expect(second.accessGroups).to.equal(first.accessGroups);

      withGroups(store, ['gpt-4o'], ['claude', 'gemini']);
      const third = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      expect(third.accessGroups).not.to.equal(first.accessGroups);
      expect(third.accessGroups.get('ag-1')?.access_model_names).to.deep.equal(['claude', 'gemini']);
      expect(first.accessGroups.get('ag-1')?.access_model_names).to.deep.equal(['claude']);
    });

    it('drops a group that is gone, and builds a fresh map for a list made per request', async () => {
      const store = new MemoryStore();
      store.keys.set(KEY_HASH, aKey({ team_id: 't1', access_group_ids: ['ag-0'] }));
      store.teams.set('t1', aTeam({ team_id: 't1', access_group_ids: Object.freeze(['ag-1']) as string[] }));
      withGroups(store, ['gpt-4o'], ['claude']);
      const first = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      expect([...first.accessGroups.keys()]).to.deep.equal(['ag-0', 'ag-1']);
      store.accessGroups.delete('ag-0');
      const second = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      expect([...second.accessGroups.keys()]).to.deep.equal(['ag-1']);
    });
  });

  it("prefers the key's own organization over its team's (schema §3.1)", async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey({ team_id: 't1', organization_id: 'o-key' }));
    store.teams.set('t1', aTeam({ team_id: 't1', organization_id: 'o-team' }));
    store.organizations.set('o-key', anOrg({ organization_id: 'o-key' }));
    const snapshot = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(snapshot.organization?.organization_id).to.equal('o-key');
    expect(store.calls).not.to.include('findOrganization:o-team');
  });

  it('applies max_end_user_budget_id to an end user without a budget of its own (§2.5)', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    store.endUsers.set('cust', anEndUser({ user_id: 'cust', budget: null }));
    store.budgets.set('default', aBudget({ budget_id: 'default', max_budget: 1 }));
    const snapshot = await loadSnapshot(store, aRequest({ endUserId: 'cust' }), KEY_HASH, aPolicy({ maxEndUserBudgetId: 'default' }));
    expect(snapshot.endUser?.budget?.budget_id).to.equal('default');
    expect(Object.isFrozen(snapshot.endUser)).to.equal(true);
  });

  it('names an end user without a row with the default budget, for its rate limits only (§2.5)', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    store.budgets.set('default', aBudget({ budget_id: 'default', rpm_limit: 1 }));
    const unknown = await loadSnapshot(store, aRequest({ endUserId: 'new-cust' }), KEY_HASH, aPolicy({ maxEndUserBudgetId: 'default' }));
    expect(unknown.endUser, 'still no end user for the checks').to.equal(null);
    expect(unknown.unknownEndUser).to.deep.equal({ user_id: 'new-cust', budget: store.budgets.get('default') });
    store.endUsers.set('known', anEndUser({ user_id: 'known', budget: null }));
    const known = await loadSnapshot(store, aRequest({ endUserId: 'known' }), KEY_HASH, aPolicy({ maxEndUserBudgetId: 'default' }));
    expect(known.unknownEndUser, 'a known end user carries the default on its own budget').to.equal(undefined);
    expect((await loadSnapshot(store, aRequest({ endUserId: 'new-cust' }), KEY_HASH, aPolicy())).unknownEndUser, 'no default budget').to.equal(undefined);
    expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy({ maxEndUserBudgetId: 'default' }))).unknownEndUser, 'no end user').to.equal(undefined);
  });

  it('keeps the end user own budget over the default', async () => {
    const store = new MemoryStore();
    store.endUsers.set('cust', anEndUser({ user_id: 'cust', budget: aBudget({ budget_id: 'own' }) }));
    const snapshot = await loadSnapshot(store, aRequest({ endUserId: 'cust' }), KEY_HASH, aPolicy({ maxEndUserBudgetId: 'default' }));
    expect(snapshot.endUser?.budget?.budget_id).to.equal('own');
    expect(store.calls).not.to.include('findBudget:default');
  });

  it('reads global spend only when a global budget is configured', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    store.spend = 12;
    expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy())).globalSpend).to.equal(null);
    expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy({ maxBudget: 10 }))).globalSpend).to.equal(12);
    expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy({ maxBudget: 0 }))).globalSpend).to.equal(null);
  });

  it('looks up the request tags in one call and access groups of key and team', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey({ team_id: 't1', access_group_ids: ['ag-key'] }));
    store.teams.set('t1', aTeam({ team_id: 't1', access_group_ids: ['ag-team'] }));
    store.tags.set('prod', aTag({ tag_name: 'prod' }));
    const request = aRequest({ body: { model: 'gpt-4o', metadata: { tags: ['prod', 'unknown'] } } });
    const snapshot = await loadSnapshot(store, request, KEY_HASH, aPolicy());
    expect(snapshot.tags.map((t) => t.tag_name)).to.deep.equal(['prod']);
    expect(store.calls).to.include('findTags:prod,unknown');
    expect(store.calls).to.include('findAccessGroups:ag-key,ag-team');
  });

  it("looks up the key's own tags and the x-litellm-tags header's with the body's, in the same call, once the key is known", async () => {
    const store = new MemoryStore();
    store.tags.set('engineering', aTag({ tag_name: 'engineering' }));
    store.tags.set('tenant:acme', aTag({ tag_name: 'tenant:acme' }));
    const request = aRequest({ headers: { 'x-litellm-tags': 'tenant:acme' }, body: { model: 'gpt-4o', metadata: { tags: ['prod'] } } });
    const unknown = await loadSnapshot(store, request, KEY_HASH, aPolicy());
    expect(unknown.tags, 'an unknown key: no tag looked up').to.deep.equal([]);
    expect(store.calls.filter((call) => call.startsWith('findTags:'))).to.deep.equal([]);

    store.keys.set(KEY_HASH, aKey({ metadata: { tags: ['engineering', 'prod'] } }));
    const snapshot = await loadSnapshot(store, request, KEY_HASH, aPolicy());
    expect(snapshot.tags.map((t) => t.tag_name).sort()).to.deep.equal(['engineering', 'tenant:acme']);
    expect(store.calls.filter((call) => call.startsWith('findTags:'))).to.deep.equal(['findTags:prod,tenant:acme,engineering']);
  });

  it("answers a warm Check whose key carries tags from memory: no new lookup, synchronous", async () => {
    const database = new MemoryStore();
    database.keys.set(KEY_HASH, aKey({ metadata: { tags: ['engineering', 'no-row'] } }));
    database.tags.set('engineering', aTag({ tag_name: 'engineering' }));
    const cached = new CachedAuthStore(database, CACHE_POLICY, new MapSharedCache());
    const request = aRequest({ headers: { 'x-litellm-tags': 'tenant:unknown' } });
    const cold = await loadSnapshot(cached, request, KEY_HASH, aPolicy());
    const lookups = database.calls.length;
    const warm = loadSnapshot(cached, request, KEY_HASH, aPolicy());
    expect(isPromise(warm), 'answered from memory').to.equal(false);
    expect(warm).to.deep.equal(cold);
    expect((warm as Snapshot).tags.map((t) => t.tag_name)).to.deep.equal(['engineering']);
    expect(database.calls.length).to.equal(lookups);
  });

  it("loads the key's own budget row (key soft budget) and its agent alongside the team", async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey({ budget_id: 'kb', agent_id: 'ag' }));
    store.budgets.set('kb', aBudget({ budget_id: 'kb', soft_budget: 5 }));
    store.agents.set('ag', anAgent({ agent_id: 'ag' }));
    const snapshot = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(snapshot.keyBudget?.soft_budget).to.equal(5);
    expect(snapshot.agent?.agent_id).to.equal('ag');
  });

  describe("a key's limits left empty are its budget row's (LiteLLM_VerificationTokenView)", () => {
    const budgetRow = aBudget({ budget_id: 'kb', max_budget: 5, tpm_limit: 1000, rpm_limit: 10, model_max_budget: { 'gpt-4o': { max_budget: 1 } } });

    it('fills max_budget, tpm_limit, rpm_limit and an empty model_max_budget from the budget row', async () => {
      const store = new MemoryStore();
      store.keys.set(KEY_HASH, aKey({ budget_id: 'kb', max_budget: null, tpm_limit: null, rpm_limit: null, model_max_budget: {} }));
      store.budgets.set('kb', budgetRow);
      const { key } = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      expect(key).to.deep.include({ max_budget: 5, tpm_limit: 1000, rpm_limit: 10, model_max_budget: { 'gpt-4o': { max_budget: 1 } } });
      expect(Object.isFrozen(key)).to.equal(true);
    });

    it("keeps the key's own values, 0 included; the same key object while the same rows answer", async () => {
      const store = new MemoryStore();
      const own = aKey({ budget_id: 'kb', max_budget: 0, tpm_limit: 7, rpm_limit: null, model_max_budget: { 'claude-3': { max_budget: 2 } } });
      store.keys.set(KEY_HASH, own);
      store.budgets.set('kb', budgetRow);
      const first = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
      expect(first.key).to.deep.include({ max_budget: 0, tpm_limit: 7, rpm_limit: 10, model_max_budget: { 'claude-3': { max_budget: 2 } } });
      expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy())).key, 'built once').to.equal(first.key);
      store.budgets.set('kb', aBudget({ budget_id: 'kb', rpm_limit: 20 }));
      expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy())).key?.rpm_limit, 'a reloaded budget row is seen').to.equal(20);
    });

    it('leaves a key whose budget row fills nothing as it is', async () => {
      const store = new MemoryStore();
      const own = aKey({ budget_id: 'kb', max_budget: 3 });
      store.keys.set(KEY_HASH, own);
      store.budgets.set('kb', aBudget({ budget_id: 'kb', soft_budget: 1 }));
      expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy())).key).to.equal(own);
    });
  });

  it("stands in for a key's team whose row is gone, as LiteLLM builds one from the key's empty team columns", async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey({ team_id: 'gone', user_id: 'u1' }));
    store.users.set('u1', aUser({ user_id: 'u1' }));
    const snapshot = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(snapshot.team).to.deep.include({ team_id: 'gone', max_budget: null, models: [], blocked: false, organization_id: null, spend: 0 });
    expect((await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy())).team, 'the same one for the same key').to.equal(snapshot.team);
    expect(store.calls).to.include('findMembership:u1:gone');
  });

  it('looks nothing up for a key without budget_id or agent_id', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey());
    const snapshot = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(snapshot).to.include({ keyBudget: null, agent: null });
    expect(store.calls).to.deep.equal([`findKey:${KEY_HASH}`]);
  });

  it('loads the key and team object permissions in one call only when the request names vector stores (§4.11)', async () => {
    const store = new MemoryStore();
    store.keys.set(KEY_HASH, aKey({ team_id: 't1', object_permission_id: 'p-key' }));
    store.teams.set('t1', aTeam({ team_id: 't1', object_permission_id: 'p-team' }));
    store.objectPermissions.set('p-key', anObjectPermission({ object_permission_id: 'p-key', vector_stores: ['vs1'] }));
    const plain = await loadSnapshot(store, aRequest(), KEY_HASH, aPolicy());
    expect(plain.objectPermissions.size).to.equal(0);
    expect(store.calls.some((c) => c.startsWith('findObjectPermissions'))).to.equal(false);
    const asking = await loadSnapshot(store, aRequest({ body: { model: 'gpt-4o', vector_store_ids: ['vs1'] } }), KEY_HASH, aPolicy());
    expect([...asking.objectPermissions.keys()]).to.deep.equal(['p-key']);
    expect(store.calls).to.include('findObjectPermissions:p-key,p-team');
  });
});

describe('tagsFromBody (§4.12)', () => {
  const rows: Array<[string, Record<string, unknown> | null, string[]]> = [
    ['no body', null, []],
    ['metadata.tags', { metadata: { tags: ['a', 'b'] } }, ['a', 'b']],
    ['top-level tags', { tags: ['c'] }, ['c']],
    ['both, deduplicated', { metadata: { tags: ['a'] }, tags: ['a', 'c'] }, ['a', 'c']],
    ['litellm_metadata wins when present', { litellm_metadata: { tags: ['x'] }, metadata: { tags: ['y'] } }, ['x']],
    ['metadata sent as a JSON string', { metadata: JSON.stringify({ tags: ['s'] }) }, ['s']],
    // LiteLLM parses a string once: one that holds a JSON string, not an object, names no tags.
    ['metadata encoded twice: none', { metadata: JSON.stringify(JSON.stringify({ tags: ['s'] })) }, []],
    ['litellm_metadata as a JSON string', { litellm_metadata: JSON.stringify({ tags: ['l'] }), tags: ['l', 't'] }, ['l', 't']],
    ['non-string entries dropped', { metadata: { tags: ['ok', 1, null, { a: 1 }] } }, ['ok']],
    ['tags not a list', { metadata: { tags: 'nope' } }, []],
  ];
  for (const [name, body, expected] of rows) {
    it(`reads ${name}`, () => {
      expect(tagsFromBody(body as Parameters<typeof tagsFromBody>[0])).to.deep.equal(expected);
    });
  }
});

describe('requestedVectorStoreIds (§4.11)', () => {
  const rows: Array<[string, Record<string, Json> | null, Json[]]> = [
    ['no body', null, []],
    ['the vector_store_ids param', { vector_store_ids: ['a', 'b'] }, ['a', 'b']],
    ['file_search tools', { tools: [{ type: 'file_search', vector_store_ids: ['c'] }] }, ['c']],
    ['both, param first, deduplicated', { vector_store_ids: ['a'], tools: [{ vector_store_ids: ['a', 'c'] }] }, ['a', 'c']],
    ["a non-list param skipped, string tools walked, a tool's string ids as characters", { vector_store_ids: 'a', tools: ['x', { vector_store_ids: 'bc' }] }, ['b', 'c']],
    ['nothing when reading the ids raises (a null tool)', { vector_store_ids: ['a'], tools: [null] }, []],
  ];
  for (const [name, body, expected] of rows) {
    it(`reads ${name}`, () => {
      expect(requestedVectorStoreIds(body)).to.deep.equal(expected);
    });
  }
});
