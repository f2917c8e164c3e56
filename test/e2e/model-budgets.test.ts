/**
 * Per-model budgets (`model_max_budget`) end to end through `tollgate serve` on MariaDB + Redis
 * with metering: the responses Tollgate meters are counted per window as LiteLLM's limiter counts
 * them, and a key or team whose window on a model reached its budget is refused that model, while
 * its other models stay allowed. Nothing writes `model_spend` here: before the windows, such a key
 * was never refused however much was metered.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { CheckResponse } from '../../src/envoy/messages';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { meteredConfig, openMeteredServer, type MeteredServer } from '../support/metered-server';
import { eventually } from '../support/poll';

const MASTER_KEY = 'sk-master-model-budgets-0123456789';
const CONFIG = meteredConfig(['gpt-4o', 'gpt-4o-mini']);

describe('per-model budgets end to end: metered spend counted per window', function () {
  this.timeout(60_000);
  let rows: LiteLlmRows;
  let checker: Checker;
  let meteredCall: MeteredServer['meteredCall'];
  let opened: MeteredServer | undefined;

  before(async function () {
    opened = await openMeteredServer(this, CONFIG, MASTER_KEY);
    ({ rows, checker, meteredCall } = opened);
  });

  after(async () => {
    await opened?.close();
  });

  const check = (raw: string, model: string): Promise<CheckResponse> =>
    checker.check(anEnvoyCheck({ key: raw, body: chat(model), headers: { 'x-request-id': uniqueId('req') } }));

  /** One allowed request on `model` whose response, metered, costs METERED_CALL_COST (0.1). */
  const spend = async (raw: string, model: string): Promise<void> => {
    await meteredCall(raw, chat(model));
  };

  const refusedOnceCounted = (raw: string, model: string): Promise<CheckResponse> => eventually(() => check(raw, model), (r) => !isAllowed(r));

  it("refuses a key once the metered responses on a model reach that model's budget, while its other model stays allowed (400 budget_exceeded)", async () => {
    const raw = `sk-model-budget-${uniqueId('k')}`;
    const token = hashKey(raw);
    await rows.aKey({ token, key_alias: 'ci', model_max_budget: { 'gpt-4o': { max_budget: 0.25, budget_duration: '1d' } } });
    for (let i = 0; i < 3; i += 1) await spend(raw, 'gpt-4o');
    const refused = await refusedOnceCounted(raw, 'gpt-4o');
    expect(denialOf(refused)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: `LiteLLM Virtual Key: ${token}, key_alias: ci, exceeded budget for model=gpt-4o`,
    });
    expect(isAllowed(await check(raw, 'gpt-4o-mini')), 'a model without a budget').to.equal(true);
  });

  it("refuses a team's keys once the team's metered spend on a model reaches its budget, never charging it what a key whose own entry limits that model spent", async () => {
    const team = await rows.aTeam({ model_max_budget: { 'gpt-4o': { budget_limit: 0.15, time_period: '30d' } } });
    const first = `sk-team-model-a-${uniqueId('k')}`;
    const second = `sk-team-model-b-${uniqueId('k')}`;
    const ownLimit = `sk-team-model-own-${uniqueId('k')}`;
    const overriding = `sk-team-model-over-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(first), team_id: team.team_id });
    await rows.aKey({ token: hashKey(second), team_id: team.team_id });
    await rows.aKey({ token: hashKey(ownLimit), team_id: team.team_id, model_max_budget: { 'gpt-4o': { max_budget: 0.2, budget_duration: '1d' } } });
    await rows.aKey({ token: hashKey(overriding), team_id: team.team_id, model_max_budget: { 'gpt-4o': { max_budget: 10, budget_duration: '1d' } } });
    // The key with its own gpt-4o limit is gated on and charged to that limit alone: once both of
    // its responses are counted it is refused on its own entry, and the team has spent nothing.
    await spend(ownLimit, 'gpt-4o');
    await spend(ownLimit, 'gpt-4o');
    expect(denialOf(await refusedOnceCounted(ownLimit, 'gpt-4o')).message).to.equal(
      `LiteLLM Virtual Key: ${hashKey(ownLimit)}, key_alias: None, exceeded budget for model=gpt-4o`,
    );
    expect(isAllowed(await check(first, 'gpt-4o')), "the team's window holds none of that key's spend").to.equal(true);
    await spend(first, 'gpt-4o');
    await spend(second, 'gpt-4o');
    const refused = await refusedOnceCounted(second, 'gpt-4o');
    expect(denialOf(refused)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: `LiteLLM Team: ${team.team_id}, exceeded budget for model=gpt-4o`,
    });
    expect(isAllowed(await check(first, 'gpt-4o')), 'every key of the team').to.equal(false);
    expect(isAllowed(await check(first, 'gpt-4o-mini')), 'another model of the team').to.equal(true);
    expect(isAllowed(await check(overriding, 'gpt-4o')), "a key whose own entry overrides the team's").to.equal(true);
  });
});
