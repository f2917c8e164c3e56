import { expect } from 'chai';
import { ConfigError, parseLiteLlmConfig } from '../../src/config/litellm-config';
import { loadSettings, settingsFrom } from '../../src/config/settings';
import { currentWindow, useBudgetResetZone } from '../../src/spend/budget-window';
import { UTC_RESET_ZONE } from '../../src/spend/standardized-reset';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePolicyFrom } from '../../src/server/runtime';

describe('settings from environment and config.yaml', () => {
  it("reads how long an agent session's call count and spend last as LiteLLM does (LITELLM_MAX_ITERATIONS_TTL, LITELLM_MAX_BUDGET_PER_SESSION_TTL, an hour by default), refusing what int() cannot read", () => {
    expect(settingsFrom({}, {}).agentSessionTtls).to.deep.equal({ iterationsMs: 3_600_000, budgetMs: 3_600_000 });
    expect(settingsFrom({}, { LITELLM_MAX_ITERATIONS_TTL: '60', LITELLM_MAX_BUDGET_PER_SESSION_TTL: ' 7200 ' }).agentSessionTtls).to.deep.equal({ iterationsMs: 60_000, budgetMs: 7_200_000 });
    expect(() => settingsFrom({}, { LITELLM_MAX_ITERATIONS_TTL: '1h' })).to.throw('LITELLM_MAX_ITERATIONS_TTL: must be a whole number of seconds above 0');
    expect(() => settingsFrom({}, { LITELLM_MAX_BUDGET_PER_SESSION_TTL: '0' })).to.throw('LITELLM_MAX_BUDGET_PER_SESSION_TTL');
  });

  it('uses the contract defaults with nothing configured', () => {
    const s = settingsFrom({}, {});
    expect(s.grpcAddr).to.equal('0.0.0.0:9001');
    expect(s.httpAddr).to.equal('0.0.0.0:9002');
    expect(s.databaseUrl).to.equal(null);
    expect(s.sqlitePath).to.equal('./.tollgate/tollgate.db');
    expect(s.redisUrl).to.equal(null);
    expect(s.masterKey).to.equal(null);
    expect(s.forwardCredentials).to.equal(false);
    expect(s.cache.ttlSeconds).to.equal(60);
    expect(s.cache.negativeTtlSeconds).to.equal(5);
  });

  it('reads the environment variables of the contract', () => {
    const s = settingsFrom(
      {},
      {
        TOLLGATE_GRPC_ADDR: '127.0.0.1:7000',
        DATABASE_URL: 'mysql://u:p@db:3306/x',
        REDIS_URL: 'redis://r:6379',
        LITELLM_MASTER_KEY: 'sk-m',
        LOG_LEVEL: 'debug',
      },
    );
    expect(s).to.include({ grpcAddr: '127.0.0.1:7000', databaseUrl: 'mysql://u:p@db:3306/x', redisUrl: 'redis://r:6379', masterKey: 'sk-m', logLevel: 'debug' });
  });

  it("takes general_settings.master_key over LITELLM_MASTER_KEY, as LiteLLM's load_config does", () => {
    const config = parseLiteLlmConfig('general_settings:\n  master_key: sk-from-file\n', {});
    expect(settingsFrom(config, {}).masterKey).to.equal('sk-from-file');
    expect(settingsFrom(config, { LITELLM_MASTER_KEY: 'sk-env' }).masterKey, 'LiteLLM would refuse sk-env').to.equal('sk-from-file');
    expect(settingsFrom(parseLiteLlmConfig('', {}), { LITELLM_MASTER_KEY: 'sk-env' }).masterKey).to.equal('sk-env');
  });

  it('encrypts stored values with LITELLM_SALT_KEY, else the master key, as LiteLLM does', () => {
    const config = parseLiteLlmConfig('general_settings:\n  master_key: sk-from-file\n', {});
    expect(settingsFrom(config, {}).saltKey).to.equal('sk-from-file');
    expect(settingsFrom(config, { LITELLM_MASTER_KEY: 'sk-env' }).saltKey, "LiteLLM's master key: the file's wins").to.equal('sk-from-file');
    expect(settingsFrom(parseLiteLlmConfig('', {}), { LITELLM_MASTER_KEY: 'sk-env' }).saltKey).to.equal('sk-env');
    expect(settingsFrom(config, { LITELLM_SALT_KEY: 'sk-salt' }).saltKey).to.equal('sk-salt');
    expect(settingsFrom(config, { LITELLM_SALT_KEY: '' }).saltKey, 'set but empty is still the key (os.getenv)').to.equal('');
    expect(settingsFrom(parseLiteLlmConfig('', {}), {}).saltKey).to.equal(null);
  });

  it('reads general_settings.pass_through_endpoints for the credential and the caller', () => {
    const config = parseLiteLlmConfig('general_settings:\n  pass_through_endpoints:\n    - path: /svc\n      target: https://svc.example\n      headers: { litellm_user_api_key: X-Key }\n', {});
    const settings = settingsFrom(config, {});
    const expected = [{ path: '/svc', authenticated: true, guarded: true, includeSubpath: false, registered: true, keyHeader: 'x-key', langfuseAuth: false }];
    expect(settings.credentials.passThroughEndpoints).to.deep.equal(expected);
    expect(settings.policy.passThroughEndpoints).to.deep.equal(expected);
  });

  it('reads litellm_settings.budget_exceeded_throttle_percentage as budget_throttle_percentage does: a number in (0, 1], else off; off without rate limits', () => {
    const share = (value: string, env: Record<string, string> = { REDIS_URL: 'redis://127.0.0.1:6379' }, extra = '') =>
      settingsFrom(parseLiteLlmConfig(`litellm_settings:\n  budget_exceeded_throttle_percentage: ${value}\n${extra}`, {}), env).policy.budgetExceededThrottlePercentage;
    expect([share('0.1'), share('1'), share('0.5')]).to.deep.equal([0.1, 1, 0.5]);
    for (const invalid of ['0', '1.5', '-0.1', 'true', '"0.1"', 'null']) expect(share(invalid), invalid).to.equal(null);
    expect(share('0.1', {}), 'no Redis: no rate limit would slow the key').to.equal(null);
    expect(share('0.1', { REDIS_URL: 'redis://127.0.0.1:6379' }, 'tollgate:\n  enforce_rate_limits: false\n')).to.equal(null);
  });

  it('resolves os.environ/NAME references as LiteLLM does', () => {
    const config = parseLiteLlmConfig('general_settings:\n  master_key: os.environ/MY_KEY\n', { MY_KEY: 'sk-secret' });
    expect(config.general_settings?.master_key).to.equal('sk-secret');
  });

  it('accepts a LiteLLM config unchanged, ignoring what authorization does not read', () => {
    const yaml = [
      'model_list:',
      '  - model_name: gpt-4o',
      '    litellm_params: { model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY, rpm: 10 }',
      '    model_info: { access_groups: [beta], input_cost_per_token: 0.000005, output_cost_per_token: 0.000015 }',
      'litellm_settings: { drop_params: true, max_budget: 100, success_callback: [langfuse] }',
      'router_settings: { routing_strategy: usage-based-routing, model_group_alias: { gpt4: gpt-4o, hidden: { model: gpt-4o, hidden: true } } }',
      'general_settings: { master_key: sk-1, database_connection_pool_limit: 10 }',
      'environment_variables: { FOO: bar }',
    ].join('\n');
    const s = settingsFrom(parseLiteLlmConfig(yaml, {}), {});
    expect(s.policy.maxBudget).to.equal(100);
    expect(s.policy.modelList[0]).to.deep.include({ modelName: 'gpt-4o', underlyingModel: 'openai/gpt-4o', inputCostPerToken: 0.000005 });
    expect(s.policy.modelList[0]?.accessGroups).to.deep.equal(['beta']);
    expect(s.policy.modelGroupAlias).to.deep.equal({ gpt4: 'gpt-4o', hidden: 'gpt-4o' });
  });

  it('reads general_settings.apply_user_budget_to_team_keys (off unless set true)', () => {
    const flag = (yaml: string): boolean | undefined => settingsFrom(parseLiteLlmConfig(yaml, {}), {}).policy.applyUserBudgetToTeamKeys;
    expect(flag('general_settings:\n  apply_user_budget_to_team_keys: true\n')).to.equal(true);
    expect(flag('general_settings:\n  master_key: sk-1\n')).to.equal(false);
    expect(() => parseLiteLlmConfig('general_settings:\n  apply_user_budget_to_team_keys: sometimes\n', {})).to.throw(ConfigError, /apply_user_budget_to_team_keys/);
  });

  it('fails at startup with the path of a setting of the wrong type', () => {
    expect(() => parseLiteLlmConfig('general_settings:\n  enforce_user_param: "yes please"\n', {})).to.throw(
      ConfigError,
      /general_settings\.enforce_user_param/,
    );
    expect(() => parseLiteLlmConfig('litellm_settings:\n  max_budget: lots\n', {})).to.throw(ConfigError, /litellm_settings\.max_budget/);
    expect(() => parseLiteLlmConfig('tollgate:\n  negative_cache_ttl_seconds: -1\n', {})).to.throw(
      ConfigError,
      /tollgate\.negative_cache_ttl_seconds/,
    );
  });

  describe('litellm_settings.timezone: the zone budget resets align in, set for the process at load', () => {
    let dir = '';
    const configWith = (yaml: string): NodeJS.ProcessEnv => {
      dir = mkdtempSync(join(tmpdir(), 'tollgate-tz-'));
      writeFileSync(join(dir, 'config.yaml'), yaml);
      return { TOLLGATE_CONFIG: join(dir, 'config.yaml') };
    };
    // A 1d budget whose reset passed: its window ends at the next midnight in the zone.
    const windowEnd = (): string =>
      new Date(currentWindow({ budget_duration: '1d', budget_reset_at: new Date('2026-06-01T20:00:00Z') }, Date.parse('2026-06-01T21:00:00Z')).end).toISOString();

    afterEach(() => {
      useBudgetResetZone(UTC_RESET_ZONE);
      rmSync(dir, { recursive: true, force: true });
    });

    it('aligns budget windows to midnight in the configured zone', () => {
      loadSettings(configWith('litellm_settings:\n  timezone: Asia/Kolkata\n'));
      expect(windowEnd()).to.equal('2026-06-02T18:30:00.000Z');
    });

    it('is UTC when unset, empty or a name LiteLLM cannot load (its ZoneInfo fallback)', () => {
      for (const yaml of ['litellm_settings: {}\n', 'litellm_settings:\n  timezone: ""\n', 'litellm_settings:\n  timezone: Mars/Olympus\n']) {
        useBudgetResetZone(UTC_RESET_ZONE);
        loadSettings(configWith('litellm_settings:\n  timezone: Asia/Kolkata\n'));
        rmSync(dir, { recursive: true, force: true });
        loadSettings(configWith(yaml));
        expect(windowEnd(), yaml).to.equal('2026-06-02T00:00:00.000Z');
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a timezone that is not text, naming the setting', () => {
      expect(() => parseLiteLlmConfig('litellm_settings:\n  timezone: 5\n', {})).to.throw(ConfigError, /litellm_settings\.timezone/);
    });
  });

  it('reports YAML syntax errors clearly, by line and column, never quoting the line (it may hold a secret)', () => {
    expect(() => parseLiteLlmConfig('general_settings: [unclosed', {}, 'config.yaml')).to.throw(ConfigError, /config\.yaml: not valid YAML/);
    const error = (() => {
      try {
        parseLiteLlmConfig('general_settings:\n  master_key: sk-very-secret\n   bad: [\n', {});
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.message).to.match(/not valid YAML: [A-Z_]+ at line \d+, column \d+$/);
    expect(error.message).to.not.include('sk-very-secret');
  });

  it('refuses a key written twice in one mapping, saying PyYAML would silently keep the last (a lost general_settings block)', () => {
    expect(() => parseLiteLlmConfig('general_settings:\n  master_key: sk-a\ngeneral_settings:\n  enforce_user_param: true\n', {}, 'config.yaml')).to.throw(
      ConfigError,
      /^config\.yaml: not valid YAML: DUPLICATE_KEY at line 3, column 1 \(a key written twice in one mapping: PyYAML would keep only the last, silently dropping the first; remove one\)$/,
    );
  });

  it("reads YAML as LiteLLM's PyYAML does (YAML 1.1): merge keys, yes/no/on/off, 0-prefixed octal; y and n stay strings", () => {
    const config = parseLiteLlmConfig(
      [
        'shared: &shared',
        '  master_key: sk-from-anchor',
        '  allowed_routes: [/chat/completions]',
        'general_settings:',
        '  <<: *shared',
        '  enforce_user_param: yes',
        '  allow_requests_on_db_unavailable: off',
        'litellm_settings:',
        '  max_budget: 010',
        'model_list:',
        '  - model_name: y',
        '  - model_name: n',
      ].join('\n'),
      {},
    );
    const s = settingsFrom(config, {});
    expect(s.masterKey, 'brought in by the merge key').to.equal('sk-from-anchor');
    expect(config.general_settings?.allowed_routes).to.deep.equal(['/chat/completions']);
    expect(config.general_settings?.enforce_user_param).to.equal(true);
    expect(s.allowRequestsOnDbUnavailable).to.equal(false);
    expect(s.policy.maxBudget).to.equal(8);
    expect(config.model_list?.map((m) => m.model_name)).to.deep.equal(['y', 'n']);
  });

  it('reads os.environ/ values as get_secret does: True and False become booleans, any other text stays text', () => {
    const yaml = 'general_settings:\n  allow_requests_on_db_unavailable: os.environ/FLAG\n';
    expect(parseLiteLlmConfig(yaml, { FLAG: 'True' }).general_settings?.allow_requests_on_db_unavailable).to.equal(true);
    expect(parseLiteLlmConfig(yaml, { FLAG: 'False' }).general_settings?.allow_requests_on_db_unavailable).to.equal(false);
    // LiteLLM keeps "false" a string, which Python reads as true: refused by name instead.
    expect(() => parseLiteLlmConfig(yaml, { FLAG: 'false' })).to.throw(ConfigError, /general_settings\.allow_requests_on_db_unavailable/);
    expect(parseLiteLlmConfig('general_settings:\n  master_key: os.environ/KEY\n', { KEY: 'True-not' }).general_settings?.master_key).to.equal('True-not');
  });

  it("refuses LiteLLM's other ways to authenticate, switched on: custom_auth, enable_oauth2_auth, enable_oauth2_proxy_auth", () => {
    for (const [name, value] of [['custom_auth', 'custom_auth.user_api_key_auth'], ['enable_oauth2_auth', 'true'], ['enable_oauth2_proxy_auth', 'true']]) {
      expect(() => settingsFrom(parseLiteLlmConfig(`general_settings:\n  ${name}: ${value}\n`, {}), {}), name).to.throw(
        ConfigError,
        `'general_settings.${name}': not supported by Tollgate`,
      );
    }
    expect(settingsFrom(parseLiteLlmConfig('general_settings:\n  enable_oauth2_auth: false\n', {}), {}).masterKey).to.equal(null);
  });

  it("refuses a key under tollgate: or tollgate.jwt: it does not know (a misspelling has no LiteLLM meaning to fall back on)", () => {
    expect(() => parseLiteLlmConfig('tollgate:\n  cache_tll_seconds: 30\n', {})).to.throw(ConfigError, /'tollgate'.*cache_tll_seconds/);
    expect(() => parseLiteLlmConfig('tollgate:\n  jwt:\n    clock_skew: 5\n', {})).to.throw(ConfigError, /'tollgate\.jwt'.*clock_skew/);
  });

  it('refuses a master key set but empty, instead of running as an open proxy', () => {
    expect(() => settingsFrom({}, { LITELLM_MASTER_KEY: '' })).to.throw(ConfigError, /LITELLM_MASTER_KEY: set but empty/);
    expect(() => settingsFrom({}, { LITELLM_MASTER_KEY: '  \n' })).to.throw(ConfigError, /LITELLM_MASTER_KEY: set but empty/);
    expect(() => settingsFrom(parseLiteLlmConfig('general_settings:\n  master_key: ""\n', {}), {})).to.throw(ConfigError, /general_settings\.master_key/);
    expect(() => settingsFrom(parseLiteLlmConfig('general_settings:\n  master_key: os.environ/EMPTY\n', { EMPTY: '' }), {})).to.throw(ConfigError);
    expect(settingsFrom({}, {}).masterKey, 'unset: no master key').to.equal(null);
    expect(settingsFrom({}, { LITELLM_MASTER_KEY: 'sk-m\n' }).masterKey, 'trimmed').to.equal('sk-m');
  });

  it('reads Tollgate settings under tollgate:', () => {
    const config = parseLiteLlmConfig(
      'tollgate:\n  forward_credentials: true\n  negative_cache_ttl_seconds: 2\n  base_path: /genai/\n  cache_ttl_seconds: 30\n  cache_refresh_seconds: 20\n',
      {},
    );
    const s = settingsFrom(config, {});
    expect(s.forwardCredentials).to.equal(true);
    expect(s.cache.negativeTtlSeconds).to.equal(2);
    expect(s.cache.ttlSeconds).to.equal(30);
    expect(s.cache.refreshSeconds).to.equal(20);
    expect(cachePolicyFrom(s).refreshAfterMs).to.equal(20_000);
    expect(s.basePath).to.equal('/genai');
  });

  it('lower-cases the custom key header and keeps customer header mappings only', () => {
    const config = parseLiteLlmConfig(
      [
        'general_settings:',
        '  litellm_key_header_name: X-My-Key',
        '  user_header_mappings:',
        '    - { header_name: X-Customer, litellm_user_role: customer }',
        '    - { header_name: X-Employee, litellm_user_role: internal_user }',
      ].join('\n'),
      {},
    );
    const s = settingsFrom(config, {});
    expect(s.credentials.customKeyHeader).to.equal('x-my-key');
    expect(s.credentials.customerHeaderMappings).to.deep.equal(['x-customer']);
  });

  it('reads general_settings.token_rate_limit_type as get_rate_limit_type does: input, output, anything else total', () => {
    const typeOf = (line: string) => settingsFrom(parseLiteLlmConfig(['general_settings:', `  ${line}`].join('\n'), {}), {}).metering.tokenRateLimitType;
    expect(typeOf('token_rate_limit_type: output')).to.equal('output');
    expect(typeOf('token_rate_limit_type: input')).to.equal('input');
    expect(typeOf('token_rate_limit_type: Output')).to.equal('total');
    expect(typeOf('token_rate_limit_type: 3')).to.equal('total');
    expect(typeOf('master_key: sk-x')).to.equal('total');
  });

  it('reads user_header_mappings given as one mapping, not a list, as get_customer_user_header_from_mapping does', () => {
    const mapping = (role: string) =>
      settingsFrom(parseLiteLlmConfig(['general_settings:', '  user_header_mappings:', `    { header_name: X-Customer, litellm_user_role: ${role} }`].join('\n'), {}), {});
    expect(mapping('customer').credentials.customerHeaderMappings).to.deep.equal(['x-customer']);
    expect(mapping('internal_user').credentials.customerHeaderMappings).to.deep.equal([]);
  });
});

describe('settings: Redis Cluster (tollgate.redis_cluster)', () => {
  it('is off unless set; TOLLGATE_REDIS_CLUSTER takes true or false in any case, an empty value as unset, and refuses any other text', () => {
    expect(settingsFrom({}, {}).redisCluster).to.equal(false);
    expect(settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'TRUE' }).redisCluster).to.equal(true);
    expect(settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'false' }).redisCluster).to.equal(false);
    expect(settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: ' ' }).redisCluster).to.equal(false);
    expect(() => settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'yes' })).to.throw(ConfigError, "TOLLGATE_REDIS_CLUSTER: must be true or false (got 'yes')");
    expect(settingsFrom(parseLiteLlmConfig('tollgate:\n  redis_cluster: true\n', {}), { TOLLGATE_REDIS_CLUSTER: 'false' }).redisCluster).to.equal(true);
    expect(() => parseLiteLlmConfig('tollgate:\n  redis_cluster: "on please"\n', {})).to.throw(ConfigError, 'tollgate.redis_cluster');
  });

  it("defaults the key prefix to '{tollgate}:' on a cluster, so that every key Tollgate writes shares one slot; 'tollgate:' stays the standalone default", () => {
    expect(settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'true' }).cache.redisKeyPrefix).to.equal('{tollgate}:');
    expect(settingsFrom({}, {}).cache.redisKeyPrefix).to.equal('tollgate:');
    expect(settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'true', TOLLGATE_REDIS_PREFIX: 'gw-{eu}:' }).cache.redisKeyPrefix).to.equal('gw-{eu}:');
  });

  it('refuses, on a cluster, a key prefix without a non-empty hash tag, naming where it was set', () => {
    const cluster = parseLiteLlmConfig('tollgate:\n  redis_cluster: true\n  redis_key_prefix: "tollgate:"\n', {});
    expect(() => settingsFrom(cluster, {})).to.throw(ConfigError, "invalid setting 'tollgate.redis_key_prefix': on a Redis Cluster (tollgate.redis_cluster) the key prefix must hold a non-empty hash tag, e.g. '{tollgate}:', so that all of Tollgate's keys share one slot (got 'tollgate:')");
    for (const prefix of ['gw:', 'gw{}:', 'gw{:', 'gw}x{:']) {
      expect(() => settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'true', TOLLGATE_REDIS_PREFIX: prefix }), prefix).to.throw(ConfigError, /^TOLLGATE_REDIS_PREFIX: on a Redis Cluster/);
    }
    expect(settingsFrom({}, { TOLLGATE_REDIS_PREFIX: 'gw:' }).cache.redisKeyPrefix, 'standalone: any prefix').to.equal('gw:');
  });

  it('refuses, on a cluster, a REDIS_URL naming a database other than 0 (a cluster has no other); a standalone Redis keeps any', () => {
    expect(() => settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'true', REDIS_URL: 'redis://cache:6379/2' })).to.throw(
      ConfigError,
      "REDIS_URL: a Redis Cluster (tollgate.redis_cluster) has database 0 only; remove '/2' from the URL",
    );
    for (const url of ['redis://cache:6379', 'redis://cache:6379/', 'redis://cache:6379/0', 'rediss://u:p@cache:6380']) {
      expect(settingsFrom({}, { TOLLGATE_REDIS_CLUSTER: 'true', REDIS_URL: url }).redisUrl, url).to.equal(url);
    }
    expect(settingsFrom({}, { REDIS_URL: 'redis://cache:6379/2' }).redisUrl, 'standalone').to.equal('redis://cache:6379/2');
  });
});
