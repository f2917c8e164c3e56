import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { TeamMembershipRecord, TeamRecord, UserRecord, type OrganizationMembershipRecord } from '../../src/store/entities';
import { JoinedLookup } from '../../src/store/joined-lookup';
import { toTeam, toTeamMembership, toUser } from '../../src/store/to-domain';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

/*
 * The reference: the query-builder queries TypeOrmAuthStore ran before JoinedLookup, kept here
 * verbatim so every case compares the two on the same rows.
 */
function teamByQueryBuilder(dataSource: DataSource, teamId: string): Promise<TeamRecord | null> {
  return dataSource
    .getRepository(TeamRecord)
    .createQueryBuilder('team')
    .leftJoinAndSelect('team.litellm_model_table', 'model')
    .where('team.team_id = :teamId', { teamId })
    .getOne();
}

function membershipByQueryBuilder(dataSource: DataSource, userId: string, teamId: string): Promise<TeamMembershipRecord | null> {
  return dataSource
    .getRepository(TeamMembershipRecord)
    .createQueryBuilder('membership')
    .leftJoinAndSelect('membership.litellm_budget_table', 'budget')
    .where('membership.user_id = :userId AND membership.team_id = :teamId', { userId, teamId })
    .getOne();
}

function userByQueryBuilder(dataSource: DataSource, userId: string): Promise<UserRecord | null> {
  return dataSource
    .getRepository(UserRecord)
    .createQueryBuilder('u')
    .leftJoinAndSelect('u.organization_memberships', 'om')
    .where('u.user_id = :userId', { userId })
    .getOne();
}

/** Neither query orders the joined rows, so the comparison does not either. */
function byOrganization(user: UserRecord | null): UserRecord | null {
  if (user?.organization_memberships === undefined) return user;
  const memberships = [...user.organization_memberships].sort((a: OrganizationMembershipRecord, b: OrganizationMembershipRecord) =>
    a.organization_id.localeCompare(b.organization_id),
  );
  return Object.assign(Object.create(Object.getPrototypeOf(user) as object) as UserRecord, user, { organization_memberships: memberships });
}

describeEachBackend('JoinedLookup', (backend) => {
  let rows: LiteLlmRows;
  let store: TypeOrmAuthStore;
  let teams: JoinedLookup<TeamRecord>;
  let memberships: JoinedLookup<TeamMembershipRecord>;
  let users: JoinedLookup<UserRecord>;
  const sql = (statement: string, parameters: unknown[]): Promise<unknown> => backend().dataSource.query(statement, parameters);

  before(() => {
    const { dataSource, settings } = backend();
    rows = new LiteLlmRows(dataSource);
    store = new TypeOrmAuthStore(dataSource, settings);
    teams = new JoinedLookup(dataSource, TeamRecord, 'litellm_model_table', ['team_id']);
    memberships = new JoinedLookup(dataSource, TeamMembershipRecord, 'litellm_budget_table', ['user_id', 'team_id']);
    users = new JoinedLookup(dataSource, UserRecord, 'organization_memberships', ['user_id']);
  });

  describe('a team with its model table (many-to-one)', () => {
    const ids: string[] = [];

    before(async () => {
      const model = await rows.aModelTable({ fast: 'gpt-4o-mini', smart: 'gpt-4o' });
      const full = await rows.aTeam({
        team_alias: 'search',
        organization_id: 'org-1',
        object_permission_id: 'op-1',
        admins: ['alice'],
        members: ['alice', 'bob'],
        members_with_roles: [{ user_id: 'alice', role: 'admin' }],
        metadata: { allowed_tools: ['web'], nested: { deep: [{ x: null }, true] }, unicode: 'é✓' },
        max_budget: 100.25,
        soft_budget: 80,
        spend: 12.5,
        models: ['gpt-4o'],
        max_parallel_requests: 3,
        tpm_limit: 9_007_199_254_740,
        rpm_limit: 20,
        budget_duration: '30d',
        budget_reset_at: new Date('2031-01-02T03:04:05.678Z'),
        blocked: true,
        model_spend: { 'gpt-4o': 0.5 },
        model_max_budget: { 'gpt-4o': { budget_limit: 1 } },
        router_settings: { retries: 2 },
        access_group_ids: ['ag-1'],
        budget_limits: [{ budget_duration: '1d', max_budget: 5 }],
        model_id: model.id,
        allow_team_guardrail_config: true,
      });
      const plain = await rows.aTeam();
      const dangling = await rows.aTeam({ model_id: 987654 });
      // NULLs in every nullable JSON column, on the team and on its model row.
      const nullModel = await rows.aModelTable({});
      await sql('UPDATE LiteLLM_ModelTable SET aliases = NULL WHERE id = ?', [nullModel.id]);
      const nulls = await rows.aTeam({ model_id: nullModel.id, blocked: false });
      await sql(
        'UPDATE LiteLLM_TeamTable SET admins = NULL, members = NULL, models = NULL, router_settings = NULL, budget_limits = NULL, access_group_ids = NULL, policies = NULL WHERE team_id = ?',
        [nulls.team_id],
      );
      ids.push(full.team_id, plain.team_id, dangling.team_id, nulls.team_id, uniqueId('unknown-team'), full.team_id.toUpperCase());
    });

    it('returns what the query builder returns, record for record', async () => {
      for (const id of ids) {
        const [mine, reference] = await Promise.all([teams.find([id]), teamByQueryBuilder(backend().dataSource, id)]);
        expect(mine, id).to.deep.equal(reference);
        if (reference !== null) expect(mine, id).to.be.instanceOf(TeamRecord);
      }
    });

    it('sets the model table to null when nothing joins (no model_id, or a dangling one)', async () => {
      const [, plain, dangling] = ids;
      expect((await teams.find([plain ?? '']))?.litellm_model_table).to.equal(null);
      expect((await teams.find([dangling ?? '']))?.litellm_model_table).to.equal(null);
    });

    it('gives the store the same Team as before', async () => {
      for (const id of ids) {
        const reference = await teamByQueryBuilder(backend().dataSource, id);
        expect(await store.findTeam(id), id).to.deep.equal(reference === null ? null : toTeam(reference));
      }
    });
  });

  describe('a team membership with its budget (many-to-one, composite key)', () => {
    const keys: [string, string][] = [];

    before(async () => {
      const teamId = uniqueId('team');
      const budget = await rows.aBudget({
        max_budget: 5.5,
        soft_budget: 4,
        max_parallel_requests: 2,
        tpm_limit: 100,
        rpm_limit: 10,
        model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } },
        budget_duration: '7d',
        budget_reset_at: new Date('2031-05-06T07:08:09.010Z'),
        allowed_models: ['gpt-4o'],
      });
      const sparse = await rows.aBudget();
      await sql('UPDATE LiteLLM_BudgetTable SET allowed_models = NULL, model_max_budget = NULL WHERE budget_id = ?', [sparse.budget_id]);
      await rows.aTeamMembership({ user_id: 'alice', team_id: teamId, spend: 4.2, total_spend: 9.75, budget_id: budget.budget_id });
      await rows.aTeamMembership({ user_id: 'bob', team_id: teamId });
      await rows.aTeamMembership({ user_id: 'carol', team_id: teamId, budget_id: uniqueId('missing-budget') });
      await rows.aTeamMembership({ user_id: 'dave', team_id: teamId, budget_id: sparse.budget_id });
      // The same user in another team, and the key's halves swapped: neither may match.
      await rows.aTeamMembership({ user_id: 'alice', team_id: uniqueId('other-team'), spend: 1 });
      keys.push(
        ['alice', teamId],
        ['bob', teamId],
        ['carol', teamId],
        ['dave', teamId],
        ['alice', uniqueId('unknown-team')],
        ['erin', teamId],
        [teamId, 'alice'],
      );
    });

    it('returns what the query builder returns, record for record', async () => {
      for (const [userId, teamId] of keys) {
        const [mine, reference] = await Promise.all([
          memberships.find([userId, teamId]),
          membershipByQueryBuilder(backend().dataSource, userId, teamId),
        ]);
        expect(mine, `${userId}/${teamId}`).to.deep.equal(reference);
        if (reference !== null) expect(mine).to.be.instanceOf(TeamMembershipRecord);
      }
    });

    it('sets the budget to null when the membership has none, or a dangling one', async () => {
      const [, [bob, teamId] = ['', ''], [carol] = ['']] = keys;
      expect((await memberships.find([bob, teamId]))?.litellm_budget_table).to.equal(null);
      expect((await memberships.find([carol, teamId]))?.litellm_budget_table).to.equal(null);
    });

    it('gives the store the same TeamMembership as before', async () => {
      for (const [userId, teamId] of keys) {
        const reference = await membershipByQueryBuilder(backend().dataSource, userId, teamId);
        expect(await store.findMembership(userId, teamId)).to.deep.equal(reference === null ? null : toTeamMembership(reference));
      }
    });
  });

  describe('a user with their organization memberships (one-to-many)', () => {
    const ids: string[] = [];

    before(async () => {
      const none = await rows.aUser();
      const one = await rows.aUser({
        user_alias: 'Alice',
        user_email: 'alice@example.com',
        user_role: 'internal_user',
        max_budget: 50,
        spend: 3,
        models: ['no-default-models'],
        metadata: { scim_active: true },
        max_parallel_requests: 4,
        tpm_limit: 5,
        rpm_limit: 6,
        budget_duration: '1mo',
        budget_reset_at: new Date('2030-12-31T23:59:59.999Z'),
        model_spend: { 'gpt-4o': 1.25 },
      });
      await rows.anOrganizationMembership({ user_id: one.user_id, organization_id: 'org-a', user_role: 'org_admin', spend: 2.5, budget_id: 'b-1' });
      const several = await rows.aUser();
      await sql('UPDATE LiteLLM_UserTable SET teams = NULL, models = NULL, allowed_cache_controls = NULL, policies = NULL WHERE user_id = ?', [
        several.user_id,
      ]);
      for (const organizationId of ['org-c', 'org-a', 'org-b']) {
        await rows.anOrganizationMembership({ user_id: several.user_id, organization_id: organizationId, user_role: 'internal_user' });
      }
      // NULL spend and dates on one of them, as another tool may write.
      await sql('UPDATE LiteLLM_OrganizationMembership SET spend = NULL, created_at = NULL, user_role = NULL WHERE user_id = ? AND organization_id = ?', [
        several.user_id,
        'org-b',
      ]);
      // A membership without its user row joins to nothing.
      await rows.anOrganizationMembership({ user_id: uniqueId('orphan'), organization_id: 'org-a' });
      ids.push(none.user_id, one.user_id, several.user_id, uniqueId('ghost'));
    });

    it('returns what the query builder returns, record for record', async () => {
      for (const id of ids) {
        const [mine, reference] = await Promise.all([users.find([id]), userByQueryBuilder(backend().dataSource, id)]);
        expect(byOrganization(mine), id).to.deep.equal(byOrganization(reference));
        if (reference !== null) expect(mine).to.be.instanceOf(UserRecord);
      }
    });

    it('lists zero, one and several memberships', async () => {
      const [none = '', one = '', several = ''] = ids;
      expect((await users.find([none]))?.organization_memberships).to.deep.equal([]);
      expect((await users.find([one]))?.organization_memberships).to.have.length(1);
      expect((await users.find([several]))?.organization_memberships?.map((m) => m.organization_id).sort()).to.deep.equal(['org-a', 'org-b', 'org-c']);
    });

    it('gives the store the same User as before', async () => {
      for (const id of ids) {
        const reference = await userByQueryBuilder(backend().dataSource, id);
        expect(await store.findUser(id), id).to.deep.equal(reference === null ? null : toUser(reference));
      }
    });
  });

  describe('what it refuses to build', () => {
    it('requires the whole primary key as the key', () => {
      const { dataSource } = backend();
      expect(() => new JoinedLookup(dataSource, TeamMembershipRecord, 'litellm_budget_table', ['user_id'])).to.throw(/primary key/);
      expect(() => new JoinedLookup(dataSource, TeamMembershipRecord, 'litellm_budget_table', ['user_id', 'user_id'])).to.throw(/primary key/);
      expect(() => new JoinedLookup(dataSource, TeamRecord, 'litellm_model_table', ['team_alias'])).to.throw(/primary key/);
    });

    it('requires a relation', () => {
      expect(() => new JoinedLookup(backend().dataSource, TeamRecord, 'team_alias', ['team_id'])).to.throw(/no relation/);
    });
  });
});
