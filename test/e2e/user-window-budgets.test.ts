/**
 * Multi-window budgets (`budget_limits`) of users and end users end to end through `tollgate serve`
 * on MariaDB + Redis: their window spend is summed from LiteLLM_SpendLogs (by `user`, the key owner,
 * and by `end_user`), and a window whose spend reached its max_budget refuses.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { meteredConfig, openMeteredServer, type MeteredServer } from '../support/metered-server';
import { waitFor } from '../support/spend';

const MASTER_KEY = 'sk-master-user-window-budgets-0123456789';
const CONFIG = meteredConfig(['gpt-4o'], ['cache_refresh_seconds: 1']);

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

describe('user and end-user multi-window budgets end to end: window spend from LiteLLM_SpendLogs', function () {
  this.timeout(60_000);
  let rows: LiteLlmRows;
  let checker: Checker;
  let meteredCallLogged: MeteredServer['meteredCallLogged'];
  let opened: MeteredServer | undefined;

  before(async function () {
    opened = await openMeteredServer(this, CONFIG, MASTER_KEY);
    ({ rows, checker, meteredCallLogged } = opened);
  });

  after(async () => {
    await opened?.close();
  });

  it("refuses a personal key whose user's spend in the last day, over all the user's keys, reached a 1d window (400 budget_exceeded)", async () => {
    const user = await rows.aUser({ budget_limits: [{ budget_duration: '30d', max_budget: 100 }, { budget_duration: '1d', max_budget: 0.5 }] });
    const raw = `sk-userwindow-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), user_id: user.user_id });
    await rows.aSpendLog({ api_key: hashKey(raw), user: user.user_id, spend: 0.25, startTime: hoursAgo(3) });
    await rows.aSpendLog({ api_key: hashKey(`sk-other-${uniqueId('k')}`), user: user.user_id, spend: 0.3, startTime: hoursAgo(20) });
    await rows.aSpendLog({ api_key: hashKey(raw), user: user.user_id, spend: 50, startTime: hoursAgo(30) });
    const response = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
    expect(denialOf(response)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: `ExceededBudget: User=${user.user_id} over 1d budget. Spend=$0.5500, Limit=$0.50`,
    });

    // The same owner's spend does not refuse a team key: team keys answer to team budgets.
    const team = await rows.aTeam();
    const teamKey = `sk-teamkey-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(teamKey), user_id: user.user_id, team_id: team.team_id });
    expect(isAllowed(await checker.check(anEnvoyCheck({ key: teamKey, body: chat('gpt-4o') }))), 'team key').to.equal(true);
  });

  it("refuses any key calling for an end user whose spend (end_user) reached one of the end user's windows", async () => {
    const endUser = await rows.anEndUser({ budget_limits: [{ budget_duration: '1h', max_budget: 0.25 }] });
    const raw = `sk-enduserwindow-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw) });
    await rows.aSpendLog({ api_key: hashKey(`sk-other-${uniqueId('k')}`), end_user: endUser.user_id, spend: 0.3, startTime: hoursAgo(0.5) });
    const response = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o', { user: endUser.user_id }) }));
    expect(denialOf(response)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: `ExceededBudget: End User=${endUser.user_id} over 1h budget. Spend=$0.3000, Limit=$0.25`,
    });
    expect(isAllowed(await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }))), 'without the end user').to.equal(true);

    const earlier = await rows.anEndUser({ budget_limits: [{ budget_duration: '1h', max_budget: 0.25 }] });
    await rows.aSpendLog({ api_key: hashKey(raw), end_user: earlier.user_id, spend: 0.3, startTime: hoursAgo(2) });
    const outside = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o', { user: earlier.user_id }) }));
    expect(isAllowed(outside), 'spend outside the window').to.equal(true);
  });

  it("counts the spend Tollgate's metering writes: a personal key refused once its user's metered responses reach a window, so is a request for an end user", async () => {
    const user = await rows.aUser({ budget_limits: [{ budget_duration: '1d', max_budget: 0.15 }] });
    const personal = `sk-meteruser-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(personal), user_id: user.user_id });
    for (let i = 0; i < 2; i += 1) await meteredCallLogged(personal, chat('gpt-4o'));
    const refusedUser = await waitFor('the user window refusal', () => checker.check(anEnvoyCheck({ key: personal, body: chat('gpt-4o') })), (r) => !isAllowed(r), 10_000);
    expect(denialOf(refusedUser)).to.deep.include({ type: 'budget_exceeded', message: `ExceededBudget: User=${user.user_id} over 1d budget. Spend=$0.2000, Limit=$0.15` });

    const endUser = await rows.anEndUser({ budget_limits: [{ budget_duration: '1h', max_budget: 0.15 }] });
    const raw = `sk-meterenduser-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw) });
    for (let i = 0; i < 2; i += 1) await meteredCallLogged(raw, chat('gpt-4o', { user: endUser.user_id }));
    const forEndUser = () => checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o', { user: endUser.user_id }) }));
    const refusedEndUser = await waitFor('the end-user window refusal', forEndUser, (r) => !isAllowed(r), 10_000);
    expect(denialOf(refusedEndUser)).to.deep.include({
      type: 'budget_exceeded',
      message: `ExceededBudget: End User=${endUser.user_id} over 1h budget. Spend=$0.2000, Limit=$0.15`,
    });
    expect(isAllowed(await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }))), 'the key without the end user').to.equal(true);
  });
});
