/**
 * The Tollgate config shipped in the tollgate-config ConfigMap is accepted by Tollgate's own config
 * parser, and its timeouts and credential policy fit the Envoy config it runs behind.
 */
import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { CREDENTIAL_INJECTOR, EXT_AUTHZ, connectionManagers, decodeEnvoyFile, durationMs, filterConfigs } from './support/envoy-config';
import { dig } from './support/json';
import { readRepoText } from './support/repo';

const CONFIG_FILE = 'deploy/base/tollgate-config.yaml';
const POD_ENVOY = 'deploy/base/envoy.yaml';

describe('deploy: the Tollgate config in the gateway pod', () => {
  const config = () => parseLiteLlmConfig(readRepoText(CONFIG_FILE), { LITELLM_MASTER_KEY: 'sk-test' }, CONFIG_FILE);
  const envoyHcm = () => connectionManagers(decodeEnvoyFile(POD_ENVOY).tree)[0]?.hcm ?? {};

  it("parses with Tollgate's own LiteLLM-config schema", () => {
    expect(() => config()).to.not.throw();
    expect(config().model_list?.length).to.be.greaterThan(0);
  });

  it('holds no secret: the master key comes from LITELLM_MASTER_KEY', () => {
    expect(config().general_settings?.master_key ?? undefined).to.equal(undefined);
    expect(readRepoText(CONFIG_FILE)).to.not.match(/sk-[A-Za-z0-9]/);
  });

  it("gives up on the database and Redis before Envoy gives up on the check", () => {
    const envoyTimeoutMs = durationMs(dig(filterConfigs(envoyHcm(), EXT_AUTHZ)[0], 'grpc_service.timeout'));
    const tollgate = config().tollgate ?? {};
    expect(tollgate.db_timeout_ms, 'db_timeout_ms set').to.be.a('number');
    expect(tollgate.redis_timeout_ms, 'redis_timeout_ms set').to.be.a('number');
    expect(Number(tollgate.db_timeout_ms) + Number(tollgate.redis_timeout_ms)).to.be.lessThan(envoyTimeoutMs);
  });

  it('fails closed on a database outage, matching failure_mode_allow: false', () => {
    expect(config().general_settings?.allow_requests_on_db_unavailable).to.equal(false);
    expect(filterConfigs(envoyHcm(), EXT_AUTHZ)[0]?.failure_mode_allow ?? false).to.equal(false);
  });

  it('forwards the virtual key to LiteLLM exactly when Envoy injects no provider credential', () => {
    const injects = filterConfigs(envoyHcm(), CREDENTIAL_INJECTOR).length > 0;
    expect(config().tollgate?.forward_credentials ?? false).to.equal(!injects);
  });
});
