import { expect } from 'chai';
import { DataSource } from 'typeorm';
import { queryCounterOf, QueryCounter } from '../../src/store/query-counter';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

describeEachBackend('query counter', (backend) => {
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  async function statementsFor(work: () => Promise<unknown>): Promise<number> {
    const before = store.queryCounter.count;
    await work();
    return store.queryCounter.count - before;
  }

  it('is the counter installed on the DataSource by createDataSource', () => {
    expect(store.queryCounter).to.equal(queryCounterOf(backend().dataSource));
  });

  it('counts one statement per lookup, joins included, found or not', async () => {
    const budget = await rows.aBudget();
    const model = await rows.aModelTable({ a: 'b' });
    const team = await rows.aTeam({ model_id: model.id });
    const key = await rows.aKey({ team_id: team.team_id });
    const user = await rows.aUser();
    await rows.anOrganizationMembership({ user_id: user.user_id, organization_id: 'o1' });
    await rows.anOrganizationMembership({ user_id: user.user_id, organization_id: 'o2' });
    await rows.aTeamMembership({ user_id: user.user_id, team_id: team.team_id, budget_id: budget.budget_id });
    const org = await rows.anOrganization({ budget_id: budget.budget_id });
    const tagA = await rows.aTag({ budget_id: budget.budget_id });
    const tagB = await rows.aTag();
    const group = await rows.anAccessGroup();

    expect(await statementsFor(() => store.findKey(key.token))).to.equal(1);
    expect(await statementsFor(() => store.findKey('0'.repeat(64)))).to.equal(1);
    expect(await statementsFor(() => store.findTeam(team.team_id))).to.equal(1);
    expect(await statementsFor(() => store.findUser(user.user_id))).to.equal(1);
    expect(await statementsFor(() => store.findMembership(user.user_id, team.team_id))).to.equal(1);
    expect(await statementsFor(() => store.findEndUser(uniqueId('nobody')))).to.equal(1);
    expect(await statementsFor(() => store.findOrganization(org.organization_id))).to.equal(1);
    expect(await statementsFor(() => store.findProject(uniqueId('p')))).to.equal(1);
    expect(await statementsFor(() => store.findBudget(budget.budget_id))).to.equal(1);
    expect(await statementsFor(() => store.findTags([tagA.tag_name, tagB.tag_name, 'unknown']))).to.equal(1);
    expect(await statementsFor(() => store.findAccessGroups([group.access_group_id, 'unknown']))).to.equal(1);
    expect(await statementsFor(() => store.globalSpend())).to.equal(1);
    expect(await statementsFor(() => store.ping())).to.equal(1);
  });

  it('counts nothing for empty tag and access group lists', async () => {
    expect(await statementsFor(() => store.findTags([]))).to.equal(0);
    expect(await statementsFor(() => store.findAccessGroups([]))).to.equal(0);
  });

  it('counts concurrent lookups one each (the store itself does not coalesce)', async () => {
    const key = await rows.aKey();
    expect(await statementsFor(() => Promise.all([store.findKey(key.token), store.findKey(key.token), store.findKey(key.token)]))).to.equal(3);
  });

  it('starts again from zero after reset()', async () => {
    await store.ping();
    store.queryCounter.reset();
    expect(store.queryCounter.count).to.equal(0);
    await store.ping();
    expect(store.queryCounter.count).to.equal(1);
  });
});

describe('QueryCounter', () => {
  it('forwards every log call to a delegate logger while counting queries', () => {
    const seen: string[] = [];
    const delegate = {
      logQuery: (query: string) => seen.push(`query ${query}`),
      logQueryError: () => seen.push('error'),
      logQuerySlow: () => seen.push('slow'),
      logSchemaBuild: () => seen.push('schema'),
      logMigration: () => seen.push('migration'),
      log: () => seen.push('log'),
    };
    const counter = new QueryCounter(delegate);
    counter.logQuery('SELECT 1');
    counter.logQueryError('boom', 'SELECT 2');
    counter.logQuerySlow(5, 'SELECT 3');
    counter.logMigration('m');
    counter.log('info', 'hello');
    expect(counter.count).to.equal(1);
    expect(seen).to.deep.equal(['query SELECT 1', 'error', 'slow', 'migration', 'log']);
  });

  it('is not found on a DataSource made elsewhere', () => {
    const foreign = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    expect(() => queryCounterOf(foreign)).to.throw(/QueryCounter/);
  });
});
