/**
 * "Cannot decide" is not a denial (spec README §3): with the store unreachable the RPC fails
 * with UNAVAILABLE so Envoy's failure_mode_allow applies, unless allow_requests_on_db_unavailable.
 */
import { createServer, type Server } from 'node:net';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, isAllowed } from '../support/envoy-requests';
import { eventually } from '../support/poll';
import { startServer, type ServerProcess } from '../support/server-process';

/** A port that accepts TCP connections and never answers: a database that hangs. */
async function blackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('store unreachable at startup', function () {
  this.timeout(30_000);
  let hole: { port: number; close: () => Promise<void> };
  let server: ServerProcess;
  let client: Checker;

  before(async () => {
    requireBuild();
    hole = await blackHole();
    server = await startServer({
      env: { DATABASE_URL: `mysql://root@127.0.0.1:${hole.port}/tollgate`, LITELLM_MASTER_KEY: 'sk-master-outage' },
      waitForStore: false,
    });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await hole?.close();
    expect(code).to.equal(0);
  });

  it('reports NOT_SERVING on grpc.health.v1 until the store answers', async () => {
    expect(await client.health()).to.equal('NOT_SERVING');
  });

  it('fails the RPC with UNAVAILABLE (not a CheckResponse denial) for a key it cannot look up', async () => {
    let error: ServiceError | null = null;
    await client.check(anEnvoyCheck({ key: 'sk-some-key', body: chat('gpt-4o') }), 2000).catch((e: ServiceError) => {
      error = e;
    });
    expect(error, 'the RPC must fail').not.to.equal(null);
    expect((error as unknown as ServiceError).code).to.equal(GrpcStatus.UNAVAILABLE);
  });

  it('still decides what needs no store: a request without a key is denied 401', async () => {
    const response = await client.check(anEnvoyCheck({ body: chat('gpt-4o') }));
    expect(isAllowed(response)).to.equal(false);
  });
});

describe('store unreachable with allow_requests_on_db_unavailable', function () {
  this.timeout(30_000);
  let server: ServerProcess;
  let client: Checker;
  let config: TempConfig;

  before(async () => {
    requireBuild();
    config = writeConfig('general_settings:\n  allow_requests_on_db_unavailable: true\n');
    server = await startServer({
      env: {
        DATABASE_URL: 'mysql://root@127.0.0.1:1/tollgate',
        TOLLGATE_CONFIG: config.path,
        LITELLM_MASTER_KEY: 'sk-master-outage',
      },
      waitForStore: false,
    });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    config?.cleanup();
  });

  it('allows, as LiteLLM does, and logs why', async () => {
    const response = await client.check(anEnvoyCheck({ key: 'sk-some-key', body: chat('gpt-4o') }));
    expect(isAllowed(response)).to.equal(true);
    // The server writes the line before answering, but the answer can reach this process before
    // the line is read from the server's stdout: wait for it (bounded).
    const logged = await eventually(
      async () => server.logs.some((l) => String(l.msg).includes('allow_requests_on_db_unavailable')),
      (seen) => seen,
    );
    expect(logged).to.equal(true);
  });
});
