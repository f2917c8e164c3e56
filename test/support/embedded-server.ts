/** One `tollgate serve` on the embedded store for a whole end-to-end suite. */
import { expect } from 'chai';
import type { DatabaseSettings } from '../../src/store/data-source';
import { connect, requireBuild, type Checker } from './e2e';
import { SQLITE_BACKEND } from './e2e-backends';
import { startServer, type ServerProcess } from './server-process';

/**
 * Registers the suite's `before` and `after`: a fresh embedded store, seeded, and the server started
 * on it with `env` and connected; then the client closed, the server stopped (exit 0 after SIGTERM
 * checked) and the store removed. The client returned reaches the running server.
 */
export function embeddedServerForSuite(env: Record<string, string>, seed?: (settings: DatabaseSettings) => Promise<void>): Checker {
  let server: ServerProcess | undefined;
  let client: Checker | undefined;
  let cleanup: () => Promise<void> = async () => undefined;

  before(async function () {
    requireBuild();
    const opened = await SQLITE_BACKEND.open(this);
    cleanup = opened.cleanup;
    if (seed !== undefined) await seed(opened.settings);
    server = await startServer({ env: { ...opened.env, ...env } });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    const code = await server?.stop();
    await cleanup();
    expect(code, 'exit code after SIGTERM').to.equal(0);
  });

  const running = (): Checker => {
    if (client === undefined) throw new Error('the suite server is not running (its before hook failed)');
    return client;
  };
  return {
    check: (request, timeoutMs) => running().check(request, timeoutMs),
    health: (service) => running().health(service),
    close: () => client?.close(),
  };
}
