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
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { METERED_CALL_COST, meteredConfig, openMeteredServer, type MeteredServer } from '../support/metered-server';
import { OF_X_REQUEST_ID, spendColumn } from '../support/spend';

const MASTER_KEY = 'sk-master-tag-budgets-0123456789';
const CONFIG = meteredConfig(['gpt-4o']);

describe('tag budgets end to end: the key\'s tags and the x-litellm-tags header\'s', function () {
  this.timeout(60_000);
  let dataSource: DataSource;
  let rows: LiteLlmRows;
  let checker: Checker;
  let meteredCallLogged: MeteredServer['meteredCallLogged'];
  let opened: MeteredServer | undefined;

  before(async function () {
    opened = await openMeteredServer(this, CONFIG, MASTER_KEY);
    ({ dataSource, rows, checker, meteredCallLogged } = opened);
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
    const { requestId, response } = await meteredCallLogged(raw, chat('gpt-4o', { metadata: { tags: [bodyTag.tag_name] } }), {
      'x-litellm-tags': headerTag.tag_name,
    });
    const merged = [bodyTag.tag_name, headerTag.tag_name, keyTag.tag_name];
    expect(metadataOf(response), 'the tags sent to metering').to.deep.include({ request_tags: merged });
    for (const tag of merged) {
      expect(await spendColumn(dataSource, 'LiteLLM_TagTable', { tag_name: tag }), tag).to.be.closeTo(METERED_CALL_COST, 1e-12);
    }
    const [log] = await dataSource.query(`SELECT request_tags FROM \`LiteLLM_SpendLogs\` WHERE ${OF_X_REQUEST_ID}`, [requestId]);
    const logged = typeof log.request_tags === 'string' ? JSON.parse(log.request_tags) : log.request_tags;
    expect(logged).to.deep.equal(merged);
  });
});
