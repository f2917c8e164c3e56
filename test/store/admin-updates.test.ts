/**
 * `tollgate key|team|user|end-user update`: the columns named change, every other column stays,
 * `null` clears, and a refused update writes nothing.
 */
import { expect } from 'chai';
import type { ObjectLiteral } from 'typeorm';
import { AdminInputError, AdminStore, DEFAULT_ACTOR, type NewBudgetWindow } from '../../src/store/admin-store';
import { BudgetRecord, EndUserRecord, TeamRecord, UserRecord, VerificationTokenRecord } from '../../src/store/entities';
import type { JsonObject } from '../../src/domain/entities';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

const CREATED_AT = new Date('2030-05-06T07:08:09.010Z');
const UPDATED_AT = new Date('2030-06-01T00:00:00.000Z');

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AdminInputError);
    return (error as Error).message;
  }
  return expect.fail('expected an AdminInputError');
}

/** The row without the columns named: what an update must leave as it was. */
function without<R extends ObjectLiteral>(row: R, columns: readonly string[]): Partial<R> {
  return Object.fromEntries(Object.entries(row).filter(([column]) => !columns.includes(column))) as Partial<R>;
}

/** A value as an operator's JSON would give it, whatever its shape. */
const given = (json: string): JsonObject => JSON.parse(json) as JsonObject;

describeEachBackend('AdminStore updates', (backend) => {
  let creator: AdminStore;
  let admin: AdminStore;

  before(() => {
    creator = new AdminStore(backend().dataSource, backend().settings, { now: () => CREATED_AT });
    admin = new AdminStore(backend().dataSource, backend().settings, { now: () => UPDATED_AT, actor: 'ops' });
  });

  const keyRow = (token: string) => backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token });
  const teamRow = (teamId: string) => backend().dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: teamId });
  const userRow = (userId: string) => backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: userId });
  const endUserRow = (userId: string) => backend().dataSource.getRepository(EndUserRecord).findOneByOrFail({ user_id: userId });
  const budgetRow = (budgetId: string) => backend().dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: budgetId });
  const budgetCount = () => backend().dataSource.getRepository(BudgetRecord).count();

  describe('updateKey', () => {
    async function aKey() {
      const team = await creator.createTeam();
      const created = await creator.createKey({
        teamId: team.team_id,
        alias: uniqueId('alias'),
        models: ['gpt-4o'],
        maxBudget: 10,
        metadata: { owner: 'a' },
        allowedRoutes: ['/v1/chat/completions'],
        modelMaxBudget: { 'gpt-4o': { budget_duration: '1d', max_budget: 1 } },
        budgetLimits: [{ budget_duration: '1d', max_budget: 2 }],
        expires: new Date('2031-01-01T00:00:00.000Z'),
      });
      await creator.setSpend('key', created.token, 4);
      return created.token;
    }

    it('changes the columns named, with the audit columns, and leaves every other column as it was', async () => {
      const token = await aKey();
      const before = await keyRow(token);
      const updated = await admin.updateKey(token, { maxBudget: 3, models: ['gpt-4o-mini'], tpmLimit: 1000, rpmLimit: 10 });
      expect(updated).to.deep.include({ token, max_budget: 3, models: ['gpt-4o-mini'], tpm_limit: 1000, rpm_limit: 10, spend: 4 });
      const after = await keyRow(token);
      expect(after).to.deep.include({ max_budget: 3, models: ['gpt-4o-mini'], tpm_limit: 1000, rpm_limit: 10, updated_by: 'ops' });
      expect(after.updated_at?.toISOString()).to.equal(UPDATED_AT.toISOString());
      const changed = ['max_budget', 'models', 'tpm_limit', 'rpm_limit', 'updated_at', 'updated_by'];
      expect(without(after, changed)).to.deep.equal(without(before, changed));
    });

    it("sets a fresh budget_reset_at (LiteLLM's next standardized reset) with a new budget_duration, as LiteLLM's /key/update", async () => {
      const token = await aKey();
      const updated = await admin.updateKey(token, { budgetDuration: '30d' });
      expect(updated?.budget_duration).to.equal('30d');
      expect((await keyRow(token)).budget_reset_at?.toISOString()).to.equal('2030-07-01T00:00:00.000Z');
      await admin.updateKey(token, { budgetDuration: '1mo' });
      expect((await keyRow(token)).budget_reset_at?.toISOString()).to.equal('2030-07-01T00:00:00.000Z');
    });

    it('clears what null names: numbers and ids to NULL, lists to [], objects to {}, the duration with its reset date', async () => {
      const token = await aKey();
      await admin.updateKey(token, { budgetDuration: '1d', tpmLimit: 5 });
      await admin.updateKey(token, {
        maxBudget: null,
        models: null,
        teamId: null,
        alias: null,
        expires: null,
        metadata: null,
        allowedRoutes: null,
        modelMaxBudget: null,
        budgetLimits: null,
        budgetDuration: null,
        tpmLimit: null,
      });
      expect(await keyRow(token)).to.deep.include({
        max_budget: null,
        models: [],
        team_id: null,
        key_alias: null,
        expires: null,
        metadata: {},
        allowed_routes: [],
        model_max_budget: {},
        budget_limits: null,
        budget_duration: null,
        budget_reset_at: null,
        tpm_limit: null,
        spend: 4,
      });
    });

    it('stores per-model budgets and windows as create stores them', async () => {
      const token = await aKey();
      const updated = await admin.updateKey(token, {
        modelMaxBudget: { 'gpt-4o-mini': { budget_duration: '7d', max_budget: 2 } },
        budgetLimits: [{ budget_duration: '1h', max_budget: 0.5 }],
      });
      expect(updated?.model_max_budget).to.deep.equal({ 'gpt-4o-mini': { budget_duration: '7d', max_budget: 2 } });
      expect(updated?.budget_limits).to.deep.equal([{ budget_duration: '1h', max_budget: 0.5, reset_at: null }]);
    });

    it('refuses what create refuses, a missing team or budget, and a taken alias, and writes nothing', async () => {
      const token = await aKey();
      const other = await creator.createKey({ alias: uniqueId('taken') });
      const before = await keyRow(token);
      expect(await refusal(admin.updateKey(token, { maxBudget: 1, modelMaxBudget: given('{"gpt-4o": {"max_budget": 5}}') }))).to.match(
        /"gpt-4o": budget_duration must be a duration/,
      );
      expect(await refusal(admin.updateKey(token, { maxBudget: -1 }))).to.match(/max budget must not be negative/);
      expect(await refusal(admin.updateKey(token, { maxBudget: 1, budgetLimits: [{ budget_duration: 'soon', max_budget: 1 }] }))).to.match(
        /budget limit 1: budget_duration must be a duration/,
      );
      expect(await refusal(admin.updateKey(token, { maxBudget: 1, budgetDuration: 'fortnight' }))).to.match(/budget duration must be a duration/);
      expect(await refusal(admin.updateKey(token, { tpmLimit: 1.5 }))).to.match(/tpm limit must be a whole number/);
      expect(await refusal(admin.updateKey(token, { maxBudget: 1, teamId: uniqueId('no-team') }))).to.match(/^team .* does not exist$/);
      expect(await refusal(admin.updateKey(token, { maxBudget: 1, budgetId: uniqueId('no-budget') }))).to.match(/^budget .* does not exist$/);
      expect(await refusal(admin.updateKey(token, { maxBudget: 1, alias: other.virtualKey.key_alias }))).to.match(/^key alias .* already exists$/);
      expect(await keyRow(token)).to.deep.equal(before);
    });

    it('keeps its own alias when it is given again', async () => {
      const token = await aKey();
      const alias = (await keyRow(token)).key_alias;
      expect((await admin.updateKey(token, { alias, maxBudget: 1 }))?.key_alias).to.equal(alias);
    });

    it('refuses an update that names nothing', async () => {
      const token = await aKey();
      expect(await refusal(admin.updateKey(token, {}))).to.match(/^nothing to change/);
      expect(await refusal(admin.updateKey(token, { maxBudget: undefined }))).to.match(/^nothing to change/);
    });

    it('resolves null for an unknown key, and writes nothing', async () => {
      const keys = backend().dataSource.getRepository(VerificationTokenRecord);
      const count = await keys.count();
      expect(await admin.updateKey('0'.repeat(64), { maxBudget: 1 })).to.equal(null);
      expect(await keys.count()).to.equal(count);
    });
  });

  describe('updateTeam', () => {
    it('changes the columns named and leaves every other column as it was', async () => {
      const team = await creator.createTeam({ alias: uniqueId('t'), maxBudget: 10, softBudget: 5, models: ['gpt-4o'], metadata: { owner: 'a' } });
      await creator.setSpend('team', team.team_id, 7);
      const before = await teamRow(team.team_id);
      const updated = await admin.updateTeam(team.team_id, { maxBudget: 20, models: ['gpt-4o', 'o1'], budgetDuration: '7d', rpmLimit: 60 });
      expect(updated).to.deep.include({ max_budget: 20, models: ['gpt-4o', 'o1'], budget_duration: '7d', rpm_limit: 60, spend: 7, soft_budget: 5 });
      const after = await teamRow(team.team_id);
      expect(after.budget_reset_at?.toISOString(), 'the next Monday').to.equal('2030-06-03T00:00:00.000Z');
      expect(after.updated_at.toISOString()).to.equal(UPDATED_AT.toISOString());
      const changed = ['max_budget', 'models', 'budget_duration', 'budget_reset_at', 'rpm_limit', 'updated_at'];
      expect(without(after, changed)).to.deep.equal(without(before, changed));
    });

    it('clears what null names', async () => {
      const team = await creator.createTeam({
        alias: uniqueId('t'),
        maxBudget: 10,
        softBudget: 5,
        models: ['gpt-4o'],
        modelMaxBudget: { 'gpt-4o': { budget_duration: '1d', max_budget: 1 } },
        budgetLimits: [{ budget_duration: '1d', max_budget: 1 }],
      });
      const updated = await admin.updateTeam(team.team_id, { maxBudget: null, softBudget: null, models: null, alias: null, modelMaxBudget: null, budgetLimits: null });
      expect(updated).to.deep.include({ max_budget: null, soft_budget: null, models: [], team_alias: null, model_max_budget: {}, budget_limits: [] });
    });

    it("changes the member budget row named in metadata.team_member_budget_id, with a fresh reset date for a new duration", async () => {
      const team = await creator.createTeam({ teamMemberBudget: 2, teamMemberBudgetDuration: '30d' });
      const budgetId = team.metadata['team_member_budget_id'] as string;
      const budgets = await budgetCount();
      const updated = await admin.updateTeam(team.team_id, { teamMemberBudget: 5, teamMemberBudgetDuration: '1d' });
      expect(updated?.metadata['team_member_budget_id']).to.equal(budgetId);
      expect(await budgetCount()).to.equal(budgets);
      const row = await budgetRow(budgetId);
      expect(row).to.deep.include({ max_budget: 5, budget_duration: '1d', updated_by: 'ops' });
      expect(row.budget_reset_at?.toISOString()).to.equal('2030-06-02T00:00:00.000Z');
      await admin.updateTeam(team.team_id, { teamMemberBudget: null });
      expect(await budgetRow(budgetId)).to.deep.include({ max_budget: null, budget_duration: '1d' });
    });

    it('creates the member budget row, named as team create names it, for a team without one, keeping its metadata', async () => {
      const alias = uniqueId('data science');
      const team = await creator.createTeam({ alias, metadata: { owner: 'ops' } });
      const updated = await admin.updateTeam(team.team_id, { teamMemberBudget: 3, teamMemberBudgetDuration: '7d' });
      const budgetId = updated?.metadata['team_member_budget_id'];
      expect(budgetId).to.be.a('string').and.match(new RegExp(`^team-${alias.replaceAll(' ', '-')}-budget-[0-9a-f]{32}$`));
      expect(updated?.metadata['owner']).to.equal('ops');
      const row = await budgetRow(budgetId as string);
      expect(row).to.deep.include({ max_budget: 3, budget_duration: '7d' });
      expect(row.budget_reset_at?.toISOString(), 'the next Monday').to.equal('2030-06-03T00:00:00.000Z');
    });

    it('refuses a member budget duration for a team without a member budget, and creates no row', async () => {
      const team = await creator.createTeam();
      const budgets = await budgetCount();
      expect(await refusal(admin.updateTeam(team.team_id, { teamMemberBudgetDuration: '1d' }))).to.match(/needs a team member budget/);
      expect(await budgetCount()).to.equal(budgets);
    });

    it('replaces the metadata, keeping the fields the member options manage, and sets or clears member model budgets', async () => {
      const team = await creator.createTeam({ metadata: { owner: 'a', tier: 'gold' }, teamMemberBudget: 1, teamMemberModelMaxBudget: { 'gpt-4o': { max_budget: 2 } } });
      const budgetId = team.metadata['team_member_budget_id'];
      const replaced = await admin.updateTeam(team.team_id, { metadata: { owner: 'b' } });
      expect(replaced?.metadata).to.deep.equal({ owner: 'b', team_member_budget_id: budgetId, team_member_model_max_budget: { 'gpt-4o': { max_budget: 2 } } });
      const changed = await admin.updateTeam(team.team_id, { teamMemberModelMaxBudget: { o1: { max_budget: 4 } } });
      expect(changed?.metadata).to.deep.equal({ owner: 'b', team_member_budget_id: budgetId, team_member_model_max_budget: { o1: { max_budget: 4 } } });
      const cleared = await admin.updateTeam(team.team_id, { teamMemberModelMaxBudget: null });
      expect(cleared?.metadata).to.deep.equal({ owner: 'b', team_member_budget_id: budgetId });
    });

    it('refuses what team create refuses, a taken alias or a missing organization, and writes nothing', async () => {
      const taken = uniqueId('taken');
      await creator.createTeam({ alias: taken });
      const team = await creator.createTeam({ teamMemberBudget: 1 });
      const budgetId = team.metadata['team_member_budget_id'] as string;
      const before = await teamRow(team.team_id);
      const memberBudgetBefore = await budgetRow(budgetId);
      const refuse = (changes: Parameters<AdminStore['updateTeam']>[1]) => refusal(admin.updateTeam(team.team_id, changes));
      expect(await refuse({ maxBudget: 1, alias: taken })).to.match(/^team alias .* already exists$/);
      expect(await refuse({ maxBudget: 1, organizationId: uniqueId('org') })).to.match(/^organization .* does not exist$/);
      expect(await refuse({ maxBudget: 1, modelMaxBudget: given('{"gpt-4o": {"budget_limit": 4, "time_period": "30d"}}') })).to.match(/unexpected field "budget_limit"/);
      expect(await refuse({ teamMemberBudget: 3, teamMemberModelMaxBudget: given('{"gpt-4o": {"budget_limit": 4}}') })).to.match(/unexpected field "budget_limit"/);
      expect(await refuse({ teamMemberBudget: 3, metadata: { team_member_budget_id: 'other' } })).to.match(/give one/);
      expect(await refuse({ maxBudget: 1, teamMemberBudget: -1 })).to.match(/team member budget must not be negative/);
      expect(await refuse({ teamMemberBudget: 3, teamMemberBudgetDuration: 'soon' })).to.match(/team member budget duration must be a duration/);
      expect(await teamRow(team.team_id)).to.deep.equal(before);
      expect(await budgetRow(budgetId)).to.deep.equal(memberBudgetBefore);
    });

    it('resolves null for an unknown team, and writes nothing', async () => {
      const teams = backend().dataSource.getRepository(TeamRecord);
      const [count, budgets] = [await teams.count(), await budgetCount()];
      expect(await admin.updateTeam(uniqueId('no-team'), { maxBudget: 1, teamMemberBudget: 2 })).to.equal(null);
      expect([await teams.count(), await budgetCount()]).to.deep.equal([count, budgets]);
    });
  });

  describe('updateUser', () => {
    it('changes the columns named and leaves every other column as it was', async () => {
      const userId = uniqueId('user');
      await creator.createUser({ userId, email: 'a@example.com', maxBudget: 10, models: ['gpt-4o'] });
      await creator.setSpend('user', userId, 3);
      const before = await userRow(userId);
      const updated = await admin.updateUser(userId, { role: 'proxy_admin', maxBudget: 2, budgetDuration: '1h', tpmLimit: 100 });
      expect(updated).to.deep.include({ user_role: 'proxy_admin', max_budget: 2, budget_duration: '1h', tpm_limit: 100, spend: 3, user_email: 'a@example.com' });
      const after = await userRow(userId);
      expect(after.budget_reset_at?.toISOString()).to.equal('2030-06-01T01:00:00.000Z');
      const changed = ['user_role', 'max_budget', 'budget_duration', 'budget_reset_at', 'tpm_limit', 'updated_at'];
      expect(without(after, changed)).to.deep.equal(without(before, changed));
    });

    it('clears what null names, and stores windows as create does', async () => {
      const userId = uniqueId('user');
      await creator.createUser({ userId, email: 'a@example.com', maxBudget: 10, models: ['gpt-4o'] });
      const windows: NewBudgetWindow[] = [{ budget_duration: '1d', max_budget: 1 }];
      expect(await admin.updateUser(userId, { email: null, maxBudget: null, models: null, budgetLimits: windows })).to.deep.include({
        user_email: null,
        max_budget: null,
        models: [],
        budget_limits: [{ budget_duration: '1d', max_budget: 1, reset_at: null }],
      });
      expect((await admin.updateUser(userId, { budgetLimits: null }))?.budget_limits ?? []).to.deep.equal([]);
    });

    it('refuses an unknown role or a negative budget, and writes nothing; resolves null for an unknown user', async () => {
      const userId = uniqueId('user');
      await creator.createUser({ userId, maxBudget: 10 });
      const before = await userRow(userId);
      expect(await refusal(admin.updateUser(userId, { role: 'root' as never }))).to.match(/unknown user role/);
      expect(await refusal(admin.updateUser(userId, { models: ['a'], maxBudget: -2 }))).to.match(/must not be negative/);
      expect(await userRow(userId)).to.deep.equal(before);
      expect(await admin.updateUser(uniqueId('nobody'), { maxBudget: 1 })).to.equal(null);
      expect(await backend().dataSource.getRepository(UserRecord).existsBy({ user_id: uniqueId('nobody') })).to.equal(false);
    });
  });

  describe('updateEndUser', () => {
    it("changes the budget row it is linked to (as LiteLLM's /customer/update), leaving the row's other settings", async () => {
      const userId = uniqueId('customer');
      const created = await creator.createEndUser({ userId, maxBudget: 10 });
      const budgetId = created.budget_id as string;
      await admin.updateEndUser(userId, { tpmLimit: 100 });
      const before = await budgetRow(budgetId);
      const updated = await admin.updateEndUser(userId, { maxBudget: 2, budgetDuration: '1d' });
      expect(updated?.budget_id).to.equal(budgetId);
      expect(updated?.budget).to.deep.include({ budget_id: budgetId, max_budget: 2, budget_duration: '1d', tpm_limit: 100 });
      const after = await budgetRow(budgetId);
      expect(after.budget_reset_at?.toISOString()).to.equal('2030-06-02T00:00:00.000Z');
      const changed = ['max_budget', 'budget_duration', 'budget_reset_at', 'updated_at', 'updated_by'];
      expect(without(after, changed)).to.deep.equal(without(before, changed));
    });

    it('creates a budget row for an end user without one, as end-user create does', async () => {
      const userId = uniqueId('customer');
      await creator.createEndUser({ userId });
      const updated = await admin.updateEndUser(userId, { maxBudget: 4, rpmLimit: 6 });
      expect(updated?.budget_id).to.be.a('string');
      expect(await budgetRow(updated?.budget_id as string)).to.deep.include({ max_budget: 4, rpm_limit: 6, tpm_limit: null });
      expect((await endUserRow(userId)).budget_id).to.equal(updated?.budget_id);
    });

    it('clears a setting of its budget row, and creates no row to clear one in', async () => {
      const userId = uniqueId('customer');
      const created = await creator.createEndUser({ userId, maxBudget: 10 });
      expect((await admin.updateEndUser(userId, { maxBudget: null }))?.budget).to.deep.include({ budget_id: created.budget_id, max_budget: null });
      const bare = uniqueId('customer');
      await creator.createEndUser({ userId: bare });
      const budgets = await budgetCount();
      expect((await admin.updateEndUser(bare, { maxBudget: null }))?.budget_id).to.equal(null);
      expect(await budgetCount()).to.equal(budgets);
    });

    it('relinks it to an existing budget row or to none, and changes its windows', async () => {
      const userId = uniqueId('customer');
      await creator.createEndUser({ userId, maxBudget: 10 });
      const shared = await creator.createBudget({ maxBudget: 50 });
      expect(await admin.updateEndUser(userId, { budgetId: shared.budget_id, budgetLimits: [{ budget_duration: '7d', max_budget: 3 }] })).to.deep.include({
        budget_id: shared.budget_id,
        budget_limits: [{ budget_duration: '7d', max_budget: 3, reset_at: null }],
      });
      expect(await endUserRow(userId)).to.deep.include({ budget_id: shared.budget_id });
      expect((await admin.updateEndUser(userId, { budgetId: null }))?.budget_id).to.equal(null);
    });

    it('refuses a budget id together with budget settings, a missing budget row, bad settings, and writes nothing', async () => {
      const userId = uniqueId('customer');
      const created = await creator.createEndUser({ userId, maxBudget: 10 });
      const other = await creator.createBudget({ maxBudget: 1 });
      const [before, budgetBefore, budgets] = [await endUserRow(userId), await budgetRow(created.budget_id as string), await budgetCount()];
      expect(await refusal(admin.updateEndUser(userId, { budgetId: other.budget_id, maxBudget: 2 }))).to.match(/give one/);
      expect(await refusal(admin.updateEndUser(userId, { budgetId: uniqueId('none') }))).to.match(/^budget .* does not exist$/);
      expect(await refusal(admin.updateEndUser(userId, { maxBudget: 2, rpmLimit: -1 }))).to.match(/rpm limit must not be negative/);
      expect(await refusal(admin.updateEndUser(userId, { maxBudget: 2, budgetLimits: [{ budget_duration: '1d', max_budget: 1 }, { budget_duration: '1d', max_budget: 2 }] }))).to.match(
        /a second window of 1d/,
      );
      expect([await endUserRow(userId), await budgetRow(created.budget_id as string), await budgetCount()]).to.deep.equal([before, budgetBefore, budgets]);
    });

    it('lists the end users sharing its budget row, what a change of that row must announce', async () => {
      const shared = await creator.createBudget({ maxBudget: 5 });
      const [a, b] = [uniqueId('customer'), uniqueId('customer')];
      await creator.createEndUser({ userId: a, budgetId: shared.budget_id });
      await creator.createEndUser({ userId: b, budgetId: shared.budget_id });
      const scope = await admin.endUserBudgetScope(a);
      expect(scope.budgetId).to.equal(shared.budget_id);
      expect([...scope.endUserIds].sort()).to.deep.equal([a, b].sort());
      await admin.updateEndUser(a, { maxBudget: 6 });
      expect((await budgetRow(shared.budget_id)).max_budget).to.equal(6);
    });

    it('resolves null for an unknown end user, and creates no budget row', async () => {
      const budgets = await budgetCount();
      expect(await admin.updateEndUser(uniqueId('nobody'), { maxBudget: 1 })).to.equal(null);
      expect(await budgetCount()).to.equal(budgets);
    });
  });

  it('writes the actor it was given to updated_by, DEFAULT_ACTOR otherwise', async () => {
    const created = await creator.createKey();
    await new AdminStore(backend().dataSource, backend().settings).updateKey(created.token, { maxBudget: 1 });
    expect((await keyRow(created.token)).updated_by).to.equal(DEFAULT_ACTOR);
  });
});
