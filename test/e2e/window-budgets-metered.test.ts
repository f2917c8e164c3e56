/**
 * Multi-window budgets with metering, end to end through `tollgate serve` on MariaDB + Redis: a
 * metered response counts in its key's windows at the next Check, from the window tails in Redis,
 * while SpendLogs and the cached sums have not caught up (the flusher here waits a minute); and
 * with `budget_reservation` requests in flight hold their estimates against the windows.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { openMeteredServer, type MeteredServer } from '../support/metered-server';
import { waitFor } from '../support/spend';

const MASTER_KEY = 'sk-master-window-tails-0123456789';
/** Priced as metered-server's meteredConfig (a metered call costs 0.1), with the flush held back a minute. */
const CONFIG = [
  'model_list:',
  '  - model_name: gpt-4o',
  '    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.00001, output_cost_per_token: 0.0001 }',
  'tollgate:',
  '  metering: true',
  '  budget_reservation: true',
  '  redis_timeout_ms: 2000',
  '  spend_flush_interval_ms: 60000',
  '  cache_refresh_seconds: 60',
].join('\n');

describe('multi-window budgets end to end with metering: the window tails and reservations', function () {
  this.timeout(60_000);
  let rows: LiteLlmRows;
  let checker: Checker;
  let server: MeteredServer | undefined;

  before(async function () {
    server = await openMeteredServer(this, CONFIG, MASTER_KEY);
    ({ rows, checker } = server);
  });

  after(async () => {
    await server?.close();
  });

  const spendLogsOf = async (token: string): Promise<number> =>
    Number((await server!.dataSource.query('SELECT COUNT(*) AS n FROM `LiteLLM_SpendLogs` WHERE `api_key` = ?', [token]))[0].n);

  it('refuses a key at the Check after its metered responses reached a window, before any of them is in SpendLogs', async () => {
    const raw = `sk-tail-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), budget_limits: [{ budget_duration: '1d', max_budget: 0.15 }] });
    // A request asking for one output token reserves next to nothing: the window check decides.
    const small = chat('gpt-4o', { max_tokens: 1 });
    await server!.meteredCall(raw, small);
    await server!.meteredCall(raw, small);
    const refused = await waitFor(
      'the window refusal',
      () => checker.check(anEnvoyCheck({ key: raw, body: small })),
      (response) => !isAllowed(response),
      5000,
    );
    expect(denialOf(refused)).to.deep.include({ type: 'budget_exceeded', message: 'ExceededBudget: Key over 1d budget. Spend=$0.2000, Limit=$0.15' });
    expect(await spendLogsOf(hashKey(raw)), 'nothing flushed yet').to.equal(0);
  });

  it('holds what requests in flight may spend against a window: the third of three 0.1 estimates is refused under a 0.25 window', async () => {
    const raw = `sk-tail-res-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), budget_limits: [{ budget_duration: '1d', max_budget: 0.25 }] });
    const body = chat('gpt-4o', { max_tokens: 1000 });
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await checker.check(anEnvoyCheck({ key: raw, body })));
    expect(answers.map(isAllowed)).to.deep.equal([true, true, false]);
    const denial = denialOf(answers[2]!);
    expect(denial.type).to.equal('budget_exceeded');
    expect(denial.message).to.match(/^ExceededBudget: Key over 1d budget\. Spend=\$0\.0000, Limit=\$0\.25 \(reserved for requests in flight 0\.200\d*, estimated cost of this request 0\.100\d*\)$/);
  });
});
