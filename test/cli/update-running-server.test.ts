/**
 * `tollgate key update` reaches a running server through its announcement, not through the cache
 * growing old: the server keeps entries for minutes here, and must refuse the key within seconds.
 */
import { expect } from 'chai';
import type { Cli, CliResult } from '../support/cli-process';
import { eventually } from '../support/poll';
import { CLI_BACKENDS, cliAgainstServer } from '../support/cli-backends';

/** Cached entries are neither refreshed nor expired during the test: only an announcement clears them. */
const LONG_CACHE = ['tollgate:', '  cache_ttl_seconds: 600', '  cache_refresh_seconds: 600', ''].join('\n');

/** The database's generation counter is polled every second; pub/sub is faster. A margin, well under the cache's life. */
const SEEN_WITHIN_MS = 4_000;

for (const setup of CLI_BACKENDS) {
  describe(`tollgate key update, seen by a running server, on ${setup.name}`, function () {
    this.timeout(120_000);
    const running = cliAgainstServer(setup, LONG_CACHE);
    const tollgate: Cli = (...args) => running.tollgate(...args);

    const ok = (...args: string[]): Promise<string> => running.ok(...args);

    async function aKey(...options: string[]): Promise<string> {
      const created = await ok('key', 'create', ...options);
      return /^key:\s+(sk-\S+)$/m.exec(created)?.[1] ?? expect.fail('no key printed');
    }

    /** The first decision for the model that `accept` takes, or the last one seen. */
    function decisionOf(key: string, model: string, accept: (result: CliResult) => boolean): Promise<CliResult> {
      return eventually(() => tollgate('check', '--key', key, '--model', model), accept, { limitMs: SEEN_WITHIN_MS, everyMs: 200 });
    }

    it('refuses a key once key update lowers its max budget below its spend', async () => {
      const key = await aKey('--max-budget', '10');
      await ok('spend', 'set', '--key', key, '4');
      const before = await decisionOf(key, 'gpt-4o', (r) => r.code === 0);
      expect(before.stdout, 'allowed under its budget, and now cached').to.match(/^ALLOW/);

      await ok('key', 'update', key, '--max-budget', '3');
      const after = await decisionOf(key, 'gpt-4o', (r) => r.code === 1);
      expect(after.stdout).to.match(/^DENY 400 budget_exceeded: Budget has been exceeded! Current cost: 4\.0, Max budget: 3\.0/);

      await ok('key', 'update', key, '--max-budget', 'none');
      expect((await decisionOf(key, 'gpt-4o', (r) => r.code === 0)).stdout, 'a cleared budget refuses nothing').to.match(/^ALLOW/);
    });

    it('refuses a model once key update leaves it out of the key models, and allows the one named', async () => {
      const key = await aKey('--models', 'gpt-4o');
      expect((await decisionOf(key, 'gpt-4o', (r) => r.code === 0)).stdout).to.match(/^ALLOW/);

      await ok('key', 'update', key, '--models', 'gpt-4o-mini');
      const refused = await decisionOf(key, 'gpt-4o', (r) => r.code === 1);
      expect(refused.stdout).to.match(/^DENY 401 key_model_access_denied/);
      expect((await tollgate('check', '--key', key, '--model', 'gpt-4o-mini')).stdout).to.match(/^ALLOW/);
    });
  });
}
