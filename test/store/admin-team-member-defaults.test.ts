/**
 * A team's default member budget (`metadata.team_member_budget_id`) reaching its memberships, as
 * newer LiteLLM's /team/member_add (a copy of the default row for a new member) and /team/update
 * (members without a budget linked to the default row itself) write them.
 */
import { expect } from 'chai';
import { AdminStore } from '../../src/store/admin-store';
import { BudgetRecord, TeamMembershipRecord, TeamRecord } from '../../src/store/entities';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describeEachBackend('AdminStore: a team default member budget reaching its memberships', (backend) => {
  let admin: AdminStore;

  before(() => {
    admin = new AdminStore(backend().dataSource, backend().settings, { now: () => NOW });
  });

  const budgets = () => backend().dataSource.getRepository(BudgetRecord);
  const memberships = () => backend().dataSource.getRepository(TeamMembershipRecord);

  async function budgetIdOf(userId: string, teamId: string): Promise<string | null> {
    return (await memberships().findOneByOrFail({ user_id: userId, team_id: teamId })).budget_id;
  }

  /** A team whose default member budget row sets every setting LiteLLM copies. */
  async function aTeamWithDefault(): Promise<{ teamId: string; defaultId: string }> {
    const team = await admin.createTeam({ teamMemberBudget: 2, teamMemberBudgetDuration: '30d' });
    const defaultId = team.metadata['team_member_budget_id'] as string;
    await budgets().update(
      { budget_id: defaultId },
      { rpm_limit: 3, tpm_limit: 400, soft_budget: 1.5, max_parallel_requests: 2, allowed_models: ['gpt-4o'], model_max_budget: { 'gpt-4o': { max_budget: 1 } } },
    );
    return { teamId: team.team_id, defaultId };
  }

  describe('addTeamMember without a budget', () => {
    it("gives a new member its own copy of the team's default row, rpm and tpm included, its window starting now", async () => {
      const { teamId, defaultId } = await aTeamWithDefault();
      const membership = await admin.addTeamMember(uniqueId('user'), teamId);
      const copyId = membership?.budget?.budget_id;
      expect(copyId).to.be.a('string').and.not.equal(defaultId);
      const copy = await budgets().findOneByOrFail({ budget_id: copyId as string });
      expect(copy).to.deep.include({
        max_budget: 2,
        soft_budget: 1.5,
        max_parallel_requests: 2,
        tpm_limit: 400,
        rpm_limit: 3,
        budget_duration: '30d',
        allowed_models: ['gpt-4o'],
        model_max_budget: { 'gpt-4o': { max_budget: 1 } },
      });
      expect(copy.budget_reset_at?.toISOString(), "LiteLLM's next 30d reset: the 1st").to.equal('2026-04-01T00:00:00.000Z');
      expect(await budgets().findOneByOrFail({ budget_id: defaultId })).to.deep.include({ max_budget: 2, rpm_limit: 3 });
    });

    it('gives each new member a copy of its own', async () => {
      const { teamId } = await aTeamWithDefault();
      const first = await admin.addTeamMember(uniqueId('user'), teamId);
      const second = await admin.addTeamMember(uniqueId('user'), teamId);
      expect(first?.budget?.budget_id).to.be.a('string').and.not.equal(second?.budget?.budget_id);
    });

    it('links the budget given instead, copying nothing', async () => {
      const { teamId } = await aTeamWithDefault();
      const own = await admin.createBudget({ maxBudget: 9 });
      const before = await budgets().count();
      expect((await admin.addTeamMember(uniqueId('user'), teamId, own.budget_id))?.budget?.budget_id).to.equal(own.budget_id);
      expect(await budgets().count()).to.equal(before);
    });

    it('refuses a member already in the team, copying nothing, and leaves its membership as it is', async () => {
      const { teamId } = await aTeamWithDefault();
      const userId = uniqueId('user');
      const first = await admin.addTeamMember(userId, teamId);
      const before = await budgets().count();
      let refused: unknown = null;
      await admin.addTeamMember(userId, teamId).catch((error: unknown) => (refused = error));
      expect(String(refused)).to.match(/already in team/);
      expect(await budgets().count()).to.equal(before);
      expect(await budgetIdOf(userId, teamId)).to.equal(first?.budget?.budget_id);
    });

    it('writes no membership row, and copies nothing, when the team has no default, or names a row that is gone', async () => {
      const before = await budgets().count();
      const plain = await admin.createTeam();
      expect(await admin.addTeamMember(uniqueId('user'), plain.team_id)).to.equal(null);
      const orphaned = await admin.createTeam({ metadata: { team_member_budget_id: uniqueId('gone') } });
      expect(await admin.addTeamMember(uniqueId('user'), orphaned.team_id)).to.equal(null);
      expect(await budgets().count()).to.equal(before);
      expect(await memberships().countBy({ team_id: plain.team_id })).to.equal(0);
      expect(await memberships().countBy({ team_id: orphaned.team_id })).to.equal(0);
    });
  });

  describe('updateTeamAndMemberships setting a team member budget', () => {
    /** Members a, b, c listed on the team; a without a budget, b with its own, c without a membership row; d a row not listed. */
    async function aTeamWithMembers(): Promise<{ teamId: string; ids: Record<'a' | 'b' | 'c' | 'd', string>; ownId: string }> {
      const team = await admin.createTeam();
      const ids = { a: uniqueId('a'), b: uniqueId('b'), c: uniqueId('c'), d: uniqueId('d') };
      const own = await admin.createBudget({ maxBudget: 7 });
      await admin.addTeamMember(ids.a, team.team_id);
      // A row without a budget, as older LiteLLM's /team/member_add wrote; newer writes none (c).
      await memberships().insert({ user_id: ids.a, team_id: team.team_id, spend: 0, total_spend: 0, budget_id: null });
      await admin.addTeamMember(ids.b, team.team_id, own.budget_id);
      await admin.addTeamMember(ids.c, team.team_id);
      await memberships().insert({ user_id: ids.d, team_id: team.team_id, spend: 0, total_spend: 0, budget_id: null });
      return { teamId: team.team_id, ids, ownId: own.budget_id };
    }

    it('links the memberships without a budget to the default row, creates the missing ones, and leaves a budget of their own', async () => {
      const { teamId, ids, ownId } = await aTeamWithMembers();
      const result = await admin.updateTeamAndMemberships(teamId, { teamMemberBudget: 3 });
      const defaultId = result?.team.metadata['team_member_budget_id'];
      expect(defaultId).to.be.a('string');
      expect([...(result?.memberships ?? [])].sort()).to.deep.equal([ids.a, ids.c, ids.d].sort());
      expect(await budgetIdOf(ids.a, teamId)).to.equal(defaultId);
      expect(await budgetIdOf(ids.b, teamId)).to.equal(ownId);
      expect(await memberships().findOneByOrFail({ user_id: ids.c, team_id: teamId })).to.deep.include({ budget_id: defaultId, spend: 0 });
      expect(await budgetIdOf(ids.d, teamId)).to.equal(defaultId);
    });

    it('links them to an existing default row it changes, and a duration alone sets it too', async () => {
      const { teamId, ids } = await aTeamWithMembers();
      const defaultId = (await admin.updateTeamAndMemberships(teamId, { teamMemberBudget: 1 }))?.team.metadata['team_member_budget_id'];
      await memberships().update({ user_id: ids.a, team_id: teamId }, { budget_id: null });
      const result = await admin.updateTeamAndMemberships(teamId, { teamMemberBudgetDuration: '1d' });
      expect(result?.memberships).to.deep.equal([ids.a]);
      expect(await budgetIdOf(ids.a, teamId)).to.equal(defaultId);
    });

    it('links nothing when the update clears the member budget or changes other settings', async () => {
      const { teamId, ids } = await aTeamWithMembers();
      expect((await admin.updateTeamAndMemberships(teamId, { maxBudget: 5 }))?.memberships).to.deep.equal([]);
      expect((await admin.updateTeamAndMemberships(teamId, { teamMemberBudget: null }))?.memberships).to.deep.equal([]);
      expect(await budgetIdOf(ids.a, teamId)).to.equal(null);
      expect(await memberships().countBy({ team_id: teamId })).to.equal(3);
    });

    it('links nothing to a default the metadata names but no row holds', async () => {
      const { teamId, ids } = await aTeamWithMembers();
      const gone = uniqueId('gone');
      await admin.updateTeam(teamId, { metadata: { team_member_budget_id: gone } });
      const result = await admin.updateTeamAndMemberships(teamId, { teamMemberBudget: null, teamMemberBudgetDuration: '1d' });
      expect(result?.team.metadata['team_member_budget_id']).to.equal(gone);
      expect(result?.memberships).to.deep.equal([]);
      expect(await budgetIdOf(ids.a, teamId)).to.equal(null);
      expect(await memberships().countBy({ team_id: teamId })).to.equal(3);
      // So that a default set later still reaches them.
      const linked = await admin.updateTeamAndMemberships(teamId, { teamMemberBudget: 2 });
      expect(await budgetIdOf(ids.a, teamId)).to.equal(linked?.team.metadata['team_member_budget_id']);
    });

    it('touches no membership of a team that lists no members, as LiteLLM returns first', async () => {
      const team = await admin.createTeam();
      const userId = uniqueId('unlisted');
      await memberships().insert({ user_id: userId, team_id: team.team_id, spend: 0, total_spend: 0, budget_id: null });
      expect((await admin.updateTeamAndMemberships(team.team_id, { teamMemberBudget: 2 }))?.memberships).to.deep.equal([]);
      expect(await budgetIdOf(userId, team.team_id)).to.equal(null);
    });

    it('resolves null for an unknown team, and updateTeam still resolves the team', async () => {
      expect(await admin.updateTeamAndMemberships(uniqueId('team'), { teamMemberBudget: 2 })).to.equal(null);
      const team = await admin.createTeam();
      expect((await admin.updateTeam(team.team_id, { maxBudget: 4 }))?.max_budget).to.equal(4);
      expect((await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id })).max_budget).to.equal(4);
    });
  });
});
