/**
 * Team member per-model budgets (the team's `metadata.team_member_model_max_budget`) end to end
 * through `tollgate serve` on MariaDB + Redis with metering: each member's metered responses on a
 * model are counted for that member, and a member whose spend on the model reached the team's
 * entry is refused it, while another member of the same team, and the member's other models,
 * stay allowed.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { CheckResponse } from '../../src/envoy/messages';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed, metadataOf } from '../support/envoy-requests';
import { anOpenAiStream, anUpstreamExchange, type ExtProcClient } from '../support/ext-proc';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { openMeteredServer, type MeteredServer } from '../support/metered-server';
import { eventually } from '../support/poll';

const MASTER_KEY = 'sk-master-member-model-0123456789';
/** 1 000 prompt + 900 completion tokens at these prices cost exactly 0.1. */
const CONFIG = [
  'model_list:',
  '  - model_name: gpt-4o',
  '    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.00001, output_cost_per_token: 0.0001 }',
  '  - model_name: gpt-4o-mini',
  '    litellm_params: { model: openai/gpt-4o-mini, input_cost_per_token: 0.00001, output_cost_per_token: 0.0001 }',
  'tollgate:',
  '  metering: true',
  '  redis_timeout_ms: 2000',
  '  spend_flush_interval_ms: 100',
  '  spend_claim_idle_ms: 1000',
].join('\n');

describe('team member per-model budgets end to end: metered spend counted per member and model', function () {
  this.timeout(60_000);
  let rows: LiteLlmRows;
  let checker: Checker;
  let meter: ExtProcClient;
  let opened: MeteredServer | undefined;

  before(async function () {
    opened = await openMeteredServer(this, CONFIG, MASTER_KEY);
    ({ rows, checker, meter } = opened);
  });

  after(async () => {
    await opened?.close();
  });

  const check = (raw: string, model: string, requestId = uniqueId('req')): Promise<CheckResponse> =>
    checker.check(anEnvoyCheck({ key: raw, body: chat(model), headers: { 'x-request-id': requestId } }));

  /** One allowed request on `model` whose response costs 0.1, metered. */
  async function spend(raw: string, model: string): Promise<void> {
    const requestId = uniqueId('req');
    const response = await check(raw, model, requestId);
    expect(isAllowed(response), `${model} allowed before the member's budget is reached`).to.equal(true);
    await meter.exchange(
      anUpstreamExchange({
        requestId,
        status: 200,
        chunks: anOpenAiStream({ prompt: 1000, completion: 900 }, 4, uniqueId('chatcmpl')),
        contentType: 'text/event-stream',
        authzMetadata: metadataOf(response),
      }),
    );
  }

  /** A key of `userId` in `teamId`, with the user's row and membership. */
  async function aMemberKey(userId: string, teamId: string): Promise<string> {
    const raw = `sk-member-model-${uniqueId('k')}`;
    await rows.aUser({ user_id: userId });
    await rows.aTeamMembership({ user_id: userId, team_id: teamId });
    await rows.aKey({ token: hashKey(raw), user_id: userId, team_id: teamId });
    return raw;
  }

  it("refuses a member a model once their metered responses on it reach the team's per-member entry, while another member of the team is still allowed (400 budget_exceeded)", async () => {
    const team = await rows.aTeam({ metadata: { team_member_model_max_budget: { 'gpt-4o': { max_budget: 0.25 } } } });
    const alice = uniqueId('alice');
    const aliceKey = await aMemberKey(alice, team.team_id);
    const bobKey = await aMemberKey(uniqueId('bob'), team.team_id);
    await spend(bobKey, 'gpt-4o');
    for (let i = 0; i < 3; i += 1) await spend(aliceKey, 'gpt-4o');
    const refused = await eventually(() => check(aliceKey, 'gpt-4o'), (r) => !isAllowed(r));
    expect(denialOf(refused)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: `ExceededBudget: Team member model budget exceeded. User=${alice}, Team=${team.team_id}, Model=gpt-4o. Spend=$0.300000, Budget=$0.250000`,
    });
    expect(isAllowed(await check(bobKey, 'gpt-4o')), 'another member, whose own spend on it is 0.1').to.equal(true);
    expect(isAllowed(await check(aliceKey, 'gpt-4o-mini')), 'a model the team does not limit per member').to.equal(true);
  });
});
