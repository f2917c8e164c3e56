/**
 * Database faults against a real MariaDB behind a proxy the test controls (the shared server is
 * never touched): warm keys keep working from memory, cold keys get UNAVAILABLE before Envoy's
 * deadline, and the service recovers on its own when the database comes back.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { startServer, type ServerProcess } from '../support/server-process';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const WARM = `sk-warm-${uniqueId('k')}`;
const COLD = `sk-cold-${uniqueId('k')}`;

async function failure(promise: Promise<unknown>): Promise<ServiceError | null> {
  return promise.then(
    () => null,
    (error: ServiceError) => error,
  );
}

describe('database faults (MariaDB behind a controlled proxy)', function () {
  this.timeout(60_000);
  let database: TestMysqlDatabase;
  let proxy: TcpProxy;
  let server: ServerProcess;
  let client: Checker;

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    const dataSource = createDataSource({ databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const team = await rows.aTeam({ models: ['gpt-4o'] });
    await rows.aKey({ token: hashKey(WARM), team_id: team.team_id });
    await rows.aKey({ token: hashKey(COLD), team_id: team.team_id });
    await dataSource.destroy();

    const url = new URL(database.url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 3306));
    url.host = `127.0.0.1:${proxy.port}`;
    server = await startServer({ env: { DATABASE_URL: url.toString(), LITELLM_MASTER_KEY: 'sk-master-faults' } });
    client = connect(server.address);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: WARM, body: chat('gpt-4o') })))).to.equal(true);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await proxy?.close();
    await database?.drop();
    expect(code).to.equal(0);
  });

  it('serves a warm key from memory while the database hangs', async () => {
    proxy.stall();
    expect(isAllowed(await client.check(anEnvoyCheck({ key: WARM, body: chat('gpt-4o') }), 300))).to.equal(true);
  });

  it('answers UNAVAILABLE for a cold key before the deadline Envoy sent, instead of timing out', async () => {
    const error = await failure(client.check(anEnvoyCheck({ key: COLD, body: chat('gpt-4o') }), 400));
    expect(error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(error?.details).to.match(/deadline/);
  });

  it('answers UNAVAILABLE for a cold key while the database refuses connections', async () => {
    proxy.cut();
    const error = await failure(client.check(anEnvoyCheck({ key: COLD, body: chat('gpt-4o') }), 3000));
    expect(error?.code).to.equal(GrpcStatus.UNAVAILABLE);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: WARM, body: chat('gpt-4o') })))).to.equal(true);
  });

  it('recovers by itself once the database is back', async () => {
    proxy.heal();
    let allowed = false;
    for (let attempt = 0; attempt < 40 && !allowed; attempt += 1) {
      const response = await client.check(anEnvoyCheck({ key: COLD, body: chat('gpt-4o') }), 3000).catch(() => null);
      allowed = response !== null && isAllowed(response);
      if (!allowed) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(allowed).to.equal(true);
  });
});
