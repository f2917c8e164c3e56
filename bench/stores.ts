/**
 * The bench's own database and Redis prefix on the machine's shared MariaDB/MySQL and Redis:
 * created for the run, removed afterwards (only those: the services are shared, never flushed).
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { createClient } from 'redis';
import { createDataSource } from '../src/store/data-source';
import { runMigrations } from '../src/store/migrations';

/** InnoDB data-file writes per second below which the database counts as idle after seeding. */
const SETTLED_WRITES_PER_S = 20;

export class BenchDatabase {
  private constructor(
    private readonly server: URL,
    readonly name: string,
  ) {}

  static async create(serverUrl: string, runTag: string): Promise<BenchDatabase> {
    const server = new URL(serverUrl);
    server.pathname = '/';
    // Hex only, so the name is safe in DDL (identifiers cannot be bound as parameters).
    const database = new BenchDatabase(server, `tollgate_bench_${runTag}`);
    await database.admin((db) => db.query(`CREATE DATABASE \`${database.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`));
    return database;
  }

  get url(): string {
    const url = new URL(this.server.toString());
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  async migrate(): Promise<void> {
    const dataSource = createDataSource({ databaseUrl: this.url, sqlitePath: '', dbTimeoutMs: 10_000 });
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } finally {
      await dataSource.destroy();
    }
  }

  withConnection<T>(work: (db: Connection) => Promise<T>): Promise<T> {
    return this.admin(async (db) => {
      await db.query(`USE \`${this.name}\``);
      return work(db);
    });
  }

  /**
   * The database alone, for scale: sequential primary-key lookups of keys nobody has read (one
   * parameterized statement each, no Tollgate in between), the key table's size on disk and the
   * buffer pool that is supposed to hold it.
   */
  async coldLookups(tokens: readonly string[]): Promise<{ p50Us: number; p99Us: number; tableMiB: number; bufferPoolMiB: number }> {
    return this.withConnection(async (db) => {
      const micros: number[] = [];
      for (const token of tokens) {
        const started = process.hrtime.bigint();
        await db.execute('SELECT * FROM `LiteLLM_VerificationToken` WHERE `token` = ?', [token]);
        micros.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      micros.sort((a, b) => a - b);
      const at = (q: number): number => micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] ?? 0;
      const [sizes] = (await db.query(
        'SELECT (data_length + index_length) / 1048576 AS mib FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
        [this.name, 'LiteLLM_VerificationToken'],
      )) as unknown as [Array<{ mib: string | number }>];
      const [pool] = (await db.query('SELECT @@innodb_buffer_pool_size / 1048576 AS mib')) as unknown as [Array<{ mib: string | number }>];
      return { p50Us: at(0.5), p99Us: at(0.99), tableMiB: Number(sizes[0]?.mib ?? 0), bufferPoolMiB: Number(pool[0]?.mib ?? 0) };
    });
  }

  /**
   * Waits (at most `limitMs`) until InnoDB has stopped writing back what a bulk seed dirtied, so
   * its background flushing does not compete with the servers for the machine's cores during the
   * measured phases. Quiet means fewer than SETTLED_WRITES_PER_S data-file writes in a second.
   */
  async settle(limitMs: number): Promise<{ waitedMs: number; writesPerS: number }> {
    return this.admin(async (db) => {
      const writes = async (): Promise<number> => {
        const [rows] = (await db.query("SHOW GLOBAL STATUS LIKE 'Innodb_data_writes'")) as unknown as [Array<{ Value: string }>];
        return Number(rows[0]?.Value ?? 0);
      };
      const started = Date.now();
      let before = await writes();
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const now = await writes();
        const writesPerS = now - before;
        before = now;
        const waitedMs = Date.now() - started;
        if (writesPerS < SETTLED_WRITES_PER_S || waitedMs >= limitMs) return { waitedMs, writesPerS };
      }
    });
  }

  async drop(): Promise<void> {
    await this.admin((db) => db.query(`DROP DATABASE IF EXISTS \`${this.name}\``));
  }

  private async admin<T>(work: (db: Connection) => Promise<T>): Promise<T> {
    const db = await createConnection({
      host: this.server.hostname,
      port: this.server.port === '' ? 3306 : Number(this.server.port),
      user: decodeURIComponent(this.server.username),
      password: this.server.password === '' ? undefined : decodeURIComponent(this.server.password),
      connectTimeout: 5_000,
    });
    try {
      return await work(db);
    } finally {
      await db.end();
    }
  }
}

export class BenchRedis {
  constructor(
    readonly url: string,
    readonly prefix: string,
  ) {}

  async cleanup(): Promise<void> {
    const client = createClient({ url: this.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${this.prefix}*`, COUNT: 1000 })) {
        if (keys.length > 0) await client.del(keys);
      }
    } finally {
      client.destroy();
    }
  }
}
