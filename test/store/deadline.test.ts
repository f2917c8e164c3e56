import { expect } from 'chai';
import { createConnection, type Connection } from 'mysql2/promise';
import { EntityMetadataNotFoundError, type DataSource } from 'typeorm';
import { createDataSource } from '../../src/store/data-source';
import { StoreTimeoutError, withDeadline } from '../../src/store/deadline';
import { TeamMembershipRecord } from '../../src/store/entities';
import { StoreInvariantError } from '../../src/store/invariant-error';
import { JoinedLookup } from '../../src/store/joined-lookup';
import { PrimaryKeyLookup } from '../../src/store/primary-key-lookup';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { LiteLlmRows } from '../support/litellm-rows';
import { requireMysql, tempSqlitePath } from '../support/mysql';
import { runMigrations } from '../../src/store/migrations';
import { describeEachBackend } from '../support/store-backends';
import { startTcpProxy } from '../support/tcp-proxy';

/** A migrated embedded store in a temporary file, closed and removed afterwards (the body may close it first). */
async function withSqliteStore(body: (dataSource: DataSource) => Promise<void>): Promise<void> {
  const file = tempSqlitePath();
  const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 1000 });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    await body(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    file.cleanup();
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('withDeadline', () => {
  it('resolves with the result when the work finishes in time', async () => {
    expect(await withDeadline('op', 1000, async () => 42)).to.equal(42);
  });

  it('rejects with StoreTimeoutError naming the operation when the work hangs', async () => {
    const started = Date.now();
    try {
      await withDeadline('findKey', 50, () => new Promise<never>(() => undefined));
      expect.fail('expected a timeout');
    } catch (error) {
      expect(error).to.be.instanceOf(StoreTimeoutError);
      expect(error).to.be.instanceOf(StoreUnavailableError);
      expect((error as StoreTimeoutError).operation).to.equal('findKey');
      expect((error as Error).message).to.match(/findKey .* 50 ms/);
    }
    expect(Date.now() - started).to.be.lessThan(1000);
  });

  it('turns the work’s own failure into StoreUnavailableError, the driver’s error its cause', async () => {
    const failure = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
    const error = await rejectionOf(withDeadline('findKey', 1000, () => Promise.reject(failure)));
    expect(error).to.be.instanceOf(StoreUnavailableError);
    expect((error as Error).cause).to.equal(failure);
    expect((error as Error).message).to.equal('database call findKey failed: Error: connect ECONNREFUSED 127.0.0.1:3306');
  });

  it('treats a failure thrown before the work returns its promise as one it rejected with', async () => {
    const failure = new Error('Pool is closed.');
    const thrown = await rejectionOf(
      withDeadline('findKey', 1000, () => {
        throw failure;
      }),
    );
    expect(thrown).to.be.instanceOf(StoreUnavailableError);
    expect((thrown as Error).cause).to.equal(failure);
    const bug = new TypeError('lookup is not a function');
    const thrownBug = await rejectionOf(
      withDeadline('findKey', 1000, () => {
        throw bug;
      }),
    );
    expect(thrownBug).to.equal(bug);
  });

  it('passes a TypeError through unchanged: a bug around the statement, not the database away', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'token')");
    expect(await rejectionOf(withDeadline('findKey', 1000, () => Promise.reject(bug)))).to.equal(bug);
  });

  it('passes a broken rule of our own store code through unchanged, and TypeORM’s unknown-entity complaint', async () => {
    await withSqliteStore(async (dataSource) => {
      const lookup = new JoinedLookup(dataSource, TeamMembershipRecord, 'litellm_budget_table', ['user_id', 'team_id']);
      const wrongKey = await rejectionOf(withDeadline('findMemberships', 1000, () => lookup.findMany([['only-a-user']])));
      expect(wrongKey).to.be.instanceOf(StoreInvariantError).and.not.instanceOf(StoreUnavailableError);
      const notAnEntity = await rejectionOf(withDeadline('findKey', 1000, async () => new PrimaryKeyLookup(dataSource, class Unknown {})));
      expect(notAnEntity).to.be.instanceOf(EntityMetadataNotFoundError).and.not.instanceOf(StoreUnavailableError);
    });
  });
});

describe('store unavailable (the embedded SQLite store closed)', () => {
  it('rejects lookups with StoreUnavailableError, prepared statements or not (better-sqlite3 throws a TypeError)', async () => {
    await withSqliteStore(async (dataSource) => {
      const store = new TypeOrmAuthStore(dataSource, { dbTimeoutMs: 1000 });
      await dataSource.destroy();
      expect(await rejectionOf(store.findKey('0'.repeat(64)))).to.be.instanceOf(StoreUnavailableError);
      expect(await rejectionOf(store.findTeam('t1'))).to.be.instanceOf(StoreUnavailableError);
    });
  });
});

describe('store unavailable (MariaDB behind a proxy that refuses connections)', function () {
  this.timeout(30_000);

  it('rejects a lookup with StoreUnavailableError, so allow_requests_on_db_unavailable applies', async function () {
    const database = await requireMysql(this);
    const url = new URL(database.url);
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 3306));
    url.host = `127.0.0.1:${proxy.port}`;
    const dataSource = createDataSource({ databaseUrl: url.toString(), sqlitePath: '', dbTimeoutMs: 2000 });
    try {
      await dataSource.initialize();
      const store = new TypeOrmAuthStore(dataSource, { dbTimeoutMs: 2000 });
      proxy.cut();
      const error = await rejectionOf(store.findKey('0'.repeat(64)));
      expect(error).to.be.instanceOf(StoreUnavailableError);
      expect(error).not.to.be.instanceOf(StoreTimeoutError);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      await proxy.close();
      await database.drop();
    }
  });
});

describeEachBackend('store deadline', (backend) => {
  async function aConnection(): Promise<Connection> {
    const url = new URL(backend().settings.databaseUrl ?? '');
    return createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      database: url.pathname.slice(1),
    });
  }

  it('lets a reply received while the event loop was blocked win over the timer that fired late', async function () {
    if (backend().name !== 'mariadb') this.skip(); // the reply must come from another process
    const connection = await aConnection();
    try {
      // The statement leaves at once; MariaDB answers while this process is busy past the deadline.
      const answered = withDeadline('findTags', 20, () => connection.query('SELECT 1 AS one'));
      const blockedUntil = Date.now() + 200;
      while (Date.now() < blockedUntil);
      const [rows] = await answered;
      expect(rows).to.deep.equal([{ one: 1 }]);
    } finally {
      await connection.end();
    }
  });

  it('rejects a lookup stuck behind a table lock once dbTimeoutMs has passed', async function () {
    if (backend().name !== 'mariadb') this.skip(); // SQLite readers are never blocked in WAL mode
    const key = await new LiteLlmRows(backend().dataSource).aKey();
    const locker = await aConnection();
    const store = new TypeOrmAuthStore(backend().dataSource, { dbTimeoutMs: 200 });
    try {
      await locker.query('LOCK TABLES LiteLLM_VerificationToken WRITE');
      const started = Date.now();
      try {
        await store.findKey(key.token);
        expect.fail('expected a timeout');
      } catch (error) {
        expect(error).to.be.instanceOf(StoreTimeoutError);
      }
      expect(Date.now() - started).to.be.within(150, 1500);
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
    // The statement that timed out still completes once the lock is gone; the store recovers.
    expect((await store.findKey(key.token))?.token).to.equal(key.token);
  });
});
