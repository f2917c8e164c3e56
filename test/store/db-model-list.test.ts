import { expect } from 'chai';
import { buildPolicy, withDatabaseModels } from '../../src/config/policy';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { accessGroupsFor, isRoutableModel, isZeroCostModel } from '../../src/checks/model-router';
import { PriceTable } from '../../src/metering/prices';
import { modelListEntryOf, readDatabaseModelList } from '../../src/store/db-model-list';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deploymentDefaultLimitsFor } from '../../src/ratelimit/deployment-default-limits';

/** LiteLLM's v3 at-rest format (store/litellm-at-rest.ts): AES-256-GCM under HKDF-SHA256 of the salt key. */
function encryptedV3(plain: string, saltKey: string): string {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(saltKey, 'utf8'), Buffer.alloc(0), 'litellm-at-rest-v3', 32));
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([nonce, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v3:gcm:${sealed.toString('base64').replaceAll('+', '-').replaceAll('/', '_')}`;
}
import { describeEachBackend } from '../support/store-backends';

// LiteLLM's v3 (AES-GCM) encryption of 'azure/gpt-4o-2024-08-06' and of 'sk-provider-secret' under
// SALT_KEY, written by Python with its scheme (see test/store/litellm-at-rest.test.ts).
const SALT_KEY = 'sk-salt-for-tests';
const ENCRYPTED_MODEL = 'v3:gcm:tDYesWJjv_eH-bM5TuOvcp1YcAw93Sukris8tS_duTeUVUfM_f81sePXFsUaBRPPB1JR';
const ENCRYPTED_API_KEY = 'v3:gcm:WHtD0RSot47BKzXAQ--4YDihF7ZA1aP8WWMGRSozuj-CUXuKoGnJNxb4v4s5zw==';

describe('models LiteLLM keeps in its database, as model_list entries', () => {
  const row = (overrides: Partial<Parameters<typeof modelListEntryOf>[0]> = {}) => ({
    model_id: 'db-1',
    model_name: 'beta-model',
    litellm_params: { model: 'gAAAAB-ciphertext', input_cost_per_token: 0, output_cost_per_token: 0 },
    model_info: { access_groups: ['beta'] },
    ...overrides,
  });

  it('reads name, id, access groups and the prices stored in the clear', () => {
    const entry = modelListEntryOf(row(), null);
    expect(entry).to.deep.include({ model_name: 'beta-model' });
    expect(entry?.model_info).to.deep.include({ id: 'db-1', access_groups: ['beta'] });
    const policy = withDatabaseModels(buildPolicy(parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o }\n', {})), [entry!]);
    expect(policy.modelList.map((d) => d.modelName)).to.deep.equal(['gpt-4o', 'beta-model']);
    expect(accessGroupsFor(policy, 'beta-model').get('beta')).to.deep.equal(['beta-model']);
    expect(isRoutableModel(policy, 'db-1'), 'its model_id routes').to.equal(true);
    expect(isZeroCostModel(policy, 'beta-model'), 'prices in litellm_params are numbers, not encrypted').to.equal(true);
  });

  it('skips a row that is not a model_list entry, and reads a row without model_info', () => {
    expect(modelListEntryOf(row({ model_info: { access_groups: 'beta' } }), null)).to.equal(null);
    expect(modelListEntryOf(row({ model_info: null, litellm_params: 'not an object' }), null)?.model_info).to.deep.equal({ id: 'db-1' });
  });

  it("decrypts the underlying model with the salt key, and leaves the provider's credentials encrypted", () => {
    const entry = modelListEntryOf(row({ litellm_params: { model: ENCRYPTED_MODEL, api_key: ENCRYPTED_API_KEY, input_cost_per_token: 0.25 } }), SALT_KEY)!;
    expect(entry.litellm_params?.model).to.equal('azure/gpt-4o-2024-08-06');
    expect(entry.litellm_params?.['api_key'], 'credentials are not decrypted').to.equal(ENCRYPTED_API_KEY);
    const policy = withDatabaseModels(buildPolicy(parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o }\n', {})), [entry]);
    expect(isRoutableModel(policy, 'azure/gpt-4o-2024-08-06'), 'a fallback may name the underlying model').to.equal(true);
    const prices = new PriceTable(parseLiteLlmConfig('', {}));
    prices.useDatabaseModels([entry]);
    expect(prices.priceOf(null, 'gpt-4o-2024-08-06'), 'priced by the model the provider reports').to.include({ input: 0.25 });

    const wrongKey = modelListEntryOf(row({ litellm_params: { model: ENCRYPTED_MODEL } }), 'sk-another-key')!;
    expect(wrongKey.litellm_params?.model, 'under another key the value is kept as stored').to.equal(ENCRYPTED_MODEL);
    expect(modelListEntryOf(row({ litellm_params: { model: 'openai/gpt-4o' } }), SALT_KEY)?.litellm_params?.model, 'a model stored in the clear').to.equal('openai/gpt-4o');
  });

  it('decrypts a deployment default rate limit saved as text, and keeps one saved as a number', () => {
    const entry = modelListEntryOf(
      row({ litellm_params: { model: 'openai/gpt-4o', default_api_key_rpm_limit: encryptedV3('7', SALT_KEY), default_api_key_tpm_limit: 900 } }),
      SALT_KEY,
    )!;
    const policy = withDatabaseModels(buildPolicy(parseLiteLlmConfig('', {})), [entry]);
    expect(deploymentDefaultLimitsFor(policy.deploymentDefaultLimits!, 'beta-model')).to.deep.equal({ rpm: 7, tpm: 900 });
  });

  it('prices a database model for metering after the YAML ones', () => {
    const prices = new PriceTable(parseLiteLlmConfig('model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.001 }\n', {}));
    expect(prices.priceOf('priced-db', null)).to.equal(null);
    prices.useDatabaseModels([modelListEntryOf(row({ model_name: 'priced-db', litellm_params: { input_cost_per_token: 0.5, output_cost_per_token: 1 } }), null)!]);
    expect(prices.priceOf('priced-db', null)).to.include({ input: 0.5, output: 1 });
    expect(prices.priceOf('gpt-4o', null)).to.include({ input: 0.001 });
  });
});

describeEachBackend('readDatabaseModelList', (backend) => {
  it('reads every row that is not blocked, in a stable order, and counts the ones it cannot read', async () => {
    const { dataSource } = backend();
    const rows = new LiteLlmRows(dataSource);
    const group = uniqueId('group');
    const kept = await rows.aProxyModel({ model_name: uniqueId('db-model'), litellm_params: { model: ENCRYPTED_MODEL }, model_info: { access_groups: [group] } });
    await rows.aProxyModel({ model_name: uniqueId('blocked-model'), blocked: true, model_info: { access_groups: [group] } });
    await rows.aProxyModel({ model_name: uniqueId('odd-model'), model_info: { access_groups: 7 } });
    const { models, skipped } = await readDatabaseModelList(dataSource, 2000, SALT_KEY);
    const mine = models.filter((m) => m.model_info?.access_groups?.includes(group));
    expect(mine.map((m) => m.model_name)).to.deep.equal([kept.model_name]);
    expect(mine[0].model_info).to.deep.include({ id: kept.model_id });
    expect(mine[0].litellm_params?.model, 'decrypted with the salt key').to.equal('azure/gpt-4o-2024-08-06');
    expect(skipped).to.be.at.least(1);
  });
});
