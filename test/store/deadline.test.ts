import { expect } from 'chai';
import { createConnection } from 'mysql2/promise';
import { StoreTimeoutError, withDeadline } from '../../src/store/deadline';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { LiteLlmRows } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

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
      expect((error as StoreTimeoutError).operation).to.equal('findKey');
      expect((error as Error).message).to.match(/findKey .* 50 ms/);
    }
    expect(Date.now() - started).to.be.lessThan(1000);
  });

  it('passes the work’s own failure through unchanged', async () => {
    const failure = new Error('connection lost');
    try {
      await withDeadline('op', 1000, () => Promise.reject(failure));
      expect.fail('expected the failure');
    } catch (error) {
      expect(error).to.equal(failure);
    }
  });
});

describeEachBackend('store deadline', (backend) => {
  it('rejects a lookup stuck behind a table lock once dbTimeoutMs has passed', async function () {
    if (backend().name !== 'mariadb') this.skip(); // SQLite readers are never blocked in WAL mode
    const key = await new LiteLlmRows(backend().dataSource).aKey();
    const url = new URL(backend().settings.databaseUrl ?? '');
    const locker = await createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      database: url.pathname.slice(1),
    });
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
