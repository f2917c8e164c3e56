/**
 * Tag budgets end to end through `tollgate serve` on MariaDB + Redis, metering on: the tags a key
 * carries and the tags of the `x-litellm-tags` header are held to their budgets and charged, as
 * newer LiteLLM merges them into the request before its tag budget check.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { hashKey } from '../../src/auth/key-hash';
import type { Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed, metadataOf } from '../support/envoy-requests';
import { anOpenAiStream, anUpstreamExchange, type ExtProcClient } from '../support/ext-proc';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { openMeteredServer, type MeteredServer } from '../support/metered-server';
import { OF_X_REQUEST_ID, spendColumn, spendLogCount, waitFor } from '../support/spend';

const MASTER_KEY = 'sk-master-tag-budgets-0123456789';
/** 1 000 prompt + 900 completion tokens at these prices cost exactly 0.1. */
const COST = 0.1;
const CONFIG = [
  'model_list:',
  '  - model_name: gpt-4o',
  '    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.00001, output_cost_per_token: 0.0001 }',
  'tollgate:',
  '  metering: true',
  '  redis_timeout_ms: 2000',
  '  spend_flush_interval_ms: 100',
  '  spend_claim_idle_ms: 1000',
].join('\n');

describe('tag budgets end to end: the key\'s tags and the x-litellm-tags header\'s', function () {
  this.timeout(60_000);
  let dataSource: DataSource;
  let rows: LiteLlmRows;
  let checker: Checker;
  let meter: ExtProcClient;
  let opened: MeteredServer | undefined;

  before(async function () {
    opened = await openMeteredServer(this, CONFIG, MASTER_KEY);
    ({ dataSource, rows, checker, meter } = opened);
  });

  after(async () => {
    await opened?.close();
  });

  const overBudgetTag = async (): Promise<string> => {
    const budget = await rows.aBudget({ max_budget: 1 });
    return (await rows.aTag({ budget_id: budget.budget_id, spend: 2 })).tag_name;
  };

  it("refuses a request naming no tag when its key's own tag is over budget (400 budget_exceeded)", async () => {
    const tag = await overBudgetTag();
    const raw = `sk-keytag-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), metadata: { tags: [tag] } });
    const response = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o') }));
    expect(isAllowed(response)).to.equal(false);
    expect(denialOf(response)).to.deep.include({ httpStatus: 'BadRequest', type: 'budget_exceeded', message: `Budget has been exceeded! Tag=${tag} Current cost: 2.0, Max budget: 1.0` });

    const untagged = `sk-untagged-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(untagged) });
    expect(isAllowed(await checker.check(anEnvoyCheck({ key: untagged, body: chat('gpt-4o') }))), 'a key without the tag').to.equal(true);
  });

  it('refuses a tag over budget named only in the x-litellm-tags header', async () => {
    const tag = await overBudgetTag();
    const raw = `sk-headertag-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw) });
    const response = await checker.check(anEnvoyCheck({ key: raw, body: chat('gpt-4o'), headers: { 'x-litellm-tags': `other, ${tag}` } }));
    expect(denialOf(response)).to.deep.include({ httpStatus: 'BadRequest', type: 'budget_exceeded' });
  });

  it("charges the body's, the header's and the key's tags, and logs them in LiteLLM's order", async () => {
    const [bodyTag, headerTag, keyTag] = await Promise.all([rows.aTag(), rows.aTag(), rows.aTag()]);
    const raw = `sk-charged-${uniqueId('k')}`;
    await rows.aKey({ token: hashKey(raw), metadata: { tags: [keyTag.tag_name, headerTag.tag_name] } });
    const requestId = uniqueId('req');
    const response = await checker.check(
      anEnvoyCheck({
        key: raw,
        body: chat('gpt-4o', { metadata: { tags: [bodyTag.tag_name] } }),
        headers: { 'x-request-id': requestId, 'x-litellm-tags': headerTag.tag_name },
      }),
    );
    expect(isAllowed(response)).to.equal(true);
    const merged = [bodyTag.tag_name, headerTag.tag_name, keyTag.tag_name];
    expect(metadataOf(response)).to.deep.include({ request_tags: merged });
    await meter.exchange(
      anUpstreamExchange({
        requestId,
        status: 200,
        chunks: anOpenAiStream({ prompt: 1000, completion: 900 }, 4, uniqueId('chatcmpl')),
        contentType: 'text/event-stream',
        authzMetadata: metadataOf(response),
      }),
    );
    await waitFor('the flush', () => spendLogCount(dataSource, OF_X_REQUEST_ID, [requestId]), (n) => n === 1);
    for (const tag of merged) {
      expect(await spendColumn(dataSource, 'LiteLLM_TagTable', { tag_name: tag }), tag).to.be.closeTo(COST, 1e-12);
    }
    const [log] = await dataSource.query(`SELECT request_tags FROM \`LiteLLM_SpendLogs\` WHERE ${OF_X_REQUEST_ID}`, [requestId]);
    const logged = typeof log.request_tags === 'string' ? JSON.parse(log.request_tags) : log.request_tags;
    expect(logged).to.deep.equal(merged);
  });
});
