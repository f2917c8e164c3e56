/**
 * End to end for JWT auth: the real `tollgate serve` with TOLLGATE_CONFIG enabling JWT and
 * JWT_PUBLIC_KEY_URL pointing at a real JWKS server, Envoy CheckRequests over gRPC, LiteLLM rows
 * in a real database (embedded SQLite, and MariaDB + Redis).
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { toStruct } from '../../src/envoy/messages';
import type { CheckRequest } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed, upstreamHeaders } from '../support/envoy-requests';
import { aSigningKey, aToken, anUnsignedToken, startJwksServer, type JwksServer, type SigningKey } from '../support/jwt';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { mariaDbBackend, SQLITE_BACKEND, type E2eBackend } from '../support/e2e-backends';
import { startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-jwt-e2e-0123';
const DOWN_ISSUER = 'https://idp-down.example';
const ENVOY_NAMESPACE = 'envoy.filters.http.jwt_authn';

/** A Keycloak-style realm: team in `tid`, group teams in `groups`, user in `sub`, email, org. */
function configYaml(deadJwksUrl: string): string {
  return [
    'general_settings:',
    '  enable_jwt_auth: true',
    '  litellm_jwtauth:',
    '    team_id_jwt_field: tid',
    '    team_ids_jwt_field: groups',
    '    user_id_jwt_field: sub',
    '    user_email_jwt_field: email',
    '    user_id_upsert: true',
    '    org_id_jwt_field: org',
    '    issuers:',
    `      - {issuer: "${DOWN_ISSUER}", jwks_url: "${deadJwksUrl}", disable_audience_validation: true}`,
    'tollgate:',
    '  jwt:',
    `    envoy_metadata_namespace: ${ENVOY_NAMESPACE}`,
  ].join('\n');
}

interface Seeded {
  readonly team: string;
  readonly overTeam: string;
}

async function seed(settings: DatabaseSettings): Promise<Seeded> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  await runMigrations(dataSource);
  try {
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'], max_budget: 100, spend: 1 });
    const overTeam = await rows.aTeam({ max_budget: 10, spend: 10.5 });
    return { team: team.team_id, overTeam: overTeam.team_id };
  } finally {
    await dataSource.destroy();
  }
}

async function findUser(settings: DatabaseSettings, userId: string) {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  try {
    return await new TypeOrmAuthStore(dataSource, settings).findUser(userId);
  } finally {
    await dataSource.destroy();
  }
}

const BACKENDS: E2eBackend[] = [SQLITE_BACKEND, mariaDbBackend(true)];

for (const backend of BACKENDS) {
  describe(`JWT auth end to end on ${backend.name}`, function () {
    // Generous: on a loaded machine the server alone can take tens of seconds to start.
    this.timeout(120_000);
    let jwks: JwksServer;
    let deadJwks: JwksServer;
    let key: SigningKey;
    let config: TempConfig;
    let server: ServerProcess;
    let client: Checker;
    let settings: DatabaseSettings;
    let ids: Seeded;
    let cleanup: () => Promise<void> = async () => undefined;

    const bearer = async (claims: Record<string, unknown>, options: Parameters<typeof anEnvoyCheck>[0] = {}): Promise<CheckRequest> =>
      anEnvoyCheck({ body: chat('gpt-4o'), ...options, key: await aToken(key, claims) });

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      settings = opened.settings;
      ids = await seed(settings);
      key = await aSigningKey('RS256', 'realm-key-1');
      jwks = await startJwksServer(key);
      deadJwks = await startJwksServer();
      const deadUrl = deadJwks.url;
      await deadJwks.close();
      config = writeConfig(configYaml(deadUrl));
      server = await startServer({
        env: { ...opened.env, LITELLM_MASTER_KEY: MASTER_KEY, TOLLGATE_CONFIG: config.path, JWT_PUBLIC_KEY_URL: jwks.url },
        startupTimeoutMs: 90_000,
      });
      client = connect(server.address);
    });

    after(async function () {
      client?.close();
      const code = await server?.stop();
      await jwks?.close();
      config?.cleanup();
      await cleanup();
      expect(code, 'exit code after SIGTERM').to.equal(0);
    });

    it('allows an admin token on an admin route, as the proxy admin', async () => {
      const response = await client.check(await bearer({ scope: 'openid litellm_proxy_admin' }, { path: '/team/new', body: { team_alias: 'x' } }));
      expect(isAllowed(response)).to.equal(true);
      expect(upstreamHeaders(response)['x-tollgate-user-role']).to.equal('proxy_admin');
    });

    it('refuses an admin token outside admin_allowed_routes (401)', async () => {
      const denial = denialOf(await client.check(await bearer({ scope: 'litellm_proxy_admin' })));
      expect(denial).to.include({ grpcCode: 16, type: 'auth_error' });
      expect(denial.message).to.match(/^Authentication Error, Admin not allowed to access this route\. Route=\/v1\/chat\/completions/);
    });

    it('allows a team token on its team model and names the team upstream', async () => {
      const response = await client.check(await bearer({ tid: ids.team }));
      expect(isAllowed(response)).to.equal(true);
      const headers = upstreamHeaders(response);
      expect(headers).to.include({ 'x-tollgate-team-id': ids.team, 'x-tollgate-model': 'gpt-4o' });
      expect(headers).to.not.have.property('x-tollgate-key-hash');
      expect(response.ok_response?.headers_to_remove).to.include('authorization');
    });

    it('denies a team token another model: 401 team_model_access_denied', async () => {
      const denial = denialOf(await client.check(await bearer({ tid: ids.team }, { body: chat('claude-3-opus') })));
      expect(denial).to.include({ httpStatus: 'Unauthorized', type: 'team_model_access_denied', param: 'model' });
    });

    it('denies a team over budget: 400 budget_exceeded', async () => {
      const denial = denialOf(await client.check(await bearer({ tid: ids.overTeam })));
      expect(denial).to.include({ grpcCode: 7, type: 'budget_exceeded', message: `Budget has been exceeded! Team=${ids.overTeam} Current cost: 10.5, Max budget: 10.0` });
    });

    it('answers an unknown team with 404, and a token without the team claim with 401, as LiteLLM', async () => {
      const unknown = denialOf(await client.check(await bearer({ tid: 'no-such-team' })));
      expect(unknown).to.include({ httpStatus: 'NotFound', code: '404', type: 'auth_error' });
      expect(unknown.message).to.include("Team doesn't exist in db. Team=no-such-team.");
      const missing = denialOf(await client.check(await bearer({ scope: 'openid' })));
      expect(missing).to.include({ code: '401', message: "Authentication Error, No team id found in token. Checked team_id field 'tid'" });
    });

    it('refuses x-litellm-team-id naming a team the token does not carry (403)', async () => {
      const request = await bearer({ tid: ids.team, groups: [ids.team] }, { headers: { 'x-litellm-team-id': ids.overTeam } });
      const denial = denialOf(await client.check(request));
      expect(denial).to.include({ grpcCode: 7, code: '403' });
      expect(denial.message).to.equal(`Team '${ids.overTeam}' from x-litellm-team-id header is not in your JWT's allowed teams. Allowed teams: ['${ids.team}']`);
    });

    it('user_id_upsert: a token for an unknown user creates its LiteLLM_UserTable row', async () => {
      const userId = uniqueId('keycloak-user');
      expect(await findUser(settings, userId)).to.equal(null);
      const response = await client.check(await bearer({ tid: ids.team, sub: userId, email: `${userId}@example.com` }));
      expect(isAllowed(response)).to.equal(true);
      expect(upstreamHeaders(response)['x-tollgate-user-id']).to.equal(userId);
      expect(await findUser(settings, userId)).to.include({ user_id: userId, user_email: `${userId}@example.com` });
      expect(isAllowed(await client.check(await bearer({ tid: ids.team, sub: userId })))).to.equal(true);
    });

    it('accepts claims verified by Envoy jwt_authn from metadata_context, without a credential', async () => {
      const request = anEnvoyCheck({ body: chat('gpt-4o') });
      request.attributes = {
        ...request.attributes,
        metadata_context: { filter_metadata: { [ENVOY_NAMESPACE]: toStruct({ jwt_payload: { tid: ids.team, sub: 'envoy-user' } }) } },
      };
      const response = await client.check(request);
      expect(isAllowed(response)).to.equal(true);
      expect(upstreamHeaders(response)).to.include({ 'x-tollgate-team-id': ids.team, 'x-tollgate-user-id': 'envoy-user' });
    });

    it('refuses an unsigned (alg none) token claiming admin', async () => {
      const denial = denialOf(await client.check(anEnvoyCheck({ key: anUnsignedToken({ scope: 'litellm_proxy_admin' }, key.kid), path: '/team/new' })));
      expect(denial).to.include({ code: '401', message: 'Authentication Error, Validation fails: The specified alg value is not allowed' });
    });

    it('a JWKS outage: cached keys keep working; an issuer with nothing cached fails the RPC with UNAVAILABLE', async () => {
      await jwks.close();
      expect(isAllowed(await client.check(await bearer({ tid: ids.team })))).to.equal(true);
      const error = await client.check(await bearer({ tid: ids.team, iss: DOWN_ISSUER })).then(
        () => null,
        (e: ServiceError) => e,
      );
      expect(error?.code).to.equal(GrpcStatus.UNAVAILABLE);
      expect(error?.details).to.equal('identity provider keys unavailable');
    });

    it('never logs a token', async () => {
      const token = await aToken(key, { tid: ids.team });
      await client.check(anEnvoyCheck({ key: token, body: chat('gpt-4o') }));
      const [, , signature] = token.split('.');
      expect(server.output()).to.not.include(signature);
    });
  });
}
