import { expect } from 'chai';
import type { JsonObject } from '../../src/domain/entities';
import { AdminInputError, AdminStore } from '../../src/store/admin-store';
import { modelMaxBudget, teamMemberModelMaxBudget } from '../../src/cli/admin-commands';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AdminInputError);
    return (error as Error).message;
  }
  return expect.fail('expected an AdminInputError');
}

/** A value as an operator's JSON would give it, whatever its shape. */
const given = (json: string): JsonObject => JSON.parse(json) as JsonObject;

describe('--model-max-budget, --team-member-model-max-budget (tollgate team create, key create)', () => {
  it('reads a JSON object, naming the option when it is not one', () => {
    expect(modelMaxBudget('{"gpt-4o":{"budget_duration":"1d","max_budget":5}}')).to.deep.equal({ 'gpt-4o': { budget_duration: '1d', max_budget: 5 } });
    expect(() => modelMaxBudget('[]')).to.throw(AdminInputError, /^--model-max-budget: expected a JSON object/);
    expect(() => teamMemberModelMaxBudget('{')).to.throw(AdminInputError, /^--team-member-model-max-budget: not valid JSON/);
  });
});

describeEachBackend('AdminStore: team and key budgets of newer LiteLLM', (backend) => {
  let admin: AdminStore;
  let store: TypeOrmAuthStore;

  before(() => {
    admin = new AdminStore(backend().dataSource, backend().settings);
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
  });

  it("stores a team's per-model budgets and windows, as the store reads them back", async () => {
    const team = await admin.createTeam({
      modelMaxBudget: { 'gpt-4o': { budget_duration: '1d', max_budget: 5 }, 'openai/gpt-4o-mini': { budget_duration: '1mo', max_budget: 0 } },
      budgetLimits: [{ budget_duration: '1h', max_budget: 1 }],
    });
    expect(team.model_max_budget).to.deep.equal({ 'gpt-4o': { budget_duration: '1d', max_budget: 5 }, 'openai/gpt-4o-mini': { budget_duration: '1mo', max_budget: 0 } });
    expect(team.budget_limits).to.deep.equal([{ budget_duration: '1h', max_budget: 1, reset_at: null }]);
    expect((await admin.createTeam()).model_max_budget ?? {}).to.deep.equal({});
  });

  it("creates the team member budget row and names it in metadata.team_member_budget_id, as LiteLLM's TeamMemberBudgetHandler", async () => {
    const alias = uniqueId('data science');
    const team = await admin.createTeam({ alias, metadata: { owner: 'ops' }, teamMemberBudget: 2.5, teamMemberBudgetDuration: '30d' });
    const budgetId = team.metadata['team_member_budget_id'];
    expect(budgetId).to.be.a('string').and.match(new RegExp(`^team-${alias.replaceAll(' ', '-')}-budget-[0-9a-f]{32}$`));
    expect(team.metadata['owner']).to.equal('ops');
    expect(await store.findBudget(budgetId as string)).to.deep.include({ max_budget: 2.5, budget_duration: '30d' });
    const unnamed = await admin.createTeam({ teamMemberBudget: 0 });
    expect(unnamed.metadata['team_member_budget_id']).to.match(/^team-budget-[0-9a-f]{32}$/);
    expect((await admin.createTeam()).metadata).to.not.have.property('team_member_budget_id');
  });

  it('stores team member model budgets in the metadata', async () => {
    const team = await admin.createTeam({ teamMemberModelMaxBudget: { 'gpt-4o': { max_budget: 5 } } });
    expect(team.metadata['team_member_model_max_budget']).to.deep.equal({ 'gpt-4o': { max_budget: 5 } });
  });

  it("stores a key's per-model budgets and windows", async () => {
    const created = await admin.createKey({ modelMaxBudget: { 'gpt-4o': { budget_duration: '7d', max_budget: 3 } }, budgetLimits: [{ budget_duration: '1d', max_budget: 2 }] });
    expect(created.virtualKey.model_max_budget).to.deep.equal({ 'gpt-4o': { budget_duration: '7d', max_budget: 3 } });
    expect(created.virtualKey.budget_limits).to.deep.equal([{ budget_duration: '1d', max_budget: 2, reset_at: null }]);
  });

  it('refuses per-model budgets the checks would ignore, and writes nothing', async () => {
    const teamId = uniqueId('team');
    const team = (json: string) => admin.createTeam({ teamId, modelMaxBudget: given(json) });
    expect(await refusal(team('{"gpt-4o": {"max_budget": 5}}'))).to.match(/"gpt-4o": budget_duration must be a duration/);
    expect(await refusal(team('{"gpt-4o": {"budget_duration": "fortnight", "max_budget": 5}}'))).to.match(/budget_duration must be a duration/);
    expect(await refusal(team('{"gpt-4o": {"budget_duration": "0d", "max_budget": 5}}'))).to.match(/budget_duration must be a duration/);
    expect(await refusal(team('{"gpt-4o": {"budget_duration": "1d"}}'))).to.match(/max_budget must be a finite number/);
    expect(await refusal(team('{"gpt-4o": {"budget_duration": "1d", "max_budget": "5"}}'))).to.match(/max_budget must be a finite number/);
    expect(await refusal(team('{"gpt-4o": {"budget_duration": "1d", "max_budget": -1}}'))).to.match(/max_budget must not be negative/);
    expect(await refusal(team('{"gpt-4o": {"time_period": "1d", "budget_limit": 5}}'))).to.match(/unexpected field "time_period"/);
    expect(await refusal(team('{"gpt-4o": 5}'))).to.match(/expected \{"budget_duration", "max_budget"\}/);
    expect(await refusal(admin.createKey({ modelMaxBudget: given('{"gpt-4o": {"budget_duration": "1d"}}') }))).to.match(/max_budget/);
    expect(await refusal(admin.createKey({ budgetLimits: [{ budget_duration: 'never', max_budget: 1 }] }))).to.match(/budget limit 1: budget_duration/);
    expect(await refusal(admin.createTeam({ teamId, budgetLimits: [{ budget_duration: '1d', max_budget: -2 }] }))).to.match(/must not be negative/);
    expect((await admin.createTeam({ teamId })).team_id).to.equal(teamId);
  });

  it('refuses team member budgets the checks would ignore or misread, and writes no budget row', async () => {
    const teamId = uniqueId('team');
    const member = (json: string) => admin.createTeam({ teamId, teamMemberModelMaxBudget: given(json) });
    expect(await refusal(member('{"gpt-4o": {}}'))).to.match(/max_budget must be a finite number/);
    expect(await refusal(member('{"gpt-4o": {"max_budget": true}}'))).to.match(/max_budget must be a finite number/);
    expect(await refusal(member('{"gpt-4o": {"budget_limit": 4, "time_period": "30d"}}'))).to.match(/unexpected field "budget_limit"/);
    expect(await refusal(member('{"gpt-4o": {"max_budget": 4, "budget_duration": "30d"}}'))).to.match(/unexpected field "budget_duration"/);
    expect(await refusal(admin.createTeam({ teamId, metadata: { team_member_model_max_budget: { 'gpt-4o': 'five' } } }))).to.match(/expected \{"max_budget"/);
    expect(await refusal(admin.createTeam({ teamId, metadata: { team_member_model_max_budget: {} }, teamMemberModelMaxBudget: {} }))).to.match(/give one/);
    expect(await refusal(admin.createTeam({ teamId, metadata: { team_member_budget_id: 'b' }, teamMemberBudget: 1 }))).to.match(/give one/);
    expect(await refusal(admin.createTeam({ teamId, teamMemberBudget: -1 }))).to.match(/team member budget must not be negative/);
    expect(await refusal(admin.createTeam({ teamId, teamMemberBudgetDuration: '1d' }))).to.match(/needs a team member budget/);
    const budgetsBefore = await backend().dataSource.query('SELECT COUNT(*) AS n FROM LiteLLM_BudgetTable');
    expect(await refusal(admin.createTeam({ teamId, teamMemberBudget: 1, teamMemberBudgetDuration: 'weekly-ish' }))).to.match(/team member budget duration must be a duration/);
    expect(await refusal(admin.createTeam({ teamId, teamMemberBudget: 1, budgetLimits: [{ budget_duration: '1d', max_budget: -1 }] }))).to.match(/negative/);
    expect(await backend().dataSource.query('SELECT COUNT(*) AS n FROM LiteLLM_BudgetTable')).to.deep.equal(budgetsBefore);
    const created = await admin.createTeam({ teamId, metadata: { team_member_model_max_budget: { 'gpt-4o': { max_budget: 1 } } } });
    expect(created.metadata['team_member_model_max_budget']).to.deep.equal({ 'gpt-4o': { max_budget: 1 } });
    // Refused inside the write (the team exists): the member budget row goes with it.
    expect(await refusal(admin.createTeam({ teamId, teamMemberBudget: 1 }))).to.match(/already exists/);
    expect(await backend().dataSource.query('SELECT COUNT(*) AS n FROM LiteLLM_BudgetTable')).to.deep.equal(budgetsBefore);
  });
});
