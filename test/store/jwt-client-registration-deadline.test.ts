/**
 * auto_register's registration on a database that stalls part-way (a TCP proxy between the
 * directory and a private database on the shared MariaDB): its read, transaction and re-read share
 * one `db_timeout_ms`, so a client's first call is answered within one deadline, with the
 * registration's 500 (ClientKeyCreationError), never an outage allow_requests_on_db_unavailable
 * would allow as the proxy admin.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { createDataSource } from '../../src/store/data-source';
import { JwtKeyMappingRecord, VerificationTokenRecord } from '../../src/store/entities';
import { ClientKeyCreationError, TypeOrmJwtDirectory, type NewJwtClientKey } from '../../src/store/jwt-directory';
import { runMigrations } from '../../src/store/migrations';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, tempSqlitePath, type TestMysqlDatabase } from '../support/mysql';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { inTransaction } from '../../src/store/transactions';

const DB_TIMEOUT_MS = 1000;
/** What a Check may wait for a registration beyond its one deadline: timers and the event loop. */
const SLACK_MS = 700;

describe('TypeOrmJwtDirectory.registerClientKey on a database that stalls (one deadline for the whole registration)', function () {
  this.timeout(30_000);
  let database: TestMysqlDatabase | undefined;
  let direct: DataSource;
  let rows: LiteLlmRows;
  let proxy: TcpProxy | undefined;
  let proxied: DataSource | undefined;

  before(async function () {
    database = await requireMysql(this);
    direct = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 5000 });
    await direct.initialize();
    await runMigrations(direct);
    rows = new LiteLlmRows(direct);
  });

  after(async () => {
    if (direct?.isInitialized) await direct.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    const url = new URL(database?.url ?? '');
    proxy = await startTcpProxy(url.hostname, Number(url.port || 3306));
    url.host = `127.0.0.1:${proxy.port}`;
    proxied = createDataSource({ databaseUrl: url.toString(), sqlitePath: '', dbTimeoutMs: DB_TIMEOUT_MS });
    await proxied.initialize();
    // A connection in the pool before the database slows: the registration's statements, not a
    // handshake, are what the deadline is spent on.
    await proxied.query('SELECT 1');
  });

  afterEach(async () => {
    // Reset, not healed: the statements held by the stall must not commit a registration later.
    proxy?.cut();
    if (proxied?.isInitialized) await proxied.destroy().catch(() => undefined);
    await proxy?.close();
  });

  async function aNewClient(): Promise<NewJwtClientKey> {
    const user = await rows.aUser();
    const team = await rows.aTeam();
    return { claimName: 'email', claimValue: `${uniqueId('client')}@example.com`, userId: user.user_id, teamId: team.team_id, organizationId: null };
  }

  /** The mapping row another replica's registration of `client` writes, to the key `token`. */
  function mappingOf(client: NewJwtClientKey, token: string): Omit<JwtKeyMappingRecord, 'created_at' | 'updated_at'> {
    return {
      id: randomUUID(),
      jwt_claim_name: client.claimName,
      jwt_claim_value: client.claimValue,
      token,
      description: null,
      is_active: true,
      created_by: 'test',
      updated_by: 'test',
    };
  }

  interface Hooks {
    beforeTransaction?: () => Promise<void>;
    /** Run once the transaction's statements answered, before its COMMIT is sent. */
    beforeCommit?: () => void;
    /** Told of each transaction the registration began, whatever its caller was answered. */
    transactionBegun?: (transaction: Promise<unknown>) => void;
    beforeRepository?: (call: number) => void;
  }

  /** A directory on the proxied database (or `source`), `hooks` run as it reaches for the transaction or a repository. */
  function directoryWith(hooks: Hooks, source: DataSource = proxied as DataSource): TypeOrmJwtDirectory {
    let repositoryCalls = 0;
    const watched = new Proxy(source, {
      get: (target, property) => {
        if (property === 'transaction') {
          const before = hooks.beforeTransaction ?? (() => Promise.resolve());
          return (work: (manager: EntityManager) => Promise<unknown>) =>
            before().then(() => {
              const transaction = target.transaction(async (manager) => {
                const result = await work(manager);
                hooks.beforeCommit?.();
                return result;
              });
              hooks.transactionBegun?.(transaction);
              return transaction;
            });
        }
        if (property === 'getRepository' && hooks.beforeRepository !== undefined) {
          const before = hooks.beforeRepository;
          return (...args: Parameters<DataSource['getRepository']>) => {
            repositoryCalls += 1;
            before(repositoryCalls);
            return target.getRepository(...args);
          };
        }
        return Reflect.get(target, property, target) as unknown;
      },
    });
    return new TypeOrmJwtDirectory(watched, { dbTimeoutMs: DB_TIMEOUT_MS });
  }

  async function failureOf(registering: Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
    const started = performance.now();
    const error = await registering.then(
      () => expect.fail('expected the registration to fail'),
      (thrown: unknown) => thrown,
    );
    return { error, elapsedMs: performance.now() - started };
  }

  it('gives up within one db_timeout_ms when the read is slow and the transaction then hangs (each alone within it), with the 500, not an outage', async () => {
    const client = await aNewClient();
    const tcp = proxy as TcpProxy;
    // Each step alone stays within db_timeout_ms; bounded one by one, the read's 0.4 s, the
    // transaction's 1 s and the re-read's 1 s made the client wait 2.4 s.
    tcp.slow(DB_TIMEOUT_MS * 0.4);
    const directory = directoryWith({
      beforeTransaction: () => {
        tcp.stall();
        return Promise.resolve();
      },
    });
    const { error, elapsedMs } = await failureOf(directory.registerClientKey(client));
    expect(error).to.be.instanceOf(ClientKeyCreationError);
    expect(error, 'allow_requests_on_db_unavailable must not allow it').to.not.be.instanceOf(StoreUnavailableError);
    expect(elapsedMs).to.be.lessThan(DB_TIMEOUT_MS + SLACK_MS);
  });

  it('answers the 500, not a read outage, when the re-read after a lost race runs out of the deadline', async () => {
    const client = await aNewClient();
    const tcp = proxy as TcpProxy;
    const directory = directoryWith({
      // Another replica commits this client's mapping between the read and the transaction.
      beforeTransaction: async () => {
        const winner = await rows.aKey({ user_id: client.userId });
        await direct.getRepository(JwtKeyMappingRecord).insert(mappingOf(client, winner.token));
      },
      // The first repository is the read before; the second, the re-read of the winner.
      beforeRepository: (call) => {
        if (call === 2) tcp.stall();
      },
    });
    const { error, elapsedMs } = await failureOf(directory.registerClientKey(client));
    expect(error).to.be.instanceOf(ClientKeyCreationError);
    expect(error, 'allow_requests_on_db_unavailable must not allow it').to.not.be.instanceOf(StoreUnavailableError);
    expect(elapsedMs).to.be.lessThan(DB_TIMEOUT_MS + SLACK_MS);
  });

  /** Whether `promise` settles within `ms`. */
  function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      const settled = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      promise.then(settled, settled);
    });
  }

  it("decides the client's next call by the key a registration committed after its deadline ran out, creating nothing more", async () => {
    const client = await aNewClient();
    const tcp = proxy as TcpProxy;
    let transaction: Promise<unknown> = Promise.resolve();
    const directory = directoryWith({
      beforeCommit: () => tcp.stall(),
      transactionBegun: (begun) => {
        transaction = begun;
      },
    });
    const { error } = await failureOf(directory.registerClientKey(client));
    expect(error).to.be.instanceOf(ClientKeyCreationError);
    // The COMMIT was on its way when the client was answered: it lands after the 500.
    tcp.heal();
    await transaction;
    const mappings = await direct.getRepository(JwtKeyMappingRecord).findBy({ jwt_claim_name: 'email', jwt_claim_value: client.claimValue });
    expect(mappings, 'the key and its mapping committed together').to.have.length(1);
    const keyHash = mappings[0]?.token;
    const keys = () => direct.getRepository(VerificationTokenRecord).findBy({ user_id: client.userId ?? '' });
    expect((await keys()).map((k) => k.token)).to.deep.equal([keyHash]);
    // The next call: the Check's lookup maps the token, and a replica whose cache still says "no
    // mapping" finds the registration with its first read.
    const store = new TypeOrmAuthStore(direct, { dbTimeoutMs: 5000 });
    expect(await store.findJwtKeyMapping(client.claimName, client.claimValue)).to.equal(keyHash);
    expect(await new TypeOrmJwtDirectory(direct, { dbTimeoutMs: 5000 }).registerClientKey(client)).to.equal(keyHash);
    expect((await keys()).map((k) => k.token)).to.deep.equal([keyHash]);
  });

  it("gives up on a client another replica is registering in a transaction still open, and frees its connection soon after, not after InnoDB's lock wait (50 s)", async () => {
    const client = await aNewClient();
    // The other replica: its mapping inserted, its COMMIT not yet sent (its database link stalled).
    const other = direct.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      const winner = await rows.aKey({ user_id: client.userId });
      await other.manager.insert(JwtKeyMappingRecord, mappingOf(client, winner.token));
      let transaction: Promise<unknown> = Promise.resolve();
      const directory = directoryWith(
        {
          transactionBegun: (begun) => {
            transaction = begun;
          },
        },
        direct,
      );
      const { error, elapsedMs } = await failureOf(directory.registerClientKey(client));
      expect(error).to.be.instanceOf(ClientKeyCreationError);
      expect(elapsedMs).to.be.lessThan(DB_TIMEOUT_MS + SLACK_MS);
      // Its transaction, waiting for the other's lock, held a pooled connection after the 500: each
      // retry of the client would hold one more, until the pool could serve no other Check.
      expect(await settlesWithin(transaction, 5000), 'the waiting transaction gave up').to.equal(true);
    } finally {
      if (other.isTransactionActive) await other.rollbackTransaction();
      await other.release();
    }
    expect(await direct.getRepository(JwtKeyMappingRecord).findBy({ jwt_claim_name: 'email', jwt_claim_value: client.claimValue })).to.have.length(0);
  });

  it("puts back the connection's own lock wait before it returns to the pool, whether the registration won or lost its race", async () => {
    const url = new URL(database?.url ?? '');
    url.searchParams.set('connection_limit', '1');
    const single = createDataSource({ databaseUrl: url.toString(), sqlitePath: '', dbTimeoutMs: DB_TIMEOUT_MS });
    await single.initialize();
    try {
      const lockWait = async (): Promise<number> =>
        Number(((await single.query('SELECT @@SESSION.innodb_lock_wait_timeout AS seconds')) as { seconds: number | string }[])[0]?.seconds);
      const before = await lockWait();
      const won = await aNewClient();
      expect(await directoryWith({}, single).registerClientKey(won)).to.match(/^[0-9a-f]{64}$/);
      expect(await lockWait(), 'after a registration').to.equal(before);
      const lost = await aNewClient();
      let winner = '';
      // Another replica commits the client's mapping between this one's read and its transaction.
      const losing = directoryWith(
        {
          beforeTransaction: async () => {
            winner = await new TypeOrmJwtDirectory(direct, { dbTimeoutMs: 5000 }).registerClientKey(lost) ?? '';
          },
        },
        single,
      );
      expect(await losing.registerClientKey(lost)).to.equal(winner).and.not.equal('');
      expect(await lockWait(), 'after a lost race').to.equal(before);
    } finally {
      await single.destroy();
    }
  });

  it('still registers a client whose statements are slow but fit in the deadline together', async () => {
    const client = await aNewClient();
    (proxy as TcpProxy).slow(DB_TIMEOUT_MS / 40);
    const keyHash = await directoryWith({}).registerClientKey(client);
    expect(keyHash).to.match(/^[0-9a-f]{64}$/);
    const mapping = await direct.getRepository(JwtKeyMappingRecord).findOneBy({ jwt_claim_name: 'email', jwt_claim_value: client.claimValue });
    expect(mapping?.token).to.equal(keyHash);
  });
});

describe('TypeOrmJwtDirectory.registerClientKey on the embedded store, its transaction queued behind another past the deadline', function () {
  this.timeout(30_000);

  it("answers the 500 at the deadline, and the queued registration, run afterwards, decides the client's next call", async () => {
    const file = tempSqlitePath();
    const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: DB_TIMEOUT_MS });
    try {
      await dataSource.initialize();
      await runMigrations(dataSource);
      const rows = new LiteLlmRows(dataSource);
      const user = await rows.aUser();
      const client: NewJwtClientKey = { claimName: 'email', claimValue: `${uniqueId('client')}@example.com`, userId: user.user_id, teamId: null, organizationId: null };
      // Another transaction of the process (the spend writer's, say) holds the one connection.
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const holder = inTransaction(dataSource, () => held);
      const directory = new TypeOrmJwtDirectory(dataSource, { dbTimeoutMs: DB_TIMEOUT_MS });
      const started = performance.now();
      const error = await directory.registerClientKey(client).then(
        () => expect.fail('expected the registration to fail'),
        (thrown: unknown) => thrown,
      );
      expect(error).to.be.instanceOf(ClientKeyCreationError);
      expect(performance.now() - started).to.be.lessThan(DB_TIMEOUT_MS + SLACK_MS);
      release();
      await holder;
      // The queue behind it: one more transaction runs after the registration's.
      await inTransaction(dataSource, () => Promise.resolve());
      const mappings = await dataSource.getRepository(JwtKeyMappingRecord).findBy({ jwt_claim_name: 'email', jwt_claim_value: client.claimValue });
      expect(mappings).to.have.length(1);
      const keyHash = mappings[0]?.token;
      expect(await new TypeOrmAuthStore(dataSource, { dbTimeoutMs: DB_TIMEOUT_MS }).findJwtKeyMapping(client.claimName, client.claimValue)).to.equal(keyHash);
      expect(await directory.registerClientKey(client)).to.equal(keyHash);
      expect((await dataSource.getRepository(VerificationTokenRecord).findBy({ user_id: user.user_id })).map((k) => k.token)).to.deep.equal([keyHash]);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      file.cleanup();
    }
  });
});
