/**
 * End to end for newer LiteLLM's per-issuer configuration: the real `tollgate serve` trusting two
 * identity providers (`litellm_jwtauth.issuers`, each with its own JWKS server) that map `sub`
 * differently, as LiteLLM's example does (a user from one, a team from the other), and
 * JWT_PUBLIC_KEY_URL for tokens of any other issuer, read with the top-level fields.
 */
import { expect } from 'chai';
import { CompactSign } from 'jose';
import { toStruct, type CheckRequest } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed, upstreamHeaders } from '../support/envoy-requests';
import { aSigningKey, aToken, startJwksServer, type JwksServer, type SigningKey } from '../support/jwt';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { SQLITE_BACKEND } from '../support/e2e-backends';
import { startServer, type ServerProcess } from '../support/server-process';

const KEYCLOAK = 'https://keycloak.example.com/realms/my-realm';
const WORKLOADS = 'https://workloads.example.com';
const ENVOY_NAMESPACE = 'envoy.filters.http.jwt_authn';
/** What a numeric `sub` of 9007199254740993 becomes once parsed into a double. */
const ROUNDED_TEAM = '9007199254740992';

function configYaml(keycloakJwks: string, workloadsJwks: string): string {
  return [
    'general_settings:',
    '  enable_jwt_auth: true',
    '  litellm_jwtauth:',
    '    user_id_upsert: true',
    '    user_id_jwt_field: uid',
    '    issuers:',
    `      - issuer: "${KEYCLOAK}"`,
    `        jwks_url: "${keycloakJwks}"`,
    '        audience: litellm-proxy',
    '        user_id_jwt_field: sub',
    '        user_email_jwt_field: email',
    '        team_ids_jwt_field: groups',
    `      - issuer: "${WORKLOADS}"`,
    `        jwks_url: "${workloadsJwks}"`,
    '        audience: litellm-proxy',
    '        team_id_jwt_field: sub',
    'tollgate:',
    '  jwt:',
    `    envoy_metadata_namespace: ${ENVOY_NAMESPACE}`,
  ].join('\n');
}

async function withStore<T>(settings: DatabaseSettings, use: (store: TypeOrmAuthStore, rows: LiteLlmRows) => Promise<T>): Promise<T> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    return await use(new TypeOrmAuthStore(dataSource, settings), new LiteLlmRows(dataSource));
  } finally {
    await dataSource.destroy();
  }
}

describe('JWT auth end to end: several issuers, each with its own claim fields', function () {
  this.timeout(120_000);
  let keycloakKey: SigningKey;
  let workloadsKey: SigningKey;
  let defaultKey: SigningKey;
  const servers: JwksServer[] = [];
  let config: TempConfig;
  let server: ServerProcess;
  let client: Checker;
  let settings: DatabaseSettings;
  let engTeam: string;
  let batchTeam: string;
  let cleanup: () => Promise<void> = async () => undefined;

  const bearer = async (key: SigningKey, claims: Record<string, unknown>): Promise<CheckRequest> =>
    anEnvoyCheck({ body: chat('gpt-4o'), key: await aToken(key, claims) });

  before(async function () {
    requireBuild();
    const opened = await SQLITE_BACKEND.open(this);
    cleanup = opened.cleanup;
    settings = opened.settings;
    await withStore(settings, async (_store, rows) => {
      engTeam = (await rows.aTeam({ models: ['gpt-4o'] })).team_id;
      batchTeam = (await rows.aTeam({ models: ['gpt-4o'] })).team_id;
      await rows.aTeam({ team_id: ROUNDED_TEAM, models: ['gpt-4o'] });
    });
    keycloakKey = await aSigningKey('RS256', 'keycloak-1');
    workloadsKey = await aSigningKey('ES256', 'workloads-1');
    defaultKey = await aSigningKey('RS256', 'default-1');
    const [keycloak, workloads, defaults] = await Promise.all([startJwksServer(keycloakKey), startJwksServer(workloadsKey), startJwksServer(defaultKey)]);
    servers.push(keycloak, workloads, defaults);
    config = writeConfig(configYaml(keycloak.url, workloads.url));
    server = await startServer({ env: { ...opened.env, TOLLGATE_CONFIG: config.path, JWT_PUBLIC_KEY_URL: defaults.url }, startupTimeoutMs: 90_000 });
    client = connect(server.address);
  });

  after(async function () {
    client?.close();
    const code = await server?.stop();
    await Promise.all(servers.map((s) => s.close()));
    config?.cleanup();
    await cleanup();
    expect(code, 'exit code after SIGTERM').to.equal(0);
  });

  it("a keycloak token: its sub is the user (created by user_id_upsert), acting for its group team", async () => {
    const userId = uniqueId('alice');
    const response = await client.check(await bearer(keycloakKey, { iss: KEYCLOAK, aud: 'litellm-proxy', sub: userId, email: `${userId}@acme.example`, groups: [engTeam] }));
    expect(isAllowed(response)).to.equal(true);
    expect(upstreamHeaders(response)).to.include({ 'x-tollgate-user-id': userId, 'x-tollgate-team-id': engTeam });
    expect(await withStore(settings, (store) => store.findUser(userId))).to.include({ user_email: `${userId}@acme.example` });
  });

  it('a workload token: its sub is the team, and no user is created for it', async () => {
    const response = await client.check(await bearer(workloadsKey, { iss: WORKLOADS, aud: 'litellm-proxy', sub: batchTeam }));
    expect(isAllowed(response)).to.equal(true);
    const headers = upstreamHeaders(response);
    expect(headers).to.include({ 'x-tollgate-team-id': batchTeam });
    expect(headers).to.not.have.property('x-tollgate-user-id');
    expect(await withStore(settings, (store) => store.findUser(batchTeam))).to.equal(null);
  });

  it('a workload token is read with the top-level user_id_jwt_field, which its entry leaves unset', async () => {
    const serviceUser = uniqueId('svc');
    const response = await client.check(await bearer(workloadsKey, { iss: WORKLOADS, aud: 'litellm-proxy', sub: batchTeam, uid: serviceUser }));
    expect(isAllowed(response)).to.equal(true);
    expect(upstreamHeaders(response)).to.include({ 'x-tollgate-team-id': batchTeam, 'x-tollgate-user-id': serviceUser });
  });

  it("a token naming neither issuer is verified with JWT_PUBLIC_KEY_URL's keys and read with the top-level fields", async () => {
    const userId = uniqueId('carol');
    const response = await client.check(await bearer(defaultKey, { iss: 'https://elsewhere.example', sub: batchTeam, uid: userId, groups: [engTeam] }));
    expect(isAllowed(response)).to.equal(true);
    // Neither entry's fields: its sub names no team, its groups no group team; its user is the top-level uid.
    const headers = upstreamHeaders(response);
    expect(headers).to.include({ 'x-tollgate-user-id': userId });
    expect(headers).to.not.have.property('x-tollgate-team-id');
  });

  it("a token signed with one issuer's key but naming the other is refused: each entry's keys serve its own iss only", async () => {
    const denial = denialOf(await client.check(await bearer(workloadsKey, { iss: KEYCLOAK, aud: 'litellm-proxy', sub: batchTeam })));
    expect(denial).to.include({ code: '401' });
    expect(denial.message).to.include('No matching public key found');
  });

  it("claims Envoy's jwt_authn verified are read with their issuer's fields too", async () => {
    const request = anEnvoyCheck({ body: chat('gpt-4o') });
    request.attributes = {
      ...request.attributes,
      metadata_context: { filter_metadata: { [ENVOY_NAMESPACE]: toStruct({ jwt_payload: { iss: WORKLOADS, sub: batchTeam } }) } },
    };
    const response = await client.check(request);
    expect(isAllowed(response)).to.equal(true);
    expect(upstreamHeaders(response)).to.include({ 'x-tollgate-team-id': batchTeam });
  });

  it('a numeric sub beyond 2^53 is refused (401), not read as the team its rounded value names, by bearer or from Envoy', async () => {
    const payload = `{"iss":"${WORKLOADS}","aud":"litellm-proxy","sub":9007199254740993,"exp":${Math.floor(Date.now() / 1000) + 3600}}`;
    const token = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: workloadsKey.alg, kid: workloadsKey.kid }).sign(workloadsKey.privateKey);
    const viaEnvoy = anEnvoyCheck({ body: chat('gpt-4o') });
    viaEnvoy.attributes = {
      ...viaEnvoy.attributes,
      metadata_context: { filter_metadata: { [ENVOY_NAMESPACE]: toStruct({ jwt_payload: { iss: WORKLOADS, sub: 2 ** 53 + 1 } }) } },
    };
    for (const request of [anEnvoyCheck({ body: chat('gpt-4o'), key: token }), viaEnvoy]) {
      const response = await client.check(request);
      expect(isAllowed(response), 'decided as another team').to.equal(false);
      expect(denialOf(response)).to.include({ code: '401', message: "Authentication Error, JWT claim 'sub' holds an integer too large to read exactly" });
    }
  });
});
