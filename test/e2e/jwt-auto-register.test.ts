/**
 * End to end for `unregistered_jwt_client_behavior: auto_register`: the real `tollgate serve`
 * (two replicas on one MariaDB + Redis; one server on the embedded store), tokens verified against
 * a real JWKS server, Envoy CheckRequests over gRPC. A new client's first token creates a key and a
 * LiteLLM_JWTKeyMapping row; every later token, on any replica, is decided as that key.
 */
import { expect } from 'chai';
import { In, type DataSource } from 'typeorm';
import type { CheckRequest } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { JwtKeyMappingRecord, VerificationTokenRecord } from '../../src/store/entities';
import { runMigrations } from '../../src/store/migrations';
import { cliWith, type Cli } from '../support/cli-process';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { mariaDbBackend, SQLITE_BACKEND, type E2eBackend } from '../support/e2e-backends';
import { anEnvoyCheck, chat, denialOf, isAllowed, metadataOf, upstreamHeaders } from '../support/envoy-requests';
import { aSigningKey, aToken, startJwksServer, type JwksServer, type SigningKey } from '../support/jwt';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { eventually } from '../support/poll';
import { startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-jwt-auto-register-e2e-0123';

function configYaml(extra: readonly string[] = []): string {
  return [
    'general_settings:',
    '  enable_jwt_auth: true',
    '  litellm_jwtauth:',
    '    team_id_jwt_field: tid',
    '    user_id_jwt_field: sub',
    '    virtual_key_claim_field: email',
    '    unregistered_jwt_client_behavior: auto_register',
    ...extra.map((line) => `    ${line}`),
    // Nothing cached expires or is revalidated during the run: a change a server sees within a
    // test's few seconds was announced to it.
    'tollgate:',
    '  cache_ttl_seconds: 600',
    '  cache_refresh_seconds: 600',
    '  negative_cache_ttl_seconds: 600',
  ].join('\n');
}

/** What the database holds for one client: its mapping rows, and the keys its (own) user owns. */
interface Registration {
  readonly mappings: readonly { readonly token: string; readonly active: boolean }[];
  readonly keys: readonly { readonly token: string; readonly teamId: string | null; readonly metadata: unknown; readonly blocked: boolean }[];
}

const BACKENDS: readonly { readonly backend: E2eBackend; readonly replicas: number }[] = [
  { backend: SQLITE_BACKEND, replicas: 1 },
  { backend: mariaDbBackend(true), replicas: 2 },
];

for (const { backend, replicas } of BACKENDS) {
  describe(`JWT auto_register end to end on ${backend.name} (${replicas} server${replicas > 1 ? 's' : ''})`, function () {
    this.timeout(120_000);
    let jwks: JwksServer;
    let signingKey: SigningKey;
    let configs: TempConfig[] = [];
    let servers: ServerProcess[] = [];
    let checkers: Checker[] = [];
    let settings: DatabaseSettings;
    let env: Record<string, string>;
    let cli: Cli;
    let team: string;
    let cleanup: () => Promise<void> = async () => undefined;

    /** Work on the database the servers use, through a DataSource of the test's own. */
    async function withDatabase<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
      const dataSource = createDataSource(settings);
      await dataSource.initialize();
      try {
        return await work(dataSource);
      } finally {
        await dataSource.destroy();
      }
    }

    /** A client no mapping names yet: its own email, and its own user (a row, unless `known` is false). */
    async function aNewClient(known = true): Promise<{ email: string; sub: string }> {
      const client = { email: `${uniqueId('client')}@example.com`, sub: uniqueId('jwt-user') };
      if (known) await withDatabase((dataSource) => new LiteLlmRows(dataSource).aUser({ user_id: client.sub }));
      return client;
    }

    const request = async (claims: Record<string, unknown>, model = 'gpt-4o'): Promise<CheckRequest> =>
      anEnvoyCheck({ body: chat(model), key: await aToken(signingKey, claims) });

    function registrationOf(client: { email: string; sub: string }): Promise<Registration> {
      return withDatabase(async (dataSource) => {
        const mappings = await dataSource.getRepository(JwtKeyMappingRecord).find({ where: { jwt_claim_name: 'email', jwt_claim_value: client.email } });
        const mapped = mappings.map((m) => m.token);
        const keys = await dataSource.getRepository(VerificationTokenRecord).find({
          where: [{ user_id: client.sub }, ...(mapped.length > 0 ? [{ token: In(mapped) }] : [])],
        });
        return {
          mappings: mappings.map((m) => ({ token: m.token, active: Boolean(m.is_active) })),
          keys: keys.map((k) => ({ token: k.token, teamId: k.team_id, metadata: k.metadata, blocked: k.blocked === true })),
        };
      });
    }

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      settings = opened.settings;
      env = opened.env;
      cli = cliWith(opened.env);
      team = await withDatabase(async (dataSource) => {
        await runMigrations(dataSource);
        return (await new LiteLlmRows(dataSource).aTeam({ models: ['gpt-4o'] })).team_id;
      });
      signingKey = await aSigningKey('RS256', 'auto-register-realm-key');
      jwks = await startJwksServer(signingKey);
      configs = Array.from({ length: replicas }, () => writeConfig(configYaml()));
      servers = await Promise.all(
        configs.map((config) =>
          startServer({
            env: { ...opened.env, LITELLM_MASTER_KEY: MASTER_KEY, TOLLGATE_CONFIG: config.path, JWT_PUBLIC_KEY_URL: jwks.url },
            startupTimeoutMs: 90_000,
          }),
        ),
      );
      checkers = servers.map((server) => connect(server.address));
    });

    after(async function () {
      for (const checker of checkers) checker.close();
      const codes = await Promise.all(servers.map((server) => server.stop()));
      await jwks?.close();
      for (const config of configs) config.cleanup();
      await cleanup();
      expect(codes, 'exit codes after SIGTERM').to.deep.equal(servers.map(() => 0));
    });

    it("allows a new client's first token as a key created for it: its hash upstream and in the metadata, the key and mapping in the database", async () => {
      const client = await aNewClient();
      const [first] = checkers;
      const response = await (first as Checker).check(await request({ ...client, tid: team }));
      expect(isAllowed(response), JSON.stringify(response.denied_response ?? null)).to.equal(true);
      const keyHash = upstreamHeaders(response)['x-tollgate-key-hash'];
      expect(keyHash).to.match(/^[0-9a-f]{64}$/);
      expect(upstreamHeaders(response)).to.include({ 'x-tollgate-team-id': team, 'x-tollgate-user-id': client.sub });
      expect(metadataOf(response)).to.include({ key_hash: keyHash });
      expect(response.ok_response?.headers_to_remove).to.include('authorization');

      const registration = await registrationOf(client);
      expect(registration.mappings).to.deep.equal([{ token: keyHash, active: true }]);
      expect(registration.keys).to.have.length(1);
      expect(registration.keys[0]).to.deep.include({ token: keyHash, teamId: team, blocked: false });
      expect(registration.keys[0]?.metadata).to.deep.include({ auto_registered: true });
    });

    it('decides the same client again, on every server and with a fresh token, as the same key, creating nothing more', async () => {
      const client = await aNewClient();
      const first = await (checkers[0] as Checker).check(await request({ ...client, tid: team }));
      const keyHash = upstreamHeaders(first)['x-tollgate-key-hash'];
      expect(keyHash).to.match(/^[0-9a-f]{64}$/);
      for (const checker of [...checkers, ...checkers]) {
        const again = await checker.check(await request({ ...client, tid: team }));
        expect(isAllowed(again)).to.equal(true);
        expect(upstreamHeaders(again)['x-tollgate-key-hash']).to.equal(keyHash);
      }
      const registration = await registrationOf(client);
      expect(registration.mappings.map((m) => m.token)).to.deep.equal([keyHash]);
      expect(registration.keys.map((k) => k.token)).to.deep.equal([keyHash]);
    });

    it("registers one key for a new client's tokens arriving at once on every server", async () => {
      const client = await aNewClient();
      // Signed first, so that the Checks arrive together.
      const requests = await Promise.all(Array.from({ length: 8 }, () => request({ ...client, tid: team })));
      const responses = await Promise.all(requests.map((req, i) => (checkers[i % checkers.length] as Checker).check(req)));
      for (const response of responses) expect(isAllowed(response), JSON.stringify(response.denied_response ?? null)).to.equal(true);
      const hashes = [...new Set(responses.map((response) => upstreamHeaders(response)['x-tollgate-key-hash']))];
      expect(hashes).to.have.length(1);
      const registration = await registrationOf(client);
      expect(registration.keys.map((k) => k.token), 'no orphan key').to.deep.equal(hashes);
      expect(registration.mappings.map((m) => m.token)).to.deep.equal(hashes);
    });

    it('registers new clients arriving at once on every server, each with a key of its own', async () => {
      const clients = await Promise.all(Array.from({ length: 8 }, () => aNewClient()));
      const requests = await Promise.all(clients.map((client) => request({ ...client, tid: team })));
      const responses = await Promise.all(requests.map((req, i) => (checkers[i % checkers.length] as Checker).check(req)));
      for (const response of responses) expect(isAllowed(response), JSON.stringify(response.denied_response ?? null)).to.equal(true);
      const hashes = responses.map((response) => upstreamHeaders(response)['x-tollgate-key-hash']);
      expect(new Set(hashes).size).to.equal(clients.length);
      for (const [i, client] of clients.entries()) {
        expect((await registrationOf(client)).keys.map((k) => k.token)).to.deep.equal([hashes[i]]);
      }
    });

    it('refuses the client as its blocked key once `tollgate key block` blocks it, on every server, registering no other', async () => {
      const client = await aNewClient();
      const first = await (checkers[0] as Checker).check(await request({ ...client, tid: team }));
      const keyHash = upstreamHeaders(first)['x-tollgate-key-hash'] ?? '';
      expect(keyHash).to.match(/^[0-9a-f]{64}$/);
      for (const checker of checkers) expect(isAllowed(await checker.check(await request({ ...client, tid: team }))), 'cached as allowed').to.equal(true);

      const blocked = await cli('key', 'block', keyHash);
      expect(blocked.code, blocked.stderr).to.equal(0);
      for (const checker of checkers) {
        const refused = await eventually(async () => checker.check(await request({ ...client, tid: team })), (response) => !isAllowed(response));
        expect(denialOf(refused)).to.include({ grpcCode: 16, code: '401', message: "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin." });
      }
      const registration = await registrationOf(client);
      expect(registration.keys).to.deep.equal([{ token: keyHash, teamId: team, metadata: registration.keys[0]?.metadata, blocked: true }]);
      expect(registration.mappings.map((m) => m.token)).to.deep.equal([keyHash]);
    });

    it("refuses a new client's first call naming an end user over budget exactly as its second, the key registered by the first", async () => {
      const client = await aNewClient();
      const customer = await withDatabase(async (dataSource) => {
        const rows = new LiteLlmRows(dataSource);
        const budget = await rows.aBudget({ max_budget: 10 });
        return (await rows.anEndUser({ spend: 20, budget_id: budget.budget_id })).user_id;
      });
      const call = async (): Promise<CheckRequest> =>
        anEnvoyCheck({ body: chat('gpt-4o', { user: customer }), key: await aToken(signingKey, { ...client, tid: team }) });
      const first = denialOf(await (checkers[0] as Checker).check(await call()));
      expect(first).to.include({ code: '400' });
      expect(first.message).to.include(`End User=${customer} over budget`);
      const registration = await registrationOf(client);
      expect(registration.mappings, 'registered before the decision, as LiteLLM does').to.have.length(1);
      for (const checker of checkers) expect(denialOf(await checker.check(await call()))).to.deep.equal(first);
      expect((await registrationOf(client)).keys.map((k) => k.token)).to.deep.equal(registration.mappings.map((m) => m.token));
    });

    it('creates no key for a token the JWT policy refuses: a team that does not exist (404), a user with no row and no user_id_upsert (401)', async () => {
      const client = await aNewClient();
      const stranger = await aNewClient(false);
      for (const checker of checkers) {
        const noTeam = denialOf(await checker.check(await request({ ...client, tid: 'no-such-team' })));
        expect(noTeam).to.include({ code: '404' });
        expect(noTeam.message).to.include("Team doesn't exist in db. Team=no-such-team.");
        const noUser = denialOf(await checker.check(await request({ ...stranger, tid: team })));
        expect(noUser).to.include({ code: '401' });
        expect(noUser.message).to.include(`User doesn't exist in db. 'user_id'=${stranger.sub}.`);
      }
      for (const refused of [client, stranger]) {
        const registration = await registrationOf(refused);
        expect(registration.mappings, refused.email).to.deep.equal([]);
        expect(registration.keys, refused.email).to.deep.equal([]);
      }
      // Every server has now looked the claim up and remembers "no mapping": the first to register
      // it must not leave the others registering keys of their own.
      const later = await (checkers[0] as Checker).check(await request({ ...client, tid: team }));
      expect(isAllowed(later), 'once the policy passes, the client registers').to.equal(true);
      const keyHash = upstreamHeaders(later)['x-tollgate-key-hash'];
      for (const checker of checkers) {
        expect(upstreamHeaders(await checker.check(await request({ ...client, tid: team })))['x-tollgate-key-hash']).to.equal(keyHash);
      }
      expect((await registrationOf(client)).keys.map((k) => k.token)).to.deep.equal([keyHash]);
    });

    it('refuses to start with auto_register_map_existing_key: true, naming the setting', async () => {
      const config = writeConfig(configYaml(['auto_register_map_existing_key: true']));
      try {
        const run = await cliWith({
          ...env,
          LITELLM_MASTER_KEY: MASTER_KEY,
          TOLLGATE_CONFIG: config.path,
          JWT_PUBLIC_KEY_URL: jwks.url,
          TOLLGATE_GRPC_ADDR: '127.0.0.1:0',
          TOLLGATE_HTTP_ADDR: '127.0.0.1:0',
        })('serve');
        expect(run.code).to.be.greaterThan(0);
        expect(`${run.stdout}${run.stderr}`).to.include('general_settings.litellm_jwtauth.auto_register_map_existing_key');
      } finally {
        config.cleanup();
      }
    });
  });
}
