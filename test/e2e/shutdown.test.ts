/**
 * SIGTERM: stop taking new calls, let in-flight calls finish with a real answer, close the pools,
 * exit 0 (issue: `tollgate serve` lifecycle). The in-flight call is held up by a database that
 * hangs behind a proxy the test controls.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { once } from 'node:events';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild } from '../support/e2e';
import { anEnvoyCheck, chat } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql } from '../support/mysql';
import { startServer } from '../support/server-process';
import { startTcpProxy } from '../support/tcp-proxy';

describe('graceful shutdown on SIGTERM', function () {
  this.timeout(60_000);

  it('answers the in-flight call before exiting 0', async function () {
    requireBuild();
    const database = await requireMysql(this);
    const key = `sk-drain-${uniqueId('k')}`;
    const dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    await new LiteLlmRows(dataSource).aKey({ token: hashKey(key) });
    await dataSource.destroy();

    const url = new URL(database.url);
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 3306));
    url.host = `127.0.0.1:${proxy.port}`;
    const server = await startServer({ env: { DATABASE_URL: url.toString(), LITELLM_MASTER_KEY: 'sk-master-drain' } });
    const client = connect(server.address);
    try {
      proxy.stall();
      const inFlight = client.check(anEnvoyCheck({ key, body: chat('gpt-4o') }), 1500).then(
        () => 'answered',
        (error: ServiceError) => (error.code === GrpcStatus.UNAVAILABLE ? 'unavailable' : `failed:${error.code}`),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = once(server.child, 'exit') as Promise<[number | null]>;
      server.child.kill('SIGTERM');
      // The call held by the hanging database still gets Tollgate's own answer ("cannot decide"),
      // not a transport error from a server that went away under it.
      expect(await inFlight).to.equal('unavailable');
      const [code] = await exited;
      expect(code).to.equal(0);
      expect(server.logs.some((line) => line.msg === 'stopped')).to.equal(true);
    } finally {
      client.close();
      await server.stop();
      await proxy.close();
      await database.drop();
    }
  });
});
