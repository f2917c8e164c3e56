/**
 * Multi-window budgets (`budget_limits`) end to end through `tollgate serve` on MariaDB + Redis:
 * a key's and a team's window spend is summed from LiteLLM_SpendLogs (rows LiteLLM wrote, or
 * Tollgate's metering flushed), and a window whose spend reached its max_budget refuses.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { meteredConfig, openMeteredServer, type MeteredServer } from '../support/metered-server';
import { waitFor } from '../support/spend';

const MASTER_KEY = 'sk-master-window-budgets-0123456789';
const CONFIG = meteredConfig(['gpt-4o'], ['cache_refresh_seconds: 1']);

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

describe('multi-window budgets end to end: window spend from LiteLLM_SpendLogs', function () {
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

  it("refuses a key whose spend in its last 24 h reached a window's budget, counting no older spend (400 budget_exceeded)", async () => {
    const raw = `sk-window-${uniqueId('k')}`;
    const token = hashKey(raw);
    await rows.aKey({ token, budget_limits: [{ budget_duration: '7d', max_budget: 100 }, { budget_duration: '24h', max_budget: 0.25 }] });
    await rows.aSpendLog({ api_key: token, spend: 0.2, startTime: hoursAgo(2) });
    await rows.aSpendLog({ api_key: token, spend: 0.1, startTime: hoursAgo(20) });
    await rows.aSpendLog({ api_key: token, spend: 5, startTime: hoursAgo(30) });
    const response = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
    expect(denialOf(response)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: 'ExceededBudget: Key over 24h budget. Spend=$0.3000, Limit=$0.25',
    });

    const hourly = `sk-hourly-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(hourly), budget_limits: [{ budget_duration: '1h', max_budget: 0.25 }] });
    await rows.aSpendLog({ api_key: hashKey(hourly), spend: 0.3, startTime: hoursAgo(2) });
    expect(isAllowed(await checker.check(anEnvoyCheck({ key: hourly, body: chat('gpt-4o') }))), 'spend outside the window').to.equal(true);
  });

  it("refuses every key of a team whose logs (team_id) reached one of the team's windows", async () => {
    const team = await rows.aTeam({ budget_limits: [{ budget_duration: '30d', max_budget: 1 }] });
    const raw = `sk-teamwindow-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), team_id: team.team_id });
    await rows.aSpendLog({ api_key: hashKey(`sk-other-${uniqueId('k')}`), team_id: team.team_id, spend: 1, startTime: hoursAgo(24 * 10) });
    const response = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
    expect(denialOf(response)).to.deep.include({
      httpStatus: 'BadRequest',
      type: 'budget_exceeded',
      message: `ExceededBudget: Team=${team.team_id} over 30d budget. Spend=$1.0000, Limit=$1.00`,
    });
  });

  it('refuses a metered key once the spend Tollgate flushed reaches its window, within the flush and cache refresh', async () => {
    const raw = `sk-metered-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), budget_limits: [{ budget_duration: '1d', max_budget: 0.15 }] });
    for (let i = 0; i < 2; i += 1) await meteredCallLogged(raw, chat('gpt-4o'));
    const refused = await waitFor(
      'the window refusal',
      () => checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') })),
      (response) => !isAllowed(response),
      10_000,
    );
    expect(denialOf(refused)).to.deep.include({ type: 'budget_exceeded', message: 'ExceededBudget: Key over 1d budget. Spend=$0.2000, Limit=$0.15' });
  });
});
