import { expect } from 'chai';
import { membershipId, type BatchLookups } from '../../src/store/auth-store';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { aTokenHash, LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

/** What the single lookup returns for each id, found ones only, keyed by `idOf`. */
async function bySingleLookups<I, V>(ids: readonly I[], idOf: (id: I) => string, find: (id: I) => Promise<V | null>): Promise<Map<string, V>> {
  const expected = new Map<string, V>();
  for (const id of ids) {
    const value = await find(id);
    if (value !== null) expected.set(idOf(id), value);
  }
  return expected;
}

const same = (id: string): string => id;

describeEachBackend('TypeOrmAuthStore batch lookups', (backend) => {
  let store: TypeOrmAuthStore;
  let batch: BatchLookups;
  let rows: LiteLlmRows;
  const keys: string[] = [];
  const teams: string[] = [];
  const users: string[] = [];
  const memberships: [string, string][] = [];

  async function statementsFor(work: () => Promise<unknown>): Promise<number> {
    const before = store.queryCounter.count;
    await work();
    return store.queryCounter.count - before;
  }

  /** The batch answers in one statement exactly what the single lookups answer for the same ids. */
  async function expectOneStatementLikeSingles<I, V>(
    requested: readonly I[],
    idOf: (id: I) => string,
    single: (id: I) => Promise<V | null>,
    batched: (ids: readonly I[]) => Promise<ReadonlyMap<string, V>>,
    distinctFound: number,
  ): Promise<void> {
    const expected = await bySingleLookups(requested, idOf, single);
    expect(expected.size).to.equal(distinctFound);
    let found: ReadonlyMap<string, V> = new Map();
    expect(await statementsFor(async () => (found = await batched(requested)))).to.equal(1);
    expect(found).to.deep.equal(expected);
  }

  before(async () => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    batch = store.batch;
    rows = new LiteLlmRows(backend().dataSource);

    const budget = await rows.aBudget({ max_budget: 5.5, soft_budget: 4, allowed_models: ['gpt-4o'], budget_reset_at: new Date('2031-05-06T07:08:09.010Z') });
    keys.push(
      (await rows.aKey({ models: ['gpt-4o'], metadata: { tags: ['prod'], nested: { a: 1 } }, spend: 1.5, max_budget: 10, budget_id: budget.budget_id }))
        .token,
      (await rows.aKey()).token,
      (await rows.aKey({ blocked: true, expires: new Date('2031-02-03T04:05:06.789Z'), tpm_limit: 9_007_199_254_740 })).token,
    );

    const model = await rows.aModelTable({ fast: 'gpt-4o-mini' });
    teams.push(
      (await rows.aTeam({ model_id: model.id, models: ['gpt-4o'], max_budget: 100.25, metadata: { x: [1, 2] } })).team_id,
      (await rows.aTeam()).team_id,
      (await rows.aTeam({ model_id: 987654, blocked: true })).team_id,
    );

    const none = await rows.aUser();
    const one = await rows.aUser({ user_email: 'alice@example.com', max_budget: 50, models: ['no-default-models'] });
    await rows.anOrganizationMembership({ user_id: one.user_id, organization_id: 'org-a', user_role: 'org_admin', spend: 2.5 });
    const several = await rows.aUser({ spend: 3 });
    for (const organizationId of ['org-c', 'org-a', 'org-b']) {
      await rows.anOrganizationMembership({ user_id: several.user_id, organization_id: organizationId, user_role: 'internal_user' });
    }
    // Another user with memberships too, so several users' joined rows share one result.
    const two = await rows.aUser();
    await rows.anOrganizationMembership({ user_id: two.user_id, organization_id: 'org-b' });
    await rows.anOrganizationMembership({ user_id: two.user_id, organization_id: 'org-d' });
    users.push(none.user_id, one.user_id, several.user_id, two.user_id);

    const [withModel = '', plain = ''] = teams;
    await rows.aTeamMembership({ user_id: one.user_id, team_id: withModel, spend: 4.2, budget_id: budget.budget_id });
    await rows.aTeamMembership({ user_id: one.user_id, team_id: plain });
    await rows.aTeamMembership({ user_id: several.user_id, team_id: withModel, budget_id: uniqueId('missing-budget') });
    await rows.aTeamMembership({ user_id: none.user_id, team_id: plain, total_spend: 9.75 });
    memberships.push([one.user_id, withModel], [one.user_id, plain], [several.user_id, withModel], [none.user_id, plain]);
  });

  it('findKeys: the keys findKey returns, by token, in one statement; unknown and duplicate ids are harmless', async () => {
    const requested = [...keys, aTokenHash(), keys[0] ?? '', keys[1] ?? ''];
    await expectOneStatementLikeSingles(requested, same, (id) => store.findKey(id), (ids) => batch.findKeys(ids), keys.length);
  });

  it('findTeams: the teams findTeam returns (model table joined, missing or dangling), by team_id', async () => {
    const requested = [...teams, uniqueId('unknown-team'), ...teams];
    await expectOneStatementLikeSingles(requested, same, (id) => store.findTeam(id), (ids) => batch.findTeams(ids), teams.length);
  });

  it('findUsers: the users findUser returns (zero, one and several org memberships), by user_id', async () => {
    const requested = [...users, uniqueId('ghost'), users[2] ?? ''];
    await expectOneStatementLikeSingles(requested, same, (id) => store.findUser(id), (ids) => batch.findUsers(ids), users.length);
    const [, one = '', several = '', two = ''] = users;
    expect((await batch.findUsers([one])).get(one)?.organization_memberships).to.have.length(1);
    expect((await batch.findUsers([several, two])).get(several)?.organization_memberships.map((m) => m.organization_id)).to.deep.equal([
      'org-a',
      'org-b',
      'org-c',
    ]);
  });

  it('findMemberships: the memberships findMembership returns (budget or none), by user\\u0000team', async () => {
    const [[userId = '', teamId = ''] = []] = memberships;
    const requested: [string, string][] = [
      ...memberships,
      [userId, uniqueId('unknown-team')],
      [teamId, userId], // the key's halves swapped match nothing
      [userId, teamId],
    ];
    await expectOneStatementLikeSingles(
      requested,
      ([u, t]) => membershipId(u, t),
      ([u, t]) => store.findMembership(u, t),
      (ids) => batch.findMemberships(ids),
      memberships.length,
    );
  });

  it('hands out deeply frozen values, as the single lookups do', async () => {
    const [key = ''] = keys;
    const [user = ''] = users.slice(2);
    const [[u = '', t = ''] = []] = memberships;
    const values = [
      (await batch.findKeys([key])).get(key),
      (await batch.findTeams(teams)).get(teams[0] ?? ''),
      (await batch.findUsers([user])).get(user),
      (await batch.findMemberships([[u, t]])).get(membershipId(u, t)),
    ];
    for (const value of values) {
      expect(value).to.not.equal(undefined);
      expect(Object.isFrozen(value)).to.equal(true);
    }
    expect(Object.isFrozen((values[0] as { metadata: unknown }).metadata)).to.equal(true);
  });

  it('makes no statement for an empty input, and answers an empty map', async () => {
    let answers: ReadonlyMap<string, unknown>[] = [];
    expect(
      await statementsFor(async () => {
        answers = await Promise.all([batch.findKeys([]), batch.findTeams([]), batch.findUsers([]), batch.findMemberships([])]);
      }),
    ).to.equal(0);
    for (const answer of answers) expect(answer.size).to.equal(0);
  });

  it('keys the map by the primary key as stored, not by the requested id', async () => {
    // Under a case-insensitive collation (MariaDB's default) the upper-cased id matches the row.
    const [team = ''] = teams;
    const upper = team.toUpperCase();
    const found = await batch.findTeams([upper]);
    expect(found.has(upper)).to.equal(false);
    if (found.size > 0) expect([...found.keys()]).to.deep.equal([team]);
  });

  describe('more than 100 ids', () => {
    const manyKeys: string[] = [];
    const manyUsers: string[] = [];

    before(async () => {
      for (let i = 0; i < 130; i += 1) manyKeys.push((await rows.aKey({ spend: i })).token);
      for (let i = 0; i < 105; i += 1) {
        const user = await rows.aUser();
        if (i % 10 === 0) await rows.anOrganizationMembership({ user_id: user.user_id, organization_id: `org-${i}` });
        manyUsers.push(user.user_id);
      }
    });

    it('loads keys in ceil(n / 100) statements of distinct ids', async () => {
      const unknown = Array.from({ length: 75 }, () => aTokenHash());
      // 205 distinct ids (3 statements) among 335 requested.
      const requested = [...manyKeys, ...unknown, ...manyKeys];
      let found: ReadonlyMap<string, unknown> = new Map();
      expect(await statementsFor(async () => (found = await batch.findKeys(requested)))).to.equal(3);
      expect(found).to.deep.equal(await bySingleLookups(manyKeys, same, (id) => store.findKey(id)));
    });

    it('loads exactly 100 distinct ids in one statement and 101 in two', async () => {
      expect(await statementsFor(() => batch.findKeys(manyKeys.slice(0, 100)))).to.equal(1);
      expect(await statementsFor(() => batch.findKeys([...manyKeys.slice(0, 100), ...manyKeys.slice(0, 100)]))).to.equal(1);
      expect(await statementsFor(() => batch.findKeys(manyKeys.slice(0, 101)))).to.equal(2);
    });

    it('loads users with their memberships across chunks', async () => {
      const requested = [...manyUsers, ...users];
      let found: ReadonlyMap<string, unknown> = new Map();
      expect(await statementsFor(async () => (found = await batch.findUsers(requested)))).to.equal(Math.ceil(requested.length / 100));
      expect(found).to.deep.equal(await bySingleLookups(requested, same, (id) => store.findUser(id)));
    });

    it('loads teams and memberships (composite key) across chunks', async () => {
      const teamIds = [...teams, ...Array.from({ length: 150 }, () => uniqueId('unknown-team'))];
      let foundTeams: ReadonlyMap<string, unknown> = new Map();
      expect(await statementsFor(async () => (foundTeams = await batch.findTeams(teamIds)))).to.equal(2);
      expect(foundTeams).to.deep.equal(await bySingleLookups(teams, same, (id) => store.findTeam(id)));

      const pairs: [string, string][] = [...Array.from({ length: 199 }, (): [string, string] => [uniqueId('u'), uniqueId('t')]), ...memberships];
      let foundMemberships: ReadonlyMap<string, unknown> = new Map();
      expect(await statementsFor(async () => (foundMemberships = await batch.findMemberships(pairs)))).to.equal(3);
      expect(foundMemberships).to.deep.equal(
        await bySingleLookups(memberships, ([u, t]) => membershipId(u, t), ([u, t]) => store.findMembership(u, t)),
      );
    });
  });
});
