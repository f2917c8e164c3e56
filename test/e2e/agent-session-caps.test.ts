/**
 * Agent iteration budgets (an agent's `litellm_params.max_iterations` and `max_budget_per_session`)
 * end to end through `tollgate serve` on MariaDB + Redis with metering: the agent's key may make
 * max_iterations calls in one session (`x-litellm-trace-id`), then gets LiteLLM's 429 while another
 * session is still allowed; and a session whose metered responses reached max_budget_per_session
 * is refused at its next Check.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { CheckResponse } from '../../src/envoy/messages';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { meteredConfig, openMeteredServer, type MeteredServer } from '../support/metered-server';
import { eventually } from '../support/poll';

const MASTER_KEY = 'sk-master-agent-session-0123456789';
const CONFIG = meteredConfig(['gpt-4o']);

describe('agent session caps end to end: max_iterations and max_budget_per_session per session', function () {
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

  /** A key acting for a new agent whose litellm_params hold `params`. */
  async function anAgentKey(params: Record<string, unknown>): Promise<string> {
    const agent = await rows.anAgent({ litellm_params: params });
    const raw = `sk-agent-session-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), agent_id: agent.agent_id });
    return raw;
  }

  const check = (raw: string, session: string): Promise<CheckResponse> =>
    checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o'), headers: { 'x-request-id': uniqueId('req'), 'x-litellm-trace-id': session } }));

  it("admits an agent's session max_iterations calls, then answers LiteLLM's 429; another session of the agent is allowed", async () => {
    const key = await anAgentKey({ max_iterations: 2, max_budget_per_session: 100 });
    const session = uniqueId('session');
    expect(isAllowed(await check(key, session)), 'first call').to.equal(true);
    expect(isAllowed(await check(key, session)), 'second call').to.equal(true);
    const refused = await check(key, session);
    expect(isAllowed(refused), 'third call').to.equal(false);
    expect(denialOf(refused)).to.deep.include({
      httpStatus: 'TooManyRequests',
      type: 'None',
      param: 'None',
      code: '429',
      message: `Max iterations exceeded for session ${session}. Current count: 3, max_iterations: 2.`,
    });
    expect(isAllowed(await check(key, uniqueId('session'))), 'another session').to.equal(true);
  });

  it('refuses a session at its next Check once its metered responses reached max_budget_per_session (0.1 each against 0.15), while another session is allowed', async () => {
    const key = await anAgentKey({ max_iterations: 50, max_budget_per_session: 0.15 });
    const session = uniqueId('session');
    const headers = { 'x-litellm-trace-id': session };
    await meteredCall(key, chat('gpt-4o'), headers);
    await meteredCall(key, chat('gpt-4o'), headers);
    const refused = await eventually(() => check(key, session), (r) => !isAllowed(r));
    expect(denialOf(refused)).to.deep.include({
      httpStatus: 'TooManyRequests',
      type: 'None',
      param: 'None',
      code: '429',
      message: `Session budget exceeded for session ${session}. Current spend: $0.2000, max_budget_per_session: $0.15.`,
    });
    expect(isAllowed(await check(key, uniqueId('session'))), 'another session').to.equal(true);
  });

  it("refuses an empty session (metadata.session_id \"\", which the session rate limits do not read) once its metered responses reached max_budget_per_session, as LiteLLM's budget limiter does", async () => {
    const key = await anAgentKey({ max_budget_per_session: 0.15 });
    const body = chat('gpt-4o', { metadata: { session_id: '' } });
    await meteredCall(key, body);
    await meteredCall(key, body);
    const checkEmpty = (): Promise<CheckResponse> => checker.check(anEnvoyCheck({ key, body, headers: { 'x-request-id': uniqueId('req') } }));
    const refused = await eventually(checkEmpty, (r) => !isAllowed(r));
    expect(denialOf(refused)).to.deep.include({
      code: '429',
      message: 'Session budget exceeded for session . Current spend: $0.2000, max_budget_per_session: $0.15.',
    });
    expect(isAllowed(await check(key, uniqueId('session'))), 'another session').to.equal(true);
  });
});
