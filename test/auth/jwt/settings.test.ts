import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, parseLiteLlmConfig } from '../../../src/config/litellm-config';
import { settingsFrom } from '../../../src/config/settings';

const settingsOf = (yaml: string, env: Record<string, string> = {}) => settingsFrom(parseLiteLlmConfig(yaml, env), env);
const URL_ENV = { JWT_PUBLIC_KEY_URL: 'https://idp.example/certs' };

describe('JWT settings (general_settings.litellm_jwtauth, tollgate.jwt, JWT_* variables)', () => {
  it('is off without enable_jwt_auth, whatever else is configured', () => {
    expect(settingsOf('general_settings:\n  litellm_jwtauth:\n    team_id_jwt_field: tid\n').jwt.enabled).to.equal(false);
  });

  it("uses LiteLLM's defaults (litellm-auth.md §3.1)", () => {
    const jwt = settingsOf('general_settings:\n  enable_jwt_auth: true\n', URL_ENV).jwt;
    expect(jwt).to.deep.include({
      enabled: true,
      adminJwtScope: 'litellm_proxy_admin',
      adminAllowedRoutes: ['management_routes', 'spend_tracking_routes', 'global_spend_tracking_routes', 'info_routes'],
      teamAllowedRoutes: ['openai_routes', 'info_routes', 'mcp_routes', '/v1/messages', '/v1/messages/count_tokens'],
      teamIdDefault: null,
      teamIdUpsert: false,
      userIdUpsert: false,
      enforceRbac: false,
      enforceScopeBasedAccess: false,
      enforceTeamBasedModelAccess: false,
      requireObjectId: false,
      clockSkewSeconds: 0,
      maxTokenBytes: 16_384,
    });
    expect(jwt.jwks).to.deep.equal({ ttlMs: 600_000, staleTtlMs: 3_600_000, fetchTimeoutMs: 5000, refetchMinIntervalMs: 30_000 });
    expect(jwt.envoy).to.deep.equal({ namespace: null, payloadKey: 'jwt_payload' });
    expect(jwt.defaultKeys).to.deep.include({ jwksUrls: ['https://idp.example/certs'], audience: null, issuer: null });
  });

  it('reads every supported litellm_jwtauth setting', () => {
    const jwt = settingsOf(
      [
        'general_settings:',
        '  enable_jwt_auth: true',
        '  enforce_rbac: true',
        '  role_permissions:',
        '    - {role: team, models: [gpt-4o], routes: [openai_routes]}',
        '    - {role: internal_user}',
        '  litellm_jwtauth:',
        '    admin_jwt_scope: llm-admin',
        '    admin_allowed_routes: [management_routes]',
        '    team_id_jwt_field: claims.team',
        '    team_id_default: default-team',
        '    team_id_upsert: true',
        '    team_ids_jwt_field: groups',
        '    team_alias_jwt_field: team_name',
        '    team_allowed_routes: [openai_routes]',
        '    org_id_jwt_field: org',
        '    org_alias_jwt_field: org_name',
        '    user_id_jwt_field: sub',
        '    user_email_jwt_field: email',
        '    user_allowed_email_domain: example.com',
        '    user_roles_jwt_field: realm_access.roles',
        '    user_allowed_roles: [llm-user]',
        '    user_id_upsert: true',
        '    end_user_id_jwt_field: customer',
        '    public_key_ttl: 60',
        '    public_key_stale_ttl: 120',
        '    public_allowed_routes: [public_routes]',
        '    enforce_rbac: true',
        '    roles_jwt_field: resource_access.litellm.roles',
        '    role_mappings: [{role: llm-admins, internal_role: proxy_admin}]',
        '    object_id_jwt_field: oid',
        '    scope_mappings: [{scope: "llm:gpt", models: [gpt-4o]}]',
        '    enforce_scope_based_access: true',
        '    enforce_team_based_model_access: true',
        '    issuers: [{issuer: "https://tenant.example", jwks_url: "https://tenant.example/certs", audience: app}]',
        'litellm_settings:',
        '  default_internal_user_params: {user_role: internal_user_viewer, max_budget: 5, models: [gpt-4o-mini]}',
        'tollgate:',
        '  jwt:',
        '    envoy_metadata_namespace: envoy.filters.http.jwt_authn',
        '    envoy_metadata_payload_key: payload',
        '    clock_skew_seconds: 30',
        '    max_token_bytes: 8192',
        '    jwks_fetch_timeout_ms: 800',
        '    jwks_refetch_min_interval_seconds: 10',
      ].join('\n'),
      { ...URL_ENV, JWT_AUDIENCE: 'litellm', JWT_ISSUER: 'https://idp.example/realms/x' },
    ).jwt;
    expect(jwt.fields).to.deep.equal({
      teamId: 'claims.team',
      teamIds: 'groups',
      teamAlias: 'team_name',
      orgId: 'org',
      orgAlias: 'org_name',
      userId: 'sub',
      userEmail: 'email',
      userRoles: 'realm_access.roles',
      roles: 'resource_access.litellm.roles',
      endUserId: 'customer',
      objectId: 'oid',
    });
    expect(jwt).to.deep.include({
      adminJwtScope: 'llm-admin',
      adminAllowedRoutes: ['management_routes'],
      teamAllowedRoutes: ['openai_routes'],
      teamIdDefault: 'default-team',
      teamIdUpsert: true,
      userIdUpsert: true,
      userAllowedEmailDomain: 'example.com',
      userAllowedRoles: ['llm-user'],
      enforceRbac: true,
      requireObjectId: true,
      enforceScopeBasedAccess: true,
      enforceTeamBasedModelAccess: true,
      clockSkewSeconds: 30,
      maxTokenBytes: 8192,
    });
    expect(jwt.roleMappings).to.deep.equal([{ role: 'llm-admins', internalRole: 'proxy_admin' }]);
    expect(jwt.rolePermissions).to.deep.equal([
      { role: 'team', models: ['gpt-4o'], routes: ['openai_routes'] },
      { role: 'internal_user', models: null, routes: null },
    ]);
    expect(jwt.scopeMappings).to.deep.equal([{ scope: 'llm:gpt', models: ['gpt-4o'] }]);
    expect(jwt.issuers).to.deep.equal([
      { jwksUrls: ['https://tenant.example/certs'], staticKeys: [], audience: 'app', issuer: 'https://tenant.example', fields: { userId: null, userEmail: null, teamId: null, teamIds: null, orgId: null, endUserId: null } },
    ]);
    expect(jwt.defaultKeys).to.deep.include({ audience: 'litellm', issuer: 'https://idp.example/realms/x' });
    expect(jwt.jwks).to.deep.equal({ ttlMs: 60_000, staleTtlMs: 120_000, fetchTimeoutMs: 800, refetchMinIntervalMs: 10_000 });
    expect(jwt.envoy).to.deep.equal({ namespace: 'envoy.filters.http.jwt_authn', payloadKey: 'payload' });
    expect(jwt.newUserDefaults).to.deep.equal({ userRole: 'internal_user_viewer', maxBudget: 5, models: ['gpt-4o-mini'] });
  });

  it("litellm_jwtauth.issuers: an audience (one or a list) or disable_audience_validation; keys from the issuer's OIDC discovery document without jwks_url", () => {
    const issuers = (entry: string) => settingsOf(`general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    issuers: [${entry}]\n`).jwt.issuers;
    expect(issuers('{issuer: "https://idp.example/realms/x/", audience: [a, b]}')).to.deep.equal([
      {
        jwksUrls: ['https://idp.example/realms/x/.well-known/openid-configuration'],
        staticKeys: [],
        audience: ['a', 'b'],
        issuer: 'https://idp.example/realms/x/',
        fields: { userId: null, userEmail: null, teamId: null, teamIds: null, orgId: null, endUserId: null },
      },
    ]);
    expect(issuers('{issuer: "https://idp", jwks_url: "https://idp/certs", disable_audience_validation: true}')[0]).to.deep.include({ audience: null });
  });

  it("litellm_jwtauth.issuers: an entry's own claim fields (newer LiteLLM's per-issuer configuration), the rest left to the top-level ones", () => {
    const [entry] = settingsOf(
      'general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    user_id_jwt_field: uid\n    issuers:\n' +
        '    - {issuer: "https://idp", audience: app, user_id_jwt_field: sub, user_email_jwt_field: email, team_id_jwt_field: tid,\n' +
        '       team_ids_jwt_field: groups, org_id_jwt_field: org, end_user_id_jwt_field: customer}\n',
    ).jwt.issuers;
    expect(entry?.fields).to.deep.equal({ userId: 'sub', userEmail: 'email', teamId: 'tid', teamIds: 'groups', orgId: 'org', endUserId: 'customer' });
    const partial = settingsOf('general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    issuers: [{issuer: "https://idp", audience: app, team_id_jwt_field: sub}]\n');
    expect(partial.jwt.issuers[0]?.fields).to.deep.include({ teamId: 'sub', userId: null, teamIds: null });
    expect(() => settingsOf('general_settings:\n  litellm_jwtauth:\n    issuers: [{issuer: "https://idp", audience: app, team_id_jwt_field: [sub]}]\n')).to.throw(ConfigError, 'team_id_jwt_field');
  });

  for (const [what, entry] of [
    ['neither an audience nor disable_audience_validation', '{issuer: "https://idp", jwks_url: "https://idp/certs"}'],
    ['disable_audience_validation: false and no audience', '{issuer: "https://idp", jwks_url: "https://idp/certs", disable_audience_validation: false}'],
    ['both an audience and disable_audience_validation', '{issuer: "https://idp", audience: app, disable_audience_validation: true}'],
  ] as const) {
    it(`refuses an issuer with ${what} (newer LiteLLM's JWTIssuerConfig refuses it too)`, () => {
      expect(() => settingsOf(`general_settings:\n  litellm_jwtauth:\n    issuers: [${entry}]\n`)).to.throw(ConfigError, "issuers[0].audience': an issuer must name an audience or set disable_audience_validation: true");
    });
  }

  it('refuses a JWT_PUBLIC_KEY_URL entry that is not an http(s) URL (a PEM, a path), which no fetch could ever use', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';
    for (const value of [pem, '/etc/jwks.json', 'https://a/certs,file:///etc/jwks.json', 'idp.example/certs']) {
      expect(() => settingsOf('general_settings:\n  enable_jwt_auth: true\n', { JWT_PUBLIC_KEY_URL: value }), value).to.throw(
        ConfigError,
        "'JWT_PUBLIC_KEY_URL': every comma-separated entry must be an http(s) URL",
      );
    }
    expect(settingsOf('general_settings:\n  enable_jwt_auth: false\n', { JWT_PUBLIC_KEY_URL: pem }).jwt.enabled, 'JWT auth off: not read').to.equal(false);
  });

  it('splits JWT_PUBLIC_KEY_URL on commas, trimming each URL', () => {
    const jwt = settingsOf('general_settings:\n  enable_jwt_auth: true\n', { JWT_PUBLIC_KEY_URL: ' https://a/certs , https://b/certs,' }).jwt;
    expect(jwt.defaultKeys.jwksUrls).to.deep.equal(['https://a/certs', 'https://b/certs']);
  });

  it('accepts os.environ/NAME references inside litellm_jwtauth', () => {
    const yaml = 'general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    team_id_default: os.environ/DEFAULT_TEAM\n';
    expect(settingsOf(yaml, { ...URL_ENV, DEFAULT_TEAM: 'team-from-env' }).jwt.teamIdDefault).to.equal('team-from-env');
  });

  it('parses static keys: SPKI PEM and JWK', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwk = { ...publicKey.export({ format: 'jwk' }), kty: 'EC', kid: 'k1', alg: 'ES256' };
    const config = parseLiteLlmConfig('general_settings:\n  enable_jwt_auth: true\n', {});
    const jwt = settingsFrom({ ...config, tollgate: { jwt: { public_keys: [pem, jwk] } } }, {}).jwt;
    expect(jwt.defaultKeys.staticKeys.map((k) => [k.kid, k.alg, k.key.asymmetricKeyType])).to.deep.equal([
      [null, null, 'ec'],
      ['k1', 'ES256', 'ec'],
    ]);
  });

  describe('refuses at startup', () => {
    const refusal = (yaml: string, env: Record<string, string> = URL_ENV): string => {
      try {
        settingsOf(yaml, env);
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };

    for (const [name, value] of [
      ['custom_validate', 'my_module.validate'],
      ['oidc_userinfo_enabled', 'true'],
      ['routing_overrides', '[{}]'],
      ['sync_user_role_and_teams', 'true'],
      ['team_claim_fallback', 'true'],
      ['fallback_to_db_teams', 'true'],
    ] as const) {
      it(`litellm_jwtauth.${name}, which Tollgate does not implement`, () => {
        expect(refusal(`general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    ${name}: ${value}\n`)).to.include(
          `general_settings.litellm_jwtauth.${name}': not supported by Tollgate`,
        );
      });
    }

    it('a setting on an issuer entry that LiteLLM reads only at the top level (it would apply to no token), naming the key', () => {
      const issuer = (extra: string) =>
        `general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    issuers: [{issuer: "https://idp", jwks_url: "https://idp/certs", audience: app${extra}}]\n`;
      for (const [name, value] of [
        ['team_alias_jwt_field', 'team_name'],
        ['org_alias_jwt_field', 'org_name'],
        ['object_id_jwt_field', 'oid'],
        ['roles_jwt_field', 'roles'],
        ['user_roles_jwt_field', 'roles'],
        ['virtual_key_claim_field', 'azp'],
        ['user_id_upsert', 'true'],
        ['team_id_default', 'blue'],
        ['enforce_rbac', 'true'],
        ['admin_jwt_scope', 'admin'],
        ['public_key_ttl', '60'],
      ] as const) {
        expect(refusal(issuer(`, ${name}: ${value}`)), name).to.include(
          `'general_settings.litellm_jwtauth.issuers[0].${name}': not a per-issuer setting (an issuer entry may set only issuer, jwks_url, audience, disable_audience_validation, user_id_jwt_field, user_email_jwt_field, team_id_jwt_field, team_ids_jwt_field, org_id_jwt_field, end_user_id_jwt_field;`,
        );
      }
      expect(settingsOf(issuer(', team_alias_jwt_field: null'), {}).jwt.issuers, 'switched off').to.have.length(1);
    });

    it('a setting LiteLLM_JWTAuth does not know (LiteLLM does not start either); known ones of newer versions that change no decision pass', () => {
      expect(refusal('general_settings:\n  litellm_jwtauth:\n    user_id_upsrt: true\n')).to.include(
        "'general_settings.litellm_jwtauth.user_id_upsrt': unknown setting",
      );
      const known = 'general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    upsert_sso_user_to_team: true\n    oidc_userinfo_cache_ttl: 60\n';
      expect(settingsOf(known, URL_ENV).jwt.enabled).to.equal(true);
    });

    it("the combinations LiteLLM_JWTAuth refuses, with LiteLLM's messages", () => {
      const jwtauth = (lines: string) => `general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n${lines}`;
      expect(refusal(jwtauth('    user_roles_jwt_field: roles\n'))).to.include('user_allowed_roles must be provided if user_roles_jwt_field is set.');
      expect(refusal(jwtauth('    user_allowed_roles: [admin]\n'))).to.include('user_allowed_roles must be provided if user_roles_jwt_field is set.');
      expect(refusal(jwtauth('    object_id_jwt_field: oid\n'))).to.include('if object_id_jwt_field is set, role_mappings must also be set.');
      expect(refusal(jwtauth('    scope_mappings: [{scope: s, models: [m]}]\n'))).to.include('scope_mappings must be set if enforce_scope_based_access is true.');
      expect(refusal(jwtauth('    scope_mappings: [{scope: s}]\n    enforce_scope_based_access: false\n'))).to.include('enforce_scope_based_access');
      const valid = jwtauth('    user_roles_jwt_field: roles\n    user_allowed_roles: [admin]\n    object_id_jwt_field: oid\n    role_mappings: []\n');
      expect(settingsOf(valid, URL_ENV).jwt.enabled).to.equal(true);
    });

    it('jwt_litellm_role_map, which would change who a caller is', () => {
      const jwtauth = (lines: string) => `general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n${lines}`;
      expect(refusal(jwtauth('    jwt_litellm_role_map: [{jwt_role: "admin*", litellm_role: proxy_admin}]\n'))).to.include('jwt_litellm_role_map');
    });

    it('auto_register_map_existing_key, which would pick one of a user\'s keys where Tollgate mints one', () => {
      const jwtauth = (lines: string) => `general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n${lines}`;
      const lines = '    virtual_key_claim_field: sub\n    unregistered_jwt_client_behavior: auto_register\n';
      expect(refusal(jwtauth(`${lines}    auto_register_map_existing_key: true\n`))).to.include(
        "'general_settings.litellm_jwtauth.auto_register_map_existing_key': not supported by Tollgate",
      );
      expect(settingsOf(jwtauth(`${lines}    auto_register_map_existing_key: false\n`), URL_ENV).jwt.virtualKeyMapping?.unregistered).to.equal('auto_register');
    });

    it('an unregistered_jwt_client_behavior LiteLLM does not know, JWT auth on or not (LiteLLM does not start either)', () => {
      expect(refusal('general_settings:\n  litellm_jwtauth:\n    unregistered_jwt_client_behavior: allow\n')).to.include(
        "'general_settings.litellm_jwtauth.unregistered_jwt_client_behavior': must be one of fallback_team_mapping, reject, auto_register",
      );
    });

    it('a virtual_key_claim_field that is not a string, naming the key', () => {
      expect(refusal('general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    virtual_key_claim_field: [a, b]\n')).to.include(
        "'general_settings.litellm_jwtauth.virtual_key_claim_field'",
      );
    });

    it('but accepts those settings switched off', () => {
      const yaml = 'general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    oidc_userinfo_enabled: false\n    sync_user_role_and_teams: false\n';
      expect(settingsOf(yaml, URL_ENV).jwt.enabled).to.equal(true);
    });

    it('JWT auth with no way to verify a token', () => {
      expect(refusal('general_settings:\n  enable_jwt_auth: true\n', {})).to.include('no way to verify tokens');
    });

    it('a wrong type, naming the key', () => {
      expect(refusal('general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    user_id_upsert: sometimes\n')).to.include(
        "'general_settings.litellm_jwtauth.user_id_upsert'",
      );
    });

    it('a role mapping to a role JWTs cannot have', () => {
      expect(
        refusal('general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    role_mappings: [{role: x, internal_role: customer}]\n'),
      ).to.include('role_mappings.0.internal_role');
    });

    it('a private key among tollgate.jwt.public_keys', () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const config = parseLiteLlmConfig('general_settings:\n  enable_jwt_auth: true\n', {});
      expect(() => settingsFrom({ ...config, tollgate: { jwt: { public_keys: [pem] } } }, {})).to.throw(
        ConfigError,
        "tollgate.jwt.public_keys.0': a private key",
      );
    });

    it('a shared secret (oct JWK) among tollgate.jwt.public_keys', () => {
      const config = parseLiteLlmConfig('general_settings:\n  enable_jwt_auth: true\n', {});
      expect(() => settingsFrom({ ...config, tollgate: { jwt: { public_keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } } }, {})).to.throw(
        ConfigError,
        'not an asymmetric public signature key',
      );
    });
  });
});
