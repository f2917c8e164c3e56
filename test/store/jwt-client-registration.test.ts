import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { createDataSource } from '../../src/store/data-source';
import { JwtKeyMappingRecord, VerificationTokenRecord } from '../../src/store/entities';
import { ClientKeyCreationError, TypeOrmJwtDirectory, type NewJwtClientKey } from '../../src/store/jwt-directory';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

const REPLICA_CALLS = 8;

describeEachBackend('TypeOrmJwtDirectory.registerClientKey (unregistered_jwt_client_behavior: auto_register)', (backend) => {
  let directory: TypeOrmJwtDirectory;
  let store: TypeOrmAuthStore;
  let rows: LiteLlmRows;

  before(() => {
    directory = new TypeOrmJwtDirectory(backend().dataSource, backend().settings);
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  /** A client resolved to an existing user, team and organization, under a claim value no row names. */
  async function aNewClient(overrides: Partial<NewJwtClientKey> = {}): Promise<NewJwtClientKey> {
    const user = await rows.aUser();
    const team = await rows.aTeam();
    const org = await rows.anOrganization();
    return {
      claimName: 'email',
      claimValue: `${uniqueId('client')}@example.com`,
      userId: user.user_id,
      teamId: team.team_id,
      organizationId: org.organization_id,
      ...overrides,
    };
  }

  /** A mapping row as LiteLLM's /jwt/key/mapping/new (or tollgate jwt-mapping create) writes it. */
  async function aMapping(row: Partial<JwtKeyMappingRecord> & Pick<JwtKeyMappingRecord, 'jwt_claim_value'>): Promise<JwtKeyMappingRecord> {
    const key = await rows.aKey();
    return backend()
      .dataSource.getRepository(JwtKeyMappingRecord)
      .save({ id: randomUUID(), jwt_claim_name: 'email', token: key.token, description: null, is_active: true, created_by: 'test', updated_by: 'test', ...row });
  }

  /** The keys the client's user owns: each test's user is its own, so these are the ones registration made. */
  function keysOf(client: NewJwtClientKey): Promise<VerificationTokenRecord[]> {
    return backend().dataSource.getRepository(VerificationTokenRecord).find({ where: { user_id: client.userId ?? '' } });
  }

  function mappingsOf(client: NewJwtClientKey): Promise<JwtKeyMappingRecord[]> {
    return backend()
      .dataSource.getRepository(JwtKeyMappingRecord)
      .find({ where: { jwt_claim_name: client.claimName } })
      .then((found) => found.filter((row) => row.jwt_claim_value.toLowerCase().trim() === client.claimValue.toLowerCase().trim()));
  }

  it('creates one key of the resolved user, team and organization (hash only, no budget or models, metadata.auto_registered) and one active mapping to it', async () => {
    const client = await aNewClient();
    const keyHash = await directory.registerClientKey(client);
    expect(keyHash).to.match(/^[0-9a-f]{64}$/);

    const keys = await keysOf(client);
    expect(keys).to.have.length(1);
    const [key] = keys;
    expect(key).to.include({ token: keyHash, user_id: client.userId, team_id: client.teamId, organization_id: client.organizationId, max_budget: null, key_alias: null });
    expect(Number(key?.spend)).to.equal(0);
    expect(key?.models).to.deep.equal([]);
    expect(key?.key_name, 'the abbreviated raw key, never the raw key').to.match(/^sk-\.\.\.[A-Za-z0-9_-]{4}$/);
    expect(key?.metadata).to.deep.include({ auto_registered: true });
    expect(key?.blocked ?? false).to.equal(false);

    const mappings = await mappingsOf(client);
    expect(mappings).to.have.length(1);
    expect(mappings[0]).to.include({ jwt_claim_name: 'email', jwt_claim_value: client.claimValue, token: keyHash });
    expect(Boolean(mappings[0]?.is_active)).to.equal(true);
    expect(await store.findJwtKeyMapping('email', client.claimValue), 'the lookup every Check makes finds it').to.equal(keyHash);
    expect((await store.findKey(keyHash ?? ''))?.user_id, 'the key the request is then decided as').to.equal(client.userId);
  });

  it('answers the same key to a second call and creates nothing more', async () => {
    const client = await aNewClient();
    const first = await directory.registerClientKey(client);
    const second = await directory.registerClientKey(client);
    expect(second).to.equal(first);
    expect(await keysOf(client)).to.have.length(1);
    expect(await mappingsOf(client)).to.have.length(1);
  });

  it('registers a client resolved to no team or organization with those left empty', async () => {
    const client = await aNewClient({ teamId: null, organizationId: null });
    const keyHash = await directory.registerClientKey(client);
    const [key] = await keysOf(client);
    expect(key).to.include({ token: keyHash, team_id: null, organization_id: null });
  });

  /** Every answer one hash, and that key and its mapping the only rows: the losers rolled theirs back. */
  async function expectOneRegistration(client: NewJwtClientKey, answers: readonly (string | null)[]): Promise<void> {
    const hashes = [...new Set(answers)];
    expect(hashes).to.have.length(1);
    const [winner] = hashes;
    expect(winner).to.match(/^[0-9a-f]{64}$/);
    expect((await keysOf(client)).map((k) => k.token), 'no orphan key').to.deep.equal([winner]);
    expect((await mappingsOf(client)).map((m) => m.token)).to.deep.equal([winner]);
  }

  it(`answers ${REPLICA_CALLS} concurrent registrations of one client on one server with one key, leaving no orphan key`, async () => {
    const client = await aNewClient();
    const answers = await Promise.all(Array.from({ length: REPLICA_CALLS }, () => directory.registerClientKey(client)));
    await expectOneRegistration(client, answers);
  });

  it('registers different clients concurrently on one server, each with a key of its own', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => aNewClient()));
    const answers = await Promise.all(clients.map((client) => directory.registerClientKey(client)));
    expect(new Set(answers).size).to.equal(clients.length);
    for (const [i, client] of clients.entries()) await expectOneRegistration(client, [answers[i] ?? null]);
  });

  it(`answers ${REPLICA_CALLS} concurrent registrations of one client from two replicas with one key, leaving no orphan key`, async function () {
    // Replicas of the embedded store are processes: better-sqlite3 waits for another connection's
    // lock synchronously, so two DataSources in one process would block each other's commit.
    if (backend().name === 'sqlite') this.skip();
    const replica = createDataSource(backend().settings);
    await replica.initialize();
    try {
      const other = new TypeOrmJwtDirectory(replica, backend().settings);
      const client = await aNewClient();
      const answers = await Promise.all(
        Array.from({ length: REPLICA_CALLS }, (_, i) => (i % 2 === 0 ? directory : other).registerClientKey(client)),
      );
      await expectOneRegistration(client, answers);
    } finally {
      await replica.destroy();
    }
  });

  it("throws a creation failure, not an outage, when the database cannot take the registration's writes (LiteLLM's generate_key_helper_fn answers 500), creating nothing", async () => {
    // The reads answer; the transaction fails as a lost connection does.
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' });
    const source = backend().dataSource;
    const writesFail = new Proxy(source, {
      get: (target, property) => (property === 'transaction' ? () => Promise.reject(lost) : Reflect.get(target, property, target)),
    });
    const failing = new TypeOrmJwtDirectory(writesFail, backend().settings);
    const client = await aNewClient();
    const error = await failing.registerClientKey(client).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).to.be.instanceOf(ClientKeyCreationError);
    expect(error, 'allow_requests_on_db_unavailable must not allow it').to.not.be.instanceOf(StoreUnavailableError);
    expect(await keysOf(client)).to.have.length(0);
    expect(await mappingsOf(client)).to.have.length(0);
  });

  it('throws a fault of its own in the writes as it is, not the outage of the read after them (which allow_requests_on_db_unavailable would allow as the proxy admin)', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'token')");
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' });
    // A query whose every step answers itself, and whose rows never come: the connection is lost.
    const lostQuery: Record<string, unknown> = {};
    for (const step of ['select', 'where', 'andWhere']) lostQuery[step] = () => lostQuery;
    lostQuery.getMany = () => Promise.reject(lost);
    let repositories = 0;
    const source = backend().dataSource;
    const faulty = new Proxy(source, {
      get: (target, property) => {
        if (property === 'transaction') return () => Promise.reject(bug);
        if (property === 'getRepository') {
          return (...args: Parameters<DataSource['getRepository']>) => {
            repositories += 1;
            // The first read (no mapping yet) answers; the one after the failed writes does not.
            return repositories === 1 ? target.getRepository(...args) : { createQueryBuilder: () => lostQuery };
          };
        }
        return Reflect.get(target, property, target) as unknown;
      },
    });
    const client = await aNewClient();
    const error = await new TypeOrmJwtDirectory(faulty, backend().settings).registerClientKey(client).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(repositories, 'the read after the writes was made').to.equal(2);
    expect(error).to.equal(bug);
    expect(await keysOf(client)).to.have.length(0);
  });

  it('answers null for a value an inactive mapping holds, and creates nothing', async () => {
    const client = await aNewClient();
    const inactive = await aMapping({ jwt_claim_value: client.claimValue, is_active: false });
    expect(await directory.registerClientKey(client)).to.equal(null);
    expect(await keysOf(client)).to.have.length(0);
    const mappings = await mappingsOf(client);
    expect(mappings.map((m) => [m.id, m.token, Boolean(m.is_active)])).to.deep.equal([[inactive.id, inactive.token, false]]);
  });

  it('answers the mapped key for a value an active row already maps, creating nothing', async () => {
    const client = await aNewClient();
    const mapped = await aMapping({ jwt_claim_value: client.claimValue });
    expect(await directory.registerClientKey(client)).to.equal(mapped.token);
    expect(await keysOf(client)).to.have.length(0);
  });

  it('under another claim name, registers the same value as another client', async () => {
    const client = await aNewClient();
    await aMapping({ jwt_claim_name: 'sub', jwt_claim_value: client.claimValue });
    const keyHash = await directory.registerClientKey(client);
    expect(keyHash).to.match(/^[0-9a-f]{64}$/);
    expect(await keysOf(client)).to.have.length(1);
  });

  it("answers null for a value the collation takes for another mapping's (a trailing space on MariaDB), creating no orphan key", async () => {
    const taken = `${uniqueId('padded')}@example.com`;
    const other = await aMapping({ jwt_claim_value: taken });
    const client = await aNewClient({ claimValue: `${taken} ` });
    const keyHash = await directory.registerClientKey(client);
    if (backend().name === 'mariadb') {
      expect(keyHash).to.equal(null);
      expect(await keysOf(client), 'the key insert rolled back with the mapping').to.have.length(0);
    } else {
      // SQLite compares byte for byte, as LiteLLM's Postgres: the value is a client of its own.
      expect(keyHash).to.match(/^[0-9a-f]{64}$/);
      expect(keyHash).to.not.equal(other.token);
      expect(await keysOf(client)).to.have.length(1);
    }
    expect(await store.findJwtKeyMapping('email', taken), 'the other mapping untouched').to.equal(other.token);
  });

  describe('a mapping table under a case-insensitive collation (MariaDB\'s default, on a table Tollgate did not create)', () => {
    before(async function () {
      if (backend().name !== 'mariadb') this.skip();
      await backend().dataSource.query(
        'ALTER TABLE `LiteLLM_JWTKeyMapping` MODIFY `jwt_claim_value` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL',
      );
    });

    after(async function () {
      if (backend().name !== 'mariadb') return;
      await backend().dataSource.query(
        'ALTER TABLE `LiteLLM_JWTKeyMapping` MODIFY `jwt_claim_value` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL',
      );
    });

    it("answers null for 'Bob' where 'bob' is mapped, creating no key and not answering bob's", async () => {
      const lower = `${uniqueId('bob')}@example.com`;
      const bobs = await aMapping({ jwt_claim_value: lower });
      const client = await aNewClient({ claimValue: lower.replace('bob', 'Bob') });
      expect(await directory.registerClientKey(client)).to.equal(null);
      expect(await keysOf(client)).to.have.length(0);
      expect(await store.findJwtKeyMapping('email', client.claimValue), "never bob's key").to.equal(null);
      expect(await store.findJwtKeyMapping('email', lower)).to.equal(bobs.token);
    });

    it("answers null to concurrent registrations of 'Bob' and 'bob' but one, which gets the only key", async () => {
      const lower = `${uniqueId('bob')}@example.com`;
      const user = await rows.aUser();
      const asLower: NewJwtClientKey = { claimName: 'email', claimValue: lower, userId: user.user_id, teamId: null, organizationId: null };
      const asUpper: NewJwtClientKey = { ...asLower, claimValue: lower.replace('bob', 'Bob') };
      const answers = await Promise.all([directory.registerClientKey(asLower), directory.registerClientKey(asUpper)]);
      const granted = answers.filter((a): a is string => a !== null);
      expect(granted).to.have.length(1);
      expect((await keysOf(asLower)).map((k) => k.token)).to.deep.equal(granted);
    });
  });

  // Last: drops the table for the rest of this backend's suite.
  describe('a database whose LiteLLM schema predates LiteLLM_JWTKeyMapping (the lookups read it as no mapping)', () => {
    before(async () => {
      await backend().dataSource.query(backend().name === 'mariadb' ? 'DROP TABLE `LiteLLM_JWTKeyMapping`' : 'DROP TABLE "LiteLLM_JWTKeyMapping"');
    });

    it('throws a creation failure, not an outage allow_requests_on_db_unavailable would allow (as the proxy admin), and creates no key', async () => {
      const client = await aNewClient();
      const error = await directory.registerClientKey(client).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).to.be.instanceOf(ClientKeyCreationError);
      expect(error).to.not.be.instanceOf(StoreUnavailableError);
      expect(await keysOf(client)).to.have.length(0);
    });
  });
});
