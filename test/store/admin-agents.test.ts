/**
 * `tollgate agent create` and `tollgate key create --agent`: an agent row as LiteLLM's /v1/agents
 * writes it, read back as the checks and the admission read it.
 */
import { expect } from 'chai';
import { AdminInputError, AdminStore } from '../../src/store/admin-store';
import { AgentRecord, VerificationTokenRecord } from '../../src/store/entities';
import { agentSessionCapsOf } from '../../src/ratelimit/agent-session-caps';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';
import { aRequest, aSnapshot } from '../checks/fixtures';

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AdminInputError);
    return (error as Error).message;
  }
  return expect.fail('expected an AdminInputError');
}

describeEachBackend('AdminStore agents', (backend) => {
  let admin: AdminStore;

  before(() => {
    admin = new AdminStore(backend().dataSource, backend().settings);
  });

  it('creates an agent with its limits in their columns and the trace-id requirement and session caps in litellm_params', async () => {
    const name = uniqueId('researcher');
    const agent = await admin.createAgent({
      name,
      rpmLimit: 100,
      tpmLimit: 100_000,
      sessionRpmLimit: 10,
      sessionTpmLimit: 5000,
      requireTraceId: true,
      maxIterations: 25,
      maxBudgetPerSession: 5,
    });
    expect(agent).to.deep.include({ agent_name: name, rpm_limit: 100, tpm_limit: 100_000, session_rpm_limit: 10, session_tpm_limit: 5000 });
    expect(agent.litellm_params).to.deep.equal({ require_trace_id_on_calls_by_agent: true, max_iterations: 25, max_budget_per_session: 5 });
    const row = await backend().dataSource.getRepository(AgentRecord).findOneByOrFail({ agent_id: agent.agent_id });
    expect(row.agent_card_params).to.deep.equal({ name });
    expect(row.spend).to.equal(0);
  });

  it('makes a key act for the agent (agent_id), whose session caps then hold its calls', async () => {
    const agent = await admin.createAgent({ name: uniqueId('loop'), maxIterations: 3 });
    const created = await admin.createKey({ agentId: agent.agent_id });
    const row = await backend().dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token: created.token });
    expect(row.agent_id).to.equal(agent.agent_id);
    const caps = agentSessionCapsOf(aSnapshot({ key: created.virtualKey, agent }), aRequest({ headers: { 'x-litellm-trace-id': 'session-1' } }));
    expect(caps).to.deep.include({ agentId: agent.agent_id, maxIterations: 3, maxBudget: null });
  });

  it('refuses a second agent of one name or id, a key for an agent with no row, and limits that are not whole non-negative numbers; nothing is written', async () => {
    const name = uniqueId('dup');
    const first = await admin.createAgent({ name });
    expect(await refusal(admin.createAgent({ name }))).to.include(`an agent named ${name}`);
    expect(await refusal(admin.createAgent({ agentId: first.agent_id, name: uniqueId('other') }))).to.include(`agent ${first.agent_id}`);
    expect(await refusal(admin.createKey({ agentId: 'no-such-agent' }))).to.include('agent no-such-agent');
    expect(await refusal(admin.createAgent({ name: uniqueId('bad'), maxIterations: 2.5 }))).to.include('max iterations must be a whole number');
    expect(await refusal(admin.createAgent({ name: uniqueId('bad'), maxBudgetPerSession: -1 }))).to.include('must not be negative');
    expect(await backend().dataSource.getRepository(AgentRecord).countBy({ agent_name: name })).to.equal(1);
  });

  it('updates the settings named and keeps the rest of litellm_params (LiteLLM merges them); null clears; an unknown agent is null', async () => {
    const agent = await admin.createAgent({ name: uniqueId('upd'), rpmLimit: 10, maxIterations: 5, requireTraceId: true });
    const repo = backend().dataSource.getRepository(AgentRecord);
    await repo.update({ agent_id: agent.agent_id }, { litellm_params: { ...agent.litellm_params, model: 'openai/gpt-4o' } });
    const updated = await admin.updateAgent(agent.agent_id, { maxIterations: null, maxBudgetPerSession: 2.5, sessionRpmLimit: 3, rpmLimit: null });
    expect(updated).to.deep.include({ rpm_limit: null, session_rpm_limit: 3, tpm_limit: null });
    expect(updated?.litellm_params).to.deep.equal({ require_trace_id_on_calls_by_agent: true, model: 'openai/gpt-4o', max_budget_per_session: 2.5 });
    expect((await admin.updateAgent(agent.agent_id, { requireTraceId: false }))?.litellm_params).to.not.have.property('require_trace_id_on_calls_by_agent');
    expect(await admin.updateAgent('no-such-agent', { rpmLimit: 1 })).to.equal(null);
    const other = await admin.createAgent({ name: uniqueId('taken') });
    expect(await refusal(admin.updateAgent(agent.agent_id, { name: other.agent_name }))).to.include(`an agent named ${other.agent_name}`);
    expect(await refusal(admin.updateAgent(agent.agent_id, {}))).to.include('nothing to change');
  });

  it('renames the agent in its card too, keeping the rest of the card', async () => {
    const agent = await admin.createAgent({ name: uniqueId('card') });
    const repo = backend().dataSource.getRepository(AgentRecord);
    await repo.update({ agent_id: agent.agent_id }, { agent_card_params: { name: agent.agent_name, url: 'http://agent.test' } });
    const renamed = uniqueId('renamed');
    await admin.updateAgent(agent.agent_id, { name: renamed });
    const row = await repo.findOneByOrFail({ agent_id: agent.agent_id });
    expect([row.agent_name, row.agent_card_params]).to.deep.equal([renamed, { name: renamed, url: 'http://agent.test' }]);
  });

  it('gives a key an agent, or takes it away, with key update; an agent with no row is refused', async () => {
    const agent = await admin.createAgent({ name: uniqueId('keyed') });
    const created = await admin.createKey({});
    expect((await admin.updateKey(created.token, { agentId: agent.agent_id }))?.agent_id).to.equal(agent.agent_id);
    expect((await admin.updateKey(created.token, { agentId: null }))?.agent_id).to.equal(null);
    expect(await refusal(admin.updateKey(created.token, { agentId: 'ghost' }))).to.include('agent ghost');
  });

  it('keeps every setting of updates made at once (each merges litellm_params under a row lock)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const agent = await admin.createAgent({ name: uniqueId('race') });
      await Promise.all([
        admin.updateAgent(agent.agent_id, { maxIterations: 7 }),
        admin.updateAgent(agent.agent_id, { maxBudgetPerSession: 1.5 }),
        admin.updateAgent(agent.agent_id, { requireTraceId: true }),
      ]);
      const row = await backend().dataSource.getRepository(AgentRecord).findOneByOrFail({ agent_id: agent.agent_id });
      expect(row.litellm_params, `round ${round}`).to.deep.equal({ max_iterations: 7, max_budget_per_session: 1.5, require_trace_id_on_calls_by_agent: true });
    }
  });
});
