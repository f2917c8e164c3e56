/**
 * End to end for the JWT → virtual-key mapping (litellm_jwtauth.virtual_key_claim_field): the real
 * `tollgate serve`, tokens verified against a real JWKS server, Envoy CheckRequests over gRPC,
 * LiteLLM_JWTKeyMapping rows in a real database. Two servers read it: one rejecting unmapped
 * tokens, one falling back to the team mapping (the default).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import type { CheckRequest } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { JwtKeyMappingRecord } from '../../src/store/entities';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { mariaDbBackend, SQLITE_BACKEND, type E2eBackend } from '../support/e2e-backends';
import { anEnvoyCheck, chat, denialOf, isAllowed, upstreamHeaders } from '../support/envoy-requests';
import { aSigningKey, aToken, startJwksServer, type JwksServer, type SigningKey } from '../support/jwt';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { startServer, type ServerProcess } from '../support/server-process';
import { cliWith, type Cli } from '../support/cli-process';
import { eventually } from '../support/poll';

const MASTER_KEY = 'sk-master-jwt-mapping-e2e-0123';

function configYaml(unregistered: 'reject' | 'fallback_team_mapping'): string {
  return [
    'general_settings:',
    '  enable_jwt_auth: true',
    '  litellm_jwtauth:',
    '    team_id_jwt_field: tid',
    '    user_id_jwt_field: sub',
    '    virtual_key_claim_field: client.id',
    `    unregistered_jwt_client_behavior: ${unregistered}`,
    // Nothing cached expires or is revalidated during the run: a change a server sees within a
    // test's few seconds was announced to it.
    'tollgate:',
    '  cache_ttl_seconds: 600',
    '  cache_refresh_seconds: 600',
    '  negative_cache_ttl_seconds: 600',
  ].join('\n');
}

interface Seeded {
  readonly team: string;
  readonly mappedClient: string;
  readonly mappedKeyHash: string;
  readonly blockedClient: string;
}

async function aMapping(dataSource: DataSource, claimValue: string, token: string): Promise<void> {
  await dataSource.getRepository(JwtKeyMappingRecord).save({
    id: randomUUID(),
    jwt_claim_name: 'client.id',
    jwt_claim_value: claimValue,
    token,
    description: null,
    is_active: true,
    created_by: 'e2e',
    updated_by: 'e2e',
  });
}

async function seed(settings: DatabaseSettings): Promise<Seeded> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  await runMigrations(dataSource);
  try {
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'] });
    const keyTeam = await rows.aTeam({ models: ['gpt-4o-mini'] });
    const mapped = await rows.aKey({ team_id: keyTeam.team_id, key_alias: 'mapped-ci', models: ['gpt-4o-mini'] });
    const blocked = await rows.aKey({ team_id: keyTeam.team_id, blocked: true });
    const mappedClient = uniqueId('client');
    const blockedClient = uniqueId('client-blocked');
    await aMapping(dataSource, mappedClient, mapped.token);
    await aMapping(dataSource, blockedClient, blocked.token);
    return { team: team.team_id, mappedClient, mappedKeyHash: mapped.token, blockedClient };
  } finally {
    await dataSource.destroy();
  }
}

const BACKENDS: E2eBackend[] = [SQLITE_BACKEND, mariaDbBackend(true)];

for (const backend of BACKENDS) {
  describe(`JWT → virtual-key mapping end to end on ${backend.name}`, function () {
    this.timeout(120_000);
    let jwks: JwksServer;
    let key: SigningKey;
    let configs: TempConfig[] = [];
    let servers: ServerProcess[] = [];
    let rejecting: Checker;
    let fallingBack: Checker;
    let ids: Seeded;
    let cleanup: () => Promise<void> = async () => undefined;
    let cli: Cli;

    const bearer = async (claims: Record<string, unknown>, model = 'gpt-4o-mini'): Promise<CheckRequest> =>
      anEnvoyCheck({ body: chat(model), key: await aToken(key, claims) });

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      cli = cliWith(opened.env);
      ids = await seed(opened.settings);
      key = await aSigningKey('RS256', 'mapping-realm-key');
      jwks = await startJwksServer(key);
      configs = [writeConfig(configYaml('reject')), writeConfig(configYaml('fallback_team_mapping'))];
      servers = await Promise.all(
        configs.map((config) =>
          startServer({
            env: { ...opened.env, LITELLM_MASTER_KEY: MASTER_KEY, TOLLGATE_CONFIG: config.path, JWT_PUBLIC_KEY_URL: jwks.url },
            startupTimeoutMs: 90_000,
          }),
        ),
      );
      rejecting = connect((servers[0] as ServerProcess).address);
      fallingBack = connect((servers[1] as ServerProcess).address);
    });

    after(async function () {
      rejecting?.close();
      fallingBack?.close();
      const codes = await Promise.all(servers.map((server) => server.stop()));
      await jwks?.close();
      for (const config of configs) config.cleanup();
      await cleanup();
      expect(codes, 'exit codes after SIGTERM').to.deep.equal(servers.map(() => 0));
    });

    it("allows a mapped token as its key: the key's hash and alias upstream, the token's header stripped", async () => {
      for (const client of [rejecting, fallingBack]) {
        const response = await client.check(await bearer({ client: { id: ids.mappedClient }, tid: ids.team }));
        expect(isAllowed(response)).to.equal(true);
        expect(upstreamHeaders(response)).to.include({ 'x-tollgate-key-hash': ids.mappedKeyHash, 'x-tollgate-key-alias': 'mapped-ci' });
        expect(upstreamHeaders(response)['x-tollgate-team-id']).to.not.equal(ids.team);
        expect(response.ok_response?.headers_to_remove).to.include('authorization');
      }
    });

    it("holds a mapped token to its key's rules: another model is the key's 401", async () => {
      const denial = denialOf(await rejecting.check(await bearer({ client: { id: ids.mappedClient } }, 'gpt-4o')));
      expect(denial).to.include({ code: '401', type: 'key_model_access_denied' });
    });

    it('refuses a token mapped to a blocked key, as the blocked key itself (401)', async () => {
      const denial = denialOf(await fallingBack.check(await bearer({ client: { id: ids.blockedClient }, tid: ids.team })));
      expect(denial).to.include({ grpcCode: 16, code: '401', message: "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin." });
    });

    it("under reject, refuses an unmapped claim with LiteLLM's 403, and a token without the claim too", async () => {
      const unmapped = denialOf(await rejecting.check(await bearer({ client: { id: 'stranger' }, tid: ids.team }, 'gpt-4o')));
      expect(unmapped).to.include({ grpcCode: 7, code: '403', type: 'auth_error', message: "JWT Key Mapping: No registered mapping for client.id='stranger'. Access denied." });
      const missing = denialOf(await rejecting.check(await bearer({ tid: ids.team }, 'gpt-4o')));
      expect(missing).to.include({ code: '403', message: "JWT Key Mapping: Required claim 'client.id' is missing from the JWT. Access denied." });
    });

    it('tollgate jwt-mapping create and delete reach the running servers: a cached "no mapping" is dropped, a deleted mapping stops', async () => {
      const client = uniqueId('cli-client');
      const request = await bearer({ client: { id: client } });
      expect(denialOf(await rejecting.check(request)).code, 'unmapped: 403, and cached').to.equal('403');

      const created = await cli('jwt-mapping', 'create', '--claim-name', 'client.id', '--claim-value', client, '--key', ids.mappedKeyHash);
      expect(created.code, created.stderr).to.equal(0);
      expect(JSON.parse(created.stdout)).to.include({ jwt_claim_name: 'client.id', jwt_claim_value: client, key_hash: ids.mappedKeyHash, is_active: true });
      const allowed = await eventually(() => rejecting.check(request), isAllowed);
      expect(upstreamHeaders(allowed)['x-tollgate-key-hash']).to.equal(ids.mappedKeyHash);

      const again = await cli('jwt-mapping', 'create', '--claim-name', 'client.id', '--claim-value', client, '--key', ids.mappedKeyHash);
      expect(again).to.include({ code: 2 });
      expect(again.stderr).to.include(`a mapping for client.id=${client} already exists`);
      const noKey = await cli('jwt-mapping', 'create', '--claim-name', 'client.id', '--claim-value', uniqueId('x'), '--key', 'sk-never-issued');
      expect(noKey).to.include({ code: 2 });
      expect(noKey.stderr).to.include('key does not exist');

      const deleted = await cli('jwt-mapping', 'delete', '--claim-name', 'client.id', '--claim-value', client);
      expect(deleted.code, deleted.stderr).to.equal(0);
      const refused = await eventually(() => rejecting.check(request), (response) => !isAllowed(response));
      expect(denialOf(refused)).to.include({ code: '403', message: `JWT Key Mapping: No registered mapping for client.id='${client}'. Access denied.` });
      expect(await cli('jwt-mapping', 'delete', '--claim-name', 'client.id', '--claim-value', client)).to.include({ code: 2 });
    });

    it("tollgate key regenerate moves a key's mappings to its new hash and key delete drops them, on every running server", async () => {
      const made = await cli('key', 'create', '--models', 'gpt-4o-mini', '--alias', 'moving-ci');
      expect(made.code, made.stderr).to.equal(0);
      const hashOf = (stdout: string): string => /hash:\s+([0-9a-f]{64})/.exec(stdout)?.[1] ?? '';
      const firstHash = hashOf(made.stdout);
      const client = uniqueId('moving-client');
      expect((await cli('jwt-mapping', 'create', '--claim-name', 'client.id', '--claim-value', client, '--key', firstHash)).code).to.equal(0);
      const request = await bearer({ client: { id: client }, tid: ids.team }, 'gpt-4o-mini');
      for (const server of [rejecting, fallingBack]) {
        const allowed = await eventually(() => server.check(request), isAllowed);
        expect(upstreamHeaders(allowed)['x-tollgate-key-hash'], 'mapped, and cached').to.equal(firstHash);
      }

      const regenerated = await cli('key', 'regenerate', firstHash);
      expect(regenerated.code, regenerated.stderr).to.equal(0);
      const newHash = hashOf(regenerated.stdout);
      for (const server of [rejecting, fallingBack]) {
        const moved = await eventually(() => server.check(request), (response) => isAllowed(response) && upstreamHeaders(response)['x-tollgate-key-hash'] === newHash);
        expect(isAllowed(moved), 'the rotated-out hash is refused at once; the mapping follows the key').to.equal(true);
        expect(upstreamHeaders(moved)['x-tollgate-key-hash']).to.equal(newHash);
      }

      expect((await cli('key', 'delete', newHash)).code).to.equal(0);
      const unregistered = await eventually(() => rejecting.check(request), (response) => !isAllowed(response) && denialOf(response).code === '403');
      expect(denialOf(unregistered)).to.include({ code: '403', message: `JWT Key Mapping: No registered mapping for client.id='${client}'. Access denied.` });
      const teamRequest = await bearer({ client: { id: client }, tid: ids.team }, 'gpt-4o');
      const teamPath = await eventually(() => fallingBack.check(teamRequest), isAllowed);
      expect(upstreamHeaders(teamPath)).to.include({ 'x-tollgate-team-id': ids.team });
      expect(upstreamHeaders(teamPath)).to.not.have.property('x-tollgate-key-hash');
    });

    it('under fallback_team_mapping, decides an unmapped token by its team, as before', async () => {
      const response = await fallingBack.check(await bearer({ client: { id: 'stranger' }, tid: ids.team }, 'gpt-4o'));
      expect(isAllowed(response)).to.equal(true);
      expect(upstreamHeaders(response)).to.include({ 'x-tollgate-team-id': ids.team });
      expect(upstreamHeaders(response)).to.not.have.property('x-tollgate-key-hash');
    });
  });
}
