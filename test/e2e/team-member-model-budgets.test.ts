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
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { meteredConfig, openMeteredServer, type MeteredServer } from '../support/metered-server';
import { eventually } from '../support/poll';

const MASTER_KEY = 'sk-master-member-model-0123456789';
const CONFIG = meteredConfig(['gpt-4o', 'gpt-4o-mini']);

describe('team member per-model budgets end to end: metered spend counted per member and model', function () {
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
