/**
 * `store_model_in_db`: the models LiteLLM keeps in `LiteLLM_ProxyModelTable` join the YAML's,
 * so their access groups admit the keys that name them, in a real `tollgate serve` process on
 * MariaDB, and a model added through LiteLLM's UI is seen at the next refresh without a restart.
 */
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { eventually } from '../support/poll';
import { startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-db-models';
const SALT_KEY = 'sk-salt-for-tests';
// LiteLLM's v3 (AES-GCM) encryption of 'azure/gpt-4o-2024-08-06' under SALT_KEY, written by Python
// with its scheme (see test/store/litellm-at-rest.test.ts).
const ENCRYPTED_UNDERLYING_MODEL = 'v3:gcm:tDYesWJjv_eH-bM5TuOvcp1YcAw93Sukris8tS_duTeUVUfM_f81sePXFsUaBRPPB1JR';

describe('models stored in the database (store_model_in_db) end to end', function () {
  this.timeout(60_000);
  let database: TestMysqlDatabase;
  let dataSource: DataSource;
  let rows: LiteLlmRows;
  let config: TempConfig;
  let server: ServerProcess;
  let client: Checker;
  const group = uniqueId('beta-group');
  const key = `sk-db-models-${uniqueId('k')}`;
  const unrestrictedKey = `sk-db-models-all-${uniqueId('k')}`;
  const dbModel = uniqueId('beta-model');

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    rows = new LiteLlmRows(dataSource);
    await rows.aProxyModel({ model_name: dbModel, litellm_params: { model: ENCRYPTED_UNDERLYING_MODEL }, model_info: { access_groups: [group] } });
    await rows.aKey({ token: hashKey(key), models: [group] });
    await rows.aKey({ token: hashKey(unrestrictedKey), models: [] });
    config = writeConfig(
      [
        'model_list:',
        '  - model_name: gpt-4o',
        '    litellm_params: { model: openai/gpt-4o }',
        'general_settings:',
        '  store_model_in_db: true',
        'tollgate:',
        '  model_list_refresh_seconds: 0.2',
      ].join('\n'),
    );
    server = await startServer({ env: { DATABASE_URL: database.url, LITELLM_MASTER_KEY: MASTER_KEY, LITELLM_SALT_KEY: SALT_KEY, TOLLGATE_CONFIG: config.path } });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    config?.cleanup();
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  const call = (model: string) => client.check(anEnvoyCheck({ key, body: chat(model) }));

  it("admits a key to a database model through the model's access group from the first Check", async () => {
    expect(isAllowed(await call(dbModel))).to.equal(true);
    const refused = await call('gpt-4o');
    expect(denialOf(refused).type, 'the YAML model is in no group of the key').to.equal('key_model_access_denied');
  });

  it("routes a fallback named by a database model's underlying model, which LiteLLM stores encrypted", async () => {
    const withFallback = (fallback: string) =>
      client.check(anEnvoyCheck({ key: unrestrictedKey, body: chat('gpt-4o', { fallbacks: [fallback] }) }));
    expect(isAllowed(await withFallback('azure/gpt-4o-2024-08-06')), 'decrypted with LITELLM_SALT_KEY').to.equal(true);
    const unknown = await withFallback('azure/gpt-4o-unknown');
    expect(denialOf(unknown).code, 'a name no deployment has').to.equal('400');
  });

  it('sees a model added to the table at the next refresh, and one removed from it', async () => {
    const added = uniqueId('added-model');
    expect(isAllowed(await call(added))).to.equal(false);
    const row = await rows.aProxyModel({ model_name: added, model_info: { access_groups: [group] } });
    expect(isAllowed(await eventually(() => call(added), isAllowed, { limitMs: 20_000, everyMs: 100 }))).to.equal(true);
    await dataSource.query('DELETE FROM `LiteLLM_ProxyModelTable` WHERE `model_id` = ?', [row.model_id]);
    const after = await eventually(() => call(added), (response) => !isAllowed(response), { limitMs: 20_000, everyMs: 100 });
    expect(denialOf(after).type).to.equal('key_model_access_denied');
  });
});
