import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import { createDataSource, parseMysqlUrl } from '../../src/store/data-source';
import { tempSqlitePath } from '../support/mysql';

describe('parseMysqlUrl', () => {
  it('reads user, password, host, port and database, decoding escapes', () => {
    expect(parseMysqlUrl('mysql://tollgate:p%40ss%3Aword@db.internal:3307/litellm')).to.deep.equal({
      type: 'mysql',
      host: 'db.internal',
      port: 3307,
      username: 'tollgate',
      password: 'p@ss:word',
      database: 'litellm',
      poolSize: 10,
      ssl: false,
    });
  });

  it('defaults the port to 3306 and accepts mariadb://, connection_limit and ssl', () => {
    expect(parseMysqlUrl('mariadb://root@127.0.0.1/db?connection_limit=4&ssl=true')).to.deep.include({
      type: 'mariadb',
      port: 3306,
      password: undefined,
      poolSize: 4,
      ssl: true,
    });
  });

  it('refuses a URL without a database, a foreign scheme or garbage, without echoing the password', () => {
    expect(() => parseMysqlUrl('mysql://u:secret@host:3306')).to.throw(/names no database/);
    expect(() => parseMysqlUrl('postgres://u:secret@host/db')).to.throw(/not supported/);
    expect(() => parseMysqlUrl('not a url with secret')).to.throw(/not a valid URL/);
    for (const url of ['mysql://u:secret@host:3306', 'postgres://u:secret@host/db', 'mysql://u:secret@h/db?connection_limit=0']) {
      try {
        parseMysqlUrl(url);
      } catch (error) {
        expect((error as Error).message).to.not.include('secret');
      }
    }
  });
});

describe('createDataSource', () => {
  it('configures MySQL from DATABASE_URL: UTC, pooled, connect timeout from dbTimeoutMs, never synchronize', () => {
    const ds = createDataSource({ databaseUrl: 'mysql://u:p@h:3306/db?connection_limit=7', sqlitePath: 'unused', dbTimeoutMs: 1234 });
    const options = ds.options as MysqlConnectionOptions;
    expect(options).to.deep.include({ type: 'mysql', host: 'h', database: 'db', timezone: 'Z', connectTimeout: 1234, poolSize: 7, synchronize: false });
    expect(ds.isInitialized).to.equal(false);
  });

  it('uses an SQLite file when there is no DATABASE_URL, creating its directory', async () => {
    const temp = tempSqlitePath();
    const path = join(temp.path, '..', 'nested', 'dir', 'tollgate.db');
    try {
      const ds = createDataSource({ databaseUrl: null, sqlitePath: path, dbTimeoutMs: 500 });
      expect(ds.options).to.deep.include({ type: 'better-sqlite3', database: path, synchronize: false });
      await ds.initialize();
      await ds.query('SELECT 1');
      await ds.destroy();
      expect(existsSync(path)).to.equal(true);
    } finally {
      temp.cleanup();
    }
  });
});
