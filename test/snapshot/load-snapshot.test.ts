import { expect } from 'chai';
import { loadSnapshot } from '../../src/snapshot/load-snapshot';
import { tagsFromBody } from '../../src/snapshot/request-tags';
import { aBudget, aKey, anEndUser, anOrg, aPolicy, aRequest, aTag, aTeam, aUser, KEY_HASH } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

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
});

describe('tagsFromBody (§4.12)', () => {
  const rows: Array<[string, Record<string, unknown> | null, string[]]> = [
    ['no body', null, []],
    ['metadata.tags', { metadata: { tags: ['a', 'b'] } }, ['a', 'b']],
    ['top-level tags', { tags: ['c'] }, ['c']],
    ['both, deduplicated', { metadata: { tags: ['a'] }, tags: ['a', 'c'] }, ['a', 'c']],
    ['litellm_metadata wins when present', { litellm_metadata: { tags: ['x'] }, metadata: { tags: ['y'] } }, ['x']],
    ['metadata sent as a JSON string', { metadata: JSON.stringify({ tags: ['s'] }) }, ['s']],
    ['non-string entries dropped', { metadata: { tags: ['ok', 1, null, { a: 1 }] } }, ['ok']],
    ['tags not a list', { metadata: { tags: 'nope' } }, []],
  ];
  for (const [name, body, expected] of rows) {
    it(`reads ${name}`, () => {
      expect(tagsFromBody(body as Parameters<typeof tagsFromBody>[0])).to.deep.equal(expected);
    });
  }
});
