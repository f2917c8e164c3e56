import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { AdminInputError, AdminStore, DEFAULT_ACTOR } from '../../src/store/admin-store';
import {
  BudgetRecord,
  EndUserRecord,
  ModelTableRecord,
  OrganizationRecord,
  TeamMembershipRecord,
  TeamRecord,
  UserRecord,
  VerificationTokenRecord,
} from '../../src/store/entities';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';
import { useBudgetResetZone } from '../../src/spend/budget-window';
import { resetZoneOf, UTC_RESET_ZONE } from '../../src/spend/standardized-reset';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describeEachBackend('AdminStore', (backend) => {
  const now = new Date('2030-05-06T07:08:09.010Z');
  let admin: AdminStore;
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    admin = new AdminStore(backend().dataSource, backend().settings, { now: () => now });
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  describe('createKey', () => {
    it('returns a new sk- key once and stores only its sha256, which findKey finds', async () => {
      const team = await admin.createTeam();
      const created = await admin.createKey({ teamId: team.team_id, models: ['gpt-4o'], maxBudget: 10, alias: uniqueId('alias') });
      expect(created.key).to.match(/^sk-[A-Za-z0-9_-]{32,}$/);
      expect(created.token).to.equal(sha256(created.key));
      expect(created.virtualKey).to.deep.include({ token: created.token, team_id: team.team_id, models: ['gpt-4o'], max_budget: 10, spend: 0 });
      expect(await store.findKey(sha256(created.key))).to.deep.equal(created.virtualKey);
    });

    it('never stores the raw key, in any column', async () => {
      const created = await admin.createKey({ metadata: { note: 'n' } });
      const raw = await backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token: created.token });
      const stored = JSON.stringify(raw);
      expect(stored).to.not.include(created.key);
      expect(stored).to.not.include(created.key.slice(3));
      expect(raw.key_name).to.equal(`sk-...${created.key.slice(-4)}`);
    });

    it('creates different keys every time', async () => {
      const a = await admin.createKey();
      const b = await admin.createKey();
      expect(a.key).to.not.equal(b.key);
      expect(a.token).to.not.equal(b.token);
    });

    it('stores every option and the audit columns', async () => {
      const org = await admin.createOrganization({ alias: 'Org' });
      const budget = await admin.createBudget({ softBudget: 1 });
      const project = await rows.aProject();
      const expires = new Date('2031-01-01T00:00:00.000Z');
      const created = await admin.createKey({
        userId: 'owner',
        organizationId: org.organization_id,
        projectId: project.project_id,
        budgetId: budget.budget_id,
        expires,
        metadata: { tags: ['a'] },
        allowedRoutes: ['/v1/chat/completions'],
      });
      expect(created.virtualKey).to.deep.include({
        user_id: 'owner',
        organization_id: org.organization_id,
        project_id: project.project_id,
        budget_id: budget.budget_id,
        expires,
        metadata: { tags: ['a'] },
        allowed_routes: ['/v1/chat/completions'],
        blocked: null,
      });
      const raw = await backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token: created.token });
      expect(raw).to.deep.include({ created_by: DEFAULT_ACTOR, updated_by: DEFAULT_ACTOR, created_at: now, updated_at: now });
    });

    it('refuses a team that does not exist', async () => {
      await expectAdminError(admin.createKey({ teamId: uniqueId('missing') }), /team .* does not exist/);
    });

    it('refuses a duplicate key alias, as LiteLLM does', async () => {
      const alias = uniqueId('dup');
      await admin.createKey({ alias });
      await expectAdminError(admin.createKey({ alias }), /key alias .* already exists/);
    });
  });

  describe('createOrganization', () => {
    it('creates the organization with its own budget row holding max_budget', async () => {
      const org = await admin.createOrganization({ alias: 'Acme', maxBudget: 500, models: ['gpt-4o'] });
      expect(org).to.deep.include({ organization_alias: 'Acme', spend: 0, models: ['gpt-4o'], metadata: {} });
      expect(org.budget_id).to.be.a('string');
      expect(org.budget?.max_budget).to.equal(500);
      const budgetRow = await backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: org.budget_id ?? '' });
      expect(budgetRow).to.deep.include({ created_by: DEFAULT_ACTOR, updated_by: DEFAULT_ACTOR });
      const orgRow = await backend().dataSource.getRepository(OrganizationRecord).findOneByOrFail({ organization_id: org.organization_id });
      expect(orgRow).to.deep.include({ created_by: DEFAULT_ACTOR, updated_by: DEFAULT_ACTOR, created_at: now });
    });

    it('uses the given id, and refuses it a second time', async () => {
      const organizationId = uniqueId('org');
      expect((await admin.createOrganization({ organizationId, alias: 'A' })).organization_id).to.equal(organizationId);
      await expectAdminError(admin.createOrganization({ organizationId, alias: 'B' }), /already exists/);
    });
  });

  describe('createBudget', () => {
    it('creates a budget row with limits', async () => {
      const budget = await admin.createBudget({ maxBudget: 9, softBudget: 8, tpmLimit: 7, rpmLimit: 6 });
      expect(budget).to.deep.include({ max_budget: 9, soft_budget: 8, tpm_limit: 7, rpm_limit: 6, allowed_models: [] });
      expect(await store.findBudget(budget.budget_id)).to.deep.equal(budget);
    });

    it("starts the window of a row with a duration at LiteLLM's next reset, as its /budget/new does", async () => {
      const budgetRow = (budgetId: string) => backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: budgetId });
      const weekly = await admin.createBudget({ maxBudget: 5, budgetDuration: '7d' });
      expect(weekly.budget_duration).to.equal('7d');
      expect((await budgetRow(weekly.budget_id)).budget_reset_at?.toISOString(), 'the next Monday').to.equal('2030-05-13T00:00:00.000Z');
      expect((await budgetRow((await admin.createBudget({ maxBudget: 5 })).budget_id)).budget_reset_at).to.equal(null);
      const budgetId = uniqueId('budget-2mo');
      await expectAdminError(admin.createBudget({ budgetId, budgetDuration: '2mo' }), /2mo.*every 1mo/);
      expect(await store.findBudget(budgetId)).to.equal(null);
    });

    it('refuses negative or non-finite amounts', async () => {
      await expectAdminError(admin.createBudget({ maxBudget: -1 }), /must not be negative/);
      await expectAdminError(admin.createBudget({ maxBudget: Number.NaN }), /finite/);
    });
  });

  describe('createTeam', () => {
    it('creates the team with every option', async () => {
      const org = await admin.createOrganization({ alias: 'Org' });
      const team = await admin.createTeam({
        alias: uniqueId('team-alias'),
        organizationId: org.organization_id,
        maxBudget: 100,
        softBudget: 50,
        models: ['gpt-4o'],
        blocked: true,
        metadata: { allowed_tools: ['x'] },
      });
      expect(team).to.deep.include({ organization_id: org.organization_id, max_budget: 100, soft_budget: 50, models: ['gpt-4o'], blocked: true, metadata: { allowed_tools: ['x'] }, spend: 0, model_aliases: {} });
    });

    it('stores model aliases in LiteLLM_ModelTable and links them through model_id', async () => {
      const team = await admin.createTeam({ modelAliases: { fast: 'gpt-4o-mini' } });
      expect(team.model_aliases).to.deep.equal({ fast: 'gpt-4o-mini' });
      const model = await backend().dataSource.getRepository(ModelTableRecord).findOneByOrFail({ id: team.model_id ?? -1 });
      expect(model.aliases).to.deep.equal({ fast: 'gpt-4o-mini' });
    });

    it('refuses a taken team alias and an unknown organization', async () => {
      const alias = uniqueId('alias');
      await admin.createTeam({ alias });
      await expectAdminError(admin.createTeam({ alias }), /team alias .* already exists/);
      await expectAdminError(admin.createTeam({ organizationId: uniqueId('org') }), /organization .* does not exist/);
    });
  });

  describe('createUser', () => {
    it('creates the user, role internal_user by default', async () => {
      const userId = uniqueId('user');
      const user = await admin.createUser({ userId, email: 'u@example.com', maxBudget: 5, models: ['gpt-4o'] });
      expect(user).to.deep.include({ user_id: userId, user_email: 'u@example.com', user_role: 'internal_user', max_budget: 5, models: ['gpt-4o'], spend: 0, organization_memberships: [] });
    });

    it('refuses an unknown role', async () => {
      // @ts-expect-error: a role outside LitellmUserRoles, as a CLI flag could pass
      await expectAdminError(admin.createUser({ userId: uniqueId('user'), role: 'superuser' }), /unknown user role/);
    });
  });

  describe('createEndUser', () => {
    it('creates the end user linked to an existing budget', async () => {
      const budget = await admin.createBudget({ maxBudget: 3 });
      const endUser = await admin.createEndUser({ userId: uniqueId('customer'), budgetId: budget.budget_id });
      expect(endUser).to.deep.include({ budget_id: budget.budget_id, spend: 0, blocked: false });
      expect(endUser.budget?.max_budget).to.equal(3);
    });

    it('creates its own budget row from maxBudget', async () => {
      const endUser = await admin.createEndUser({ userId: uniqueId('customer'), maxBudget: 4 });
      expect(endUser.budget?.max_budget).to.equal(4);
    });

    it('creates an end user without any budget', async () => {
      const endUser = await admin.createEndUser({ userId: uniqueId('customer') });
      expect(endUser.budget_id).to.equal(null);
      expect(await backend().dataSource.getRepository(EndUserRecord).countBy({ user_id: endUser.user_id })).to.equal(1);
    });
  });

  describe('blocking', () => {
    it('blocks and unblocks a key', async () => {
      const created = await admin.createKey();
      expect((await admin.setKeyBlocked(created.token, true))?.blocked).to.equal(true);
      expect((await store.findKey(created.token))?.blocked).to.equal(true);
      expect((await admin.setKeyBlocked(created.token, false))?.blocked).to.equal(false);
    });

    it('blocks and unblocks a team', async () => {
      const team = await admin.createTeam();
      expect((await admin.setTeamBlocked(team.team_id, true))?.blocked).to.equal(true);
      expect((await admin.setTeamBlocked(team.team_id, false))?.blocked).to.equal(false);
    });

    it('returns null for an unknown key or team', async () => {
      expect(await admin.setKeyBlocked('0'.repeat(64), true)).to.equal(null);
      expect(await admin.setTeamBlocked(uniqueId('team'), true)).to.equal(null);
    });
  });

  describe('setSpend', () => {
    it('overwrites the spend of each kind of row', async () => {
      const key = await admin.createKey();
      const team = await admin.createTeam();
      const user = await admin.createUser({ userId: uniqueId('user') });
      const endUser = await admin.createEndUser({ userId: uniqueId('customer') });
      const org = await admin.createOrganization({ alias: 'O' });
      const project = await rows.aProject();
      const tag = await rows.aTag();
      expect(await admin.setSpend('key', key.token, 1)).to.equal(true);
      expect(await admin.setSpend('team', team.team_id, 2)).to.equal(true);
      expect(await admin.setSpend('user', user.user_id, 3)).to.equal(true);
      expect(await admin.setSpend('end_user', endUser.user_id, 4)).to.equal(true);
      expect(await admin.setSpend('organization', org.organization_id, 5)).to.equal(true);
      expect(await admin.setSpend('project', project.project_id, 6)).to.equal(true);
      expect(await admin.setSpend('tag', tag.tag_name, 7)).to.equal(true);
      expect((await store.findKey(key.token))?.spend).to.equal(1);
      expect((await store.findTeam(team.team_id))?.spend).to.equal(2);
      expect((await store.findUser(user.user_id))?.spend).to.equal(3);
      expect((await store.findEndUser(endUser.user_id))?.spend).to.equal(4);
      expect((await store.findOrganization(org.organization_id))?.spend).to.equal(5);
      expect((await store.findProject(project.project_id))?.spend).to.equal(6);
      expect((await store.findTags([tag.tag_name]))[0]?.spend).to.equal(7);
    });

    it('overwrites a team member spend', async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5 });
      await admin.addTeamMember('member', team.team_id);
      expect(await admin.setSpend('team_membership', { userId: 'member', teamId: team.team_id }, 0.5)).to.equal(true);
      expect((await store.findMembership('member', team.team_id))?.spend).to.equal(0.5);
    });

    it('resolves false when there is no such row, even for an id full of SQL', async () => {
      expect(await admin.setSpend('team', "x' OR '1'='1", 99)).to.equal(false);
      const [row] = (await backend().dataSource.query('SELECT COUNT(*) AS n FROM LiteLLM_TeamTable WHERE spend = ?', [99])) as { n: number | string }[];
      expect(Number(row?.n)).to.equal(0);
    });
  });

  describe('addTeamMember', () => {
    it("creates the membership, adds the member to members_with_roles and to the user's teams", async () => {
      const user = await admin.createUser({ userId: uniqueId('user'), email: 'm@example.com' });
      const team = await admin.createTeam();
      const budget = await admin.createBudget({ maxBudget: 2 });
      const membership = await admin.addTeamMember(user.user_id, team.team_id, budget.budget_id);
      expect(membership).to.deep.include({ user_id: user.user_id, team_id: team.team_id, spend: 0 });
      expect(membership?.budget?.max_budget).to.equal(2);
      const teamRow = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id });
      expect(teamRow.members_with_roles).to.deep.equal([{ user_id: user.user_id, user_email: 'm@example.com', role: 'user' }]);
      const userRow = await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: user.user_id });
      expect(userRow.teams).to.deep.equal([team.team_id]);
    });

    it('writes no membership row for a member without a budget, as LiteLLM (no --budget, no team default)', async () => {
      const user = await admin.createUser({ userId: uniqueId('user') });
      const team = await admin.createTeam();
      expect(await admin.addTeamMember(user.user_id, team.team_id)).to.equal(null);
      expect(await backend().dataSource.getRepository(TeamMembershipRecord).countBy({ team_id: team.team_id })).to.equal(0);
      const teamRow = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id });
      expect(teamRow.members_with_roles).to.deep.equal([{ user_id: user.user_id, user_email: null, role: 'user' }]);
      const userRow = await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: user.user_id });
      expect(userRow.teams).to.deep.equal([team.team_id]);
    });

    it('refuses a user already in the team, as LiteLLM ("User already in team"), and changes nothing', async () => {
      const team = await admin.createTeam({ teamMemberBudget: 1 });
      const first = await admin.addTeamMember('twice', team.team_id);
      const other = await admin.createBudget({ maxBudget: 9 });
      await expectAdminError(admin.addTeamMember('twice', team.team_id), /already in team/);
      await expectAdminError(admin.addTeamMember('twice', team.team_id, other.budget_id), /already in team/);
      const teamRow = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id });
      expect(teamRow.members_with_roles).to.have.length(1);
      expect((await store.findMembership('twice', team.team_id))?.budget?.budget_id).to.equal(first?.budget?.budget_id);
    });

    it('keeps a membership row the team does not list when LiteLLM would write none, and refuses (writing nothing) where its insert would fail on it', async () => {
      const membershipRows = backend().dataSource.getRepository(TeamMembershipRecord);
      const own = await admin.createBudget({ maxBudget: 4 });
      const plain = await admin.createTeam();
      await membershipRows.insert({ user_id: 'unlisted', team_id: plain.team_id, spend: 0, total_spend: 0, budget_id: own.budget_id });
      await expectAdminError(admin.addTeamMember('unlisted', plain.team_id, own.budget_id), /already has a membership row .* the team does not list/);
      expect((await admin.addTeamMember('unlisted', plain.team_id))?.budget?.budget_id).to.equal(own.budget_id);
      const plainRow = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: plain.team_id });
      expect(plainRow.members_with_roles).to.deep.equal([{ user_id: 'unlisted', user_email: null, role: 'user' }]);

      // A team default member budget: LiteLLM's add_new_member would insert a row with a copy of it.
      const withDefault = await admin.createTeam({ teamMemberBudget: 1 });
      await membershipRows.insert({ user_id: 'unlisted', team_id: withDefault.team_id, spend: 0, total_spend: 0, budget_id: own.budget_id });
      const budgetsBefore = await backend().dataSource.getRepository(BudgetRecord).count();
      await expectAdminError(admin.addTeamMember('unlisted', withDefault.team_id), /already has a membership row .*(LiteLLM fails on it)/);
      expect(await backend().dataSource.getRepository(BudgetRecord).count(), 'no copy of the default left behind').to.equal(budgetsBefore);
      const defaultRow = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: withDefault.team_id });
      expect(defaultRow.members_with_roles).to.deep.equal([]);
      expect((await store.findMembership('unlisted', withDefault.team_id))?.budget?.budget_id).to.equal(own.budget_id);
    });

    it('refuses an unknown team', async () => {
      await expectAdminError(admin.addTeamMember('u', uniqueId('team')), /does not exist/);
    });
  });

  describe('updateTeamMember', () => {
    it("links a member's membership to another budget, and null unlinks it", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 1 });
      await admin.addTeamMember('changed', team.team_id);
      const own = await admin.createBudget({ maxBudget: 6 });
      expect((await admin.updateTeamMember('changed', team.team_id, { budgetId: own.budget_id })).membership?.budget?.budget_id).to.equal(own.budget_id);
      expect((await admin.updateTeamMember('changed', team.team_id, { budgetId: null })).membership?.budget).to.equal(null);
      expect((await store.findMembership('changed', team.team_id))?.budget).to.equal(null);
    });

    it('creates the membership row of a listed member without one, and none for no budget', async () => {
      const team = await admin.createTeam();
      await admin.addTeamMember('rowless', team.team_id);
      expect((await admin.updateTeamMember('rowless', team.team_id, { budgetId: null })).membership).to.equal(null);
      expect(await store.findMembership('rowless', team.team_id)).to.equal(null);
      const own = await admin.createBudget({ maxBudget: 3 });
      expect((await admin.updateTeamMember('rowless', team.team_id, { budgetId: own.budget_id })).membership).to.deep.include({ user_id: 'rowless', team_id: team.team_id, spend: 0 });
      expect((await store.findMembership('rowless', team.team_id))?.budget?.max_budget).to.equal(3);
    });

    /** The member's budget row as stored, and the membership's link to it. */
    async function memberBudget(userId: string, teamId: string): Promise<BudgetRecord | null> {
      const membership = await backend().dataSource.getRepository(TeamMembershipRecord).findOneByOrFail({ user_id: userId, team_id: teamId });
      return membership.budget_id === null ? null : backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: membership.budget_id });
    }

    it("gives a member linked to the team's default member budget its own copy with the amounts, the default and the other members unchanged (LiteLLM's clone on write)", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5, teamMemberBudgetDuration: '30d' });
      const defaultId = String(team.metadata['team_member_budget_id']);
      await backend().dataSource.getRepository(BudgetRecord).update({ budget_id: defaultId }, { tpm_limit: 700 });
      await admin.addTeamMember('copied', team.team_id);
      await admin.addTeamMember('kept', team.team_id);
      // As `team update` links them: both on the default row itself.
      await admin.updateTeamMember('copied', team.team_id, { budgetId: defaultId });
      await admin.updateTeamMember('kept', team.team_id, { budgetId: defaultId });
      const resetAt = (await memberBudget('copied', team.team_id))?.budget_reset_at;

      const result = await admin.updateTeamMember('copied', team.team_id, { maxBudgetInTeam: 2, rpmLimit: 3 });
      const copy = await memberBudget('copied', team.team_id);
      expect(copy?.budget_id).not.to.equal(defaultId);
      expect(result.budgetIds).to.deep.equal([copy?.budget_id]);
      expect(copy).to.deep.include({ max_budget: 2, rpm_limit: 3, tpm_limit: 700, budget_duration: '30d' });
      expect(copy?.budget_reset_at?.getTime(), "the default's window, not a fresh one").to.equal(resetAt?.getTime());
      expect(result.membership?.budget).to.deep.include({ budget_id: copy?.budget_id, max_budget: 2 });
      expect(await memberBudget('kept', team.team_id)).to.deep.include({ budget_id: defaultId, max_budget: 5, rpm_limit: null, tpm_limit: 700 });
    });

    it("changes a member's own budget row in place, keeping the amounts left out; `none` clears one, and clearing the last unlinks the row", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5 });
      const own = (await admin.addTeamMember('owner', team.team_id))?.budget?.budget_id;
      expect(own, "add-member's copy of the default").to.be.a('string');

      const raised = await admin.updateTeamMember('owner', team.team_id, { maxBudgetInTeam: 8, tpmLimit: 100 });
      expect(raised.budgetIds).to.deep.equal([own]);
      expect(await memberBudget('owner', team.team_id)).to.deep.include({ budget_id: own, max_budget: 8, tpm_limit: 100, rpm_limit: null });
      await admin.updateTeamMember('owner', team.team_id, { rpmLimit: 4 });
      expect(await memberBudget('owner', team.team_id)).to.deep.include({ budget_id: own, max_budget: 8, tpm_limit: 100, rpm_limit: 4 });

      await admin.updateTeamMember('owner', team.team_id, { maxBudgetInTeam: null, tpmLimit: null });
      expect(await memberBudget('owner', team.team_id)).to.deep.include({ budget_id: own, max_budget: null, tpm_limit: null, rpm_limit: 4 });
      const unlinked = await admin.updateTeamMember('owner', team.team_id, { rpmLimit: null });
      expect(unlinked).to.deep.include({ budgetIds: [] });
      expect(unlinked.membership?.budget).to.equal(null);
    });

    it('copies a row another member, or an end user, links too, instead of changing it', async () => {
      const team = await admin.createTeam();
      const shared = await admin.createBudget({ maxBudget: 6 });
      await admin.addTeamMember('first', team.team_id, shared.budget_id);
      await admin.addTeamMember('second', team.team_id, shared.budget_id);
      await admin.updateTeamMember('first', team.team_id, { maxBudgetInTeam: 1 });
      expect(await memberBudget('first', team.team_id)).to.deep.include({ max_budget: 1 }).and.not.include({ budget_id: shared.budget_id });
      expect(await memberBudget('second', team.team_id)).to.deep.include({ budget_id: shared.budget_id, max_budget: 6 });

      await admin.createEndUser({ userId: uniqueId('end-user'), budgetId: shared.budget_id });
      await admin.updateTeamMember('first', team.team_id, { budgetId: null });
      await admin.updateTeamMember('second', team.team_id, { budgetId: null });
      await admin.updateTeamMember('second', team.team_id, { budgetId: shared.budget_id });
      await admin.updateTeamMember('second', team.team_id, { maxBudgetInTeam: 2 });
      expect(await memberBudget('second', team.team_id)).to.deep.include({ max_budget: 2 }).and.not.include({ budget_id: shared.budget_id });
      expect(await backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: shared.budget_id })).to.deep.include({ max_budget: 6 });
    });

    it('keeps a row whose per-model budget is set, even to {}, when the amounts are cleared, as LiteLLM counts any value but None and []', async () => {
      const team = await admin.createTeam();
      const own = await admin.createBudget({ maxBudget: 4 });
      await backend().dataSource.getRepository(BudgetRecord).update({ budget_id: own.budget_id }, { model_max_budget: {} });
      await admin.addTeamMember('per-model', team.team_id, own.budget_id);
      const cleared = await admin.updateTeamMember('per-model', team.team_id, { maxBudgetInTeam: null });
      expect(cleared.budgetIds).to.deep.equal([own.budget_id]);
      expect(await memberBudget('per-model', team.team_id)).to.deep.include({ budget_id: own.budget_id, max_budget: null, model_max_budget: {} });
    });

    it("copies another team's default member budget, which only that team's metadata names, instead of changing that team's default", async () => {
      // Its members hold copies of the default (add-member), so no row but the metadata links it.
      const other = await admin.createTeam({ alias: 'other "team"', teamMemberBudget: 9 });
      const otherDefault = String(other.metadata['team_member_budget_id']);
      await admin.addTeamMember('other-member', other.team_id);
      const team = await admin.createTeam();
      await admin.addTeamMember('borrower', team.team_id, otherDefault);
      const result = await admin.updateTeamMember('borrower', team.team_id, { maxBudgetInTeam: 1 });
      expect(await memberBudget('borrower', team.team_id)).to.deep.include({ max_budget: 1 }).and.not.include({ budget_id: otherDefault });
      expect(result.budgetIds).to.have.length(1).and.not.include(otherDefault);
      expect(await backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: otherDefault })).to.deep.include({ max_budget: 9 });
    });

    it('creates a budget row and the membership of a listed member without one; amounts all `none` write nothing', async () => {
      const team = await admin.createTeam();
      await admin.addTeamMember('bare', team.team_id);
      expect(await admin.updateTeamMember('bare', team.team_id, { maxBudgetInTeam: null })).to.deep.equal({
        member: { user_id: 'bare', user_email: null, role: 'user' },
        membership: null,
        budgetIds: [],
      });
      expect(await store.findMembership('bare', team.team_id)).to.equal(null);
      const given = await admin.updateTeamMember('bare', team.team_id, { tpmLimit: 50 });
      expect(given.membership).to.deep.include({ user_id: 'bare', team_id: team.team_id, spend: 0 });
      expect(await memberBudget('bare', team.team_id)).to.deep.include({ budget_id: given.budgetIds[0], tpm_limit: 50, max_budget: null, budget_reset_at: null });
    });

    it("sets the member's role in members_with_roles, leaving the other entries and the admins column alone", async () => {
      const team = await admin.createTeam();
      await admin.addTeamMember('promoted', team.team_id);
      await admin.addTeamMember('other', team.team_id);
      expect(await admin.updateTeamMember('promoted', team.team_id, { role: 'admin' }), 'the entry as written').to.deep.equal({
        member: { user_id: 'promoted', user_email: null, role: 'admin' },
        membership: null,
        budgetIds: [],
      });
      const teamRow = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id });
      expect(teamRow.members_with_roles).to.deep.equal([
        { user_id: 'promoted', user_email: null, role: 'admin' },
        { user_id: 'other', user_email: null, role: 'user' },
      ]);
      expect(teamRow.admins).to.deep.equal([]);
      await admin.updateTeamMember('promoted', team.team_id, { role: 'user', maxBudgetInTeam: 3 });
      const after = await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id });
      expect(after.members_with_roles).to.deep.include({ user_id: 'promoted', user_email: null, role: 'user' });
      expect(await memberBudget('promoted', team.team_id)).to.deep.include({ max_budget: 3 });
    });

    it("sets a member's budget_duration and budget_reset_at to LiteLLM's next reset for it, on its own row or a copy of a shared one (a fresh window, not the shared row's); `none` clears both", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5, teamMemberBudgetDuration: '1d' });
      const defaultId = String(team.metadata['team_member_budget_id']);
      await admin.addTeamMember('windowed', team.team_id);
      await admin.updateTeamMember('windowed', team.team_id, { budgetId: defaultId });
      const copied = await admin.updateTeamMember('windowed', team.team_id, { budgetDuration: '30d' });
      const copy = await memberBudget('windowed', team.team_id);
      expect(copy?.budget_id).to.equal(copied.budgetIds[0]).and.not.equal(defaultId);
      expect(copy).to.deep.include({ max_budget: 5, budget_duration: '30d' });
      expect(copy?.budget_reset_at?.toISOString(), 'the 1st of next month').to.equal('2030-06-01T00:00:00.000Z');
      expect(copied.membership?.budget).to.deep.include({ budget_duration: '30d' });
      expect(await backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: defaultId })).to.deep.include({ budget_duration: '1d' });

      await admin.updateTeamMember('windowed', team.team_id, { budgetDuration: '1h' });
      expect(await memberBudget('windowed', team.team_id), 'in place').to.deep.include({ budget_id: copy?.budget_id, budget_duration: '1h' });
      expect((await memberBudget('windowed', team.team_id))?.budget_reset_at?.toISOString(), 'the next hour').to.equal('2030-05-06T08:00:00.000Z');
      await admin.updateTeamMember('windowed', team.team_id, { budgetDuration: null });
      expect(await memberBudget('windowed', team.team_id)).to.deep.include({ budget_id: copy?.budget_id, budget_duration: null, budget_reset_at: null, max_budget: 5 });
    });

    it("sets a member's allowed_models, what the team member model access check reads, on its own row or a copy; `none` clears them, the last limit unlinking the row", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5 });
      const defaultId = String(team.metadata['team_member_budget_id']);
      await admin.addTeamMember('limited', team.team_id);
      await admin.updateTeamMember('limited', team.team_id, { budgetId: defaultId });
      const copied = await admin.updateTeamMember('limited', team.team_id, { allowedModels: ['gpt-4o-mini'] });
      expect(copied.membership?.budget?.allowed_models).to.deep.equal(['gpt-4o-mini']);
      expect(copied.budgetIds).to.have.length(1).and.not.include(defaultId);
      expect((await store.findMembership('limited', team.team_id))?.budget).to.deep.include({ allowed_models: ['gpt-4o-mini'], max_budget: 5 });
      expect((await backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: defaultId })).allowed_models).to.deep.equal([]);

      await admin.updateTeamMember('limited', team.team_id, { allowedModels: ['gpt-4o', 'gpt-4o-mini'], maxBudgetInTeam: null });
      expect(await memberBudget('limited', team.team_id), 'in place').to.deep.include({ budget_id: copied.budgetIds[0], allowed_models: ['gpt-4o', 'gpt-4o-mini'], max_budget: null });
      const cleared = await admin.updateTeamMember('limited', team.team_id, { allowedModels: null });
      expect(cleared.budgetIds, 'nothing left to limit: unlinked').to.deep.equal([]);
      expect(cleared.membership?.budget).to.equal(null);
    });

    it("gives a member held to the team's default, with no budget row of its own, a new row of only the settings given, not a copy of the default (LiteLLM copies only a row the membership links)", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5, teamMemberBudgetDuration: '1d' });
      const defaultId = String(team.metadata['team_member_budget_id']);
      await admin.addTeamMember('fallback', team.team_id);
      await admin.updateTeamMember('fallback', team.team_id, { budgetId: null });
      const limited = await admin.updateTeamMember('fallback', team.team_id, { allowedModels: ['gpt-4o-mini'] });
      expect(limited.budgetIds).to.have.length(1).and.not.include(defaultId);
      // Its own row now wins over the default: the default's max_budget and window no longer hold it.
      expect(await memberBudget('fallback', team.team_id)).to.deep.include({
        budget_id: limited.budgetIds[0],
        allowed_models: ['gpt-4o-mini'],
        max_budget: null,
        budget_duration: null,
        budget_reset_at: null,
      });
    });

    it('refuses, writing nothing: no change, a negative or fractional amount, an unknown role or duration, a budget id with amounts, a role for a member the team does not list', async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5 });
      const own = await admin.addTeamMember('checked', team.team_id);
      const budgetsBefore = await backend().dataSource.getRepository(BudgetRecord).count();
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, {}), /nothing to change/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { maxBudgetInTeam: -1 }), /max budget in team must not be negative/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { tpmLimit: 1.5 }), /tpm limit must be a whole number/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { rpmLimit: -2 }), /rpm limit must not be negative/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { role: 'owner' as 'admin' }), /unknown team member role 'owner'/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { budgetId: null, maxBudgetInTeam: 1 }), /a budget id and budget amounts/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { budgetId: null, allowedModels: ['gpt-4o'] }), /a budget id and budget amounts/);
      await expectAdminError(admin.updateTeamMember('checked', team.team_id, { budgetDuration: 'soon' }), /budget duration must be a duration such as 1h/);
      await backend().dataSource.getRepository(TeamMembershipRecord).insert({ user_id: 'unlisted', team_id: team.team_id, spend: 0, total_spend: 0, budget_id: null });
      await expectAdminError(admin.updateTeamMember('unlisted', team.team_id, { role: 'admin', maxBudgetInTeam: 1 }), /not in its members_with_roles/);
      expect(await backend().dataSource.getRepository(BudgetRecord).count()).to.equal(budgetsBefore);
      expect(await memberBudget('checked', team.team_id)).to.deep.include({ budget_id: own?.budget?.budget_id, max_budget: 5 });
      expect(await memberBudget('unlisted', team.team_id)).to.equal(null);
    });

    it('refuses a user not in the team, an unknown team and an unknown budget', async () => {
      const team = await admin.createTeam();
      const own = await admin.createBudget({ maxBudget: 3 });
      await expectAdminError(admin.updateTeamMember('stranger', team.team_id, { budgetId: own.budget_id }), /not in team/);
      await expectAdminError(admin.updateTeamMember('stranger', uniqueId('team'), { budgetId: null }), /does not exist/);
      await admin.addTeamMember('listed', team.team_id);
      await expectAdminError(admin.updateTeamMember('listed', team.team_id, { budgetId: uniqueId('budget') }), /budget .* does not exist/);
      expect(await store.findMembership('stranger', team.team_id)).to.equal(null);
      expect(await store.findMembership('listed', team.team_id)).to.equal(null);
    });
  });

  describe('findKeyInfo and deleteKey', () => {
    it('finds a key by its hash, deletes it, and then no longer finds it', async () => {
      const created = await admin.createKey();
      expect(await admin.findKeyInfo(created.token)).to.deep.equal(created.virtualKey);
      expect(await admin.deleteKey(created.token)).to.equal(true);
      expect(await admin.findKeyInfo(created.token)).to.equal(null);
      expect(await admin.deleteKey(created.token)).to.equal(false);
    });
  });

  describe('ids the collation matches but no row holds (a trailing space)', () => {
    // The servers look ids up byte for byte; a write reaching the row through MariaDB's PAD SPACE
    // comparison would change a row they cache under another id, or point a key at no team.
    it('are refused as references, and change no row', async () => {
      const team = await admin.createTeam();
      const user = await admin.createUser({ userId: uniqueId('user') });
      const budget = await admin.createBudget({ maxBudget: 1 });
      await admin.addTeamMember(user.user_id, team.team_id, budget.budget_id);
      const key = await admin.createKey({ teamId: team.team_id });
      const padded = `${team.team_id} `;
      await expectAdminError(admin.createKey({ teamId: padded }), /team .* does not exist/);
      await expectAdminError(admin.createKey({ teamId: team.team_id, budgetId: `${budget.budget_id} ` }), /budget .* does not exist/);
      await expectAdminError(admin.addTeamMember(user.user_id, padded), /does not exist/);
      expect(await admin.setSpend('team', padded, 50)).to.equal(false);
      expect(await admin.setSpend('team_membership', { userId: `${user.user_id} `, teamId: team.team_id }, 50)).to.equal(false);
      expect(await admin.setTeamBlocked(padded, true)).to.equal(null);
      expect(await admin.setKeyBlocked(`${key.token} `, true)).to.equal(null);
      expect(await admin.deleteKey(`${key.token} `)).to.equal(false);
      expect(await store.findTeam(team.team_id)).to.deep.include({ spend: 0, blocked: false });
      expect((await store.findMembership(user.user_id, team.team_id))?.spend).to.equal(0);
      expect((await store.findKey(key.token))?.blocked).to.not.equal(true);
    });

    it('refuses a member whose user row is stored under another spelling', async function () {
      const team = await admin.createTeam();
      const user = await admin.createUser({ userId: uniqueId('user') });
      const found = await backend().dataSource.getRepository(UserRecord).findOneBy({ user_id: `${user.user_id} ` });
      if (found === null) this.skip(); // a collation that compares exactly (SQLite)
      await expectAdminError(admin.addTeamMember(`${user.user_id} `, team.team_id), /is stored as/);
    });
  });

  describe('ids containing SQL metacharacters', () => {
    it('are stored and found verbatim', async () => {
      const teamId = "x' OR '1'='1";
      const team = await admin.createTeam({ teamId });
      expect(team.team_id).to.equal(teamId);
      const key = await admin.createKey({ teamId });
      expect((await store.findKey(key.token))?.team_id).to.equal(teamId);
      const userId = 'robert"); DROP TABLE LiteLLM_UserTable;--';
      expect((await admin.createUser({ userId })).user_id).to.equal(userId);
    });
  });

  describe("budget_reset_at: LiteLLM's get_budget_reset_time, not now + the duration", () => {
    // A Monday, 07:08:09.010 UTC: now + 1d, 7d or 30d would fall at that time of day.
    const budgetRow = (budgetId: string) => backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: budgetId });

    afterEach(() => useBudgetResetZone(UTC_RESET_ZONE));

    it('puts it at the next midnight, Monday or 1st for a key, team, user and end user update', async () => {
      const { token } = await admin.createKey();
      await admin.updateKey(token, { budgetDuration: '1d' });
      expect((await backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token })).budget_reset_at?.toISOString()).to.equal('2030-05-07T00:00:00.000Z');
      const team = await admin.createTeam();
      await admin.updateTeam(team.team_id, { budgetDuration: '7d' });
      expect((await backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id })).budget_reset_at?.toISOString()).to.equal('2030-05-13T00:00:00.000Z');
      const userId = uniqueId('reset-user');
      await admin.createUser({ userId });
      await admin.updateUser(userId, { budgetDuration: '30d' });
      expect((await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: userId })).budget_reset_at?.toISOString()).to.equal('2030-06-01T00:00:00.000Z');
      const endUserId = uniqueId('reset-end-user');
      await admin.createEndUser({ userId: endUserId });
      const endUser = await admin.updateEndUser(endUserId, { budgetDuration: '3d' });
      expect((await budgetRow(endUser?.budget_id ?? '')).budget_reset_at?.toISOString(), 'midnight + 3 days').to.equal('2030-05-09T00:00:00.000Z');
    });

    it('aligns it in the configured litellm_settings.timezone', async () => {
      useBudgetResetZone(resetZoneOf('Asia/Kolkata'));
      const { token } = await admin.createKey();
      await admin.updateKey(token, { budgetDuration: '1d' });
      // 12:38 in Kolkata (UTC+05:30): its next midnight.
      expect((await backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token })).budget_reset_at?.toISOString()).to.equal('2030-05-06T18:30:00.000Z');
    });

    it("starts the window of a team's default member budget created with the team, as LiteLLM's /budget/new does", async () => {
      const team = await admin.createTeam({ teamMemberBudget: 5, teamMemberBudgetDuration: '7d' });
      expect(await budgetRow(String(team.metadata['team_member_budget_id']))).to.deep.include({ budget_duration: '7d' });
      expect((await budgetRow(String(team.metadata['team_member_budget_id']))).budget_reset_at?.toISOString(), 'the next Monday').to.equal('2030-05-13T00:00:00.000Z');
      const unwindowed = await admin.createTeam({ teamMemberBudget: 5 });
      expect((await budgetRow(String(unwindowed.metadata['team_member_budget_id']))).budget_reset_at).to.equal(null);
      const teamId = uniqueId('team-2mo');
      await expectAdminError(admin.createTeam({ teamId, teamMemberBudget: 5, teamMemberBudgetDuration: '2mo' }), /2mo.*every 1mo/);
      expect(await backend().dataSource.getRepository(TeamRecord).findOneBy({ team_id: teamId })).to.equal(null);
    });

    it('refuses a duration LiteLLM cannot reset by (2mo), writing nothing', async () => {
      const { token } = await admin.createKey();
      await expectAdminError(admin.updateKey(token, { budgetDuration: '2mo' }), /2mo.*every 1mo/);
      expect((await backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token })).budget_duration).to.equal(null);
    });
  });
});

async function expectAdminError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AdminInputError);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected an AdminInputError matching ${message}`);
}
