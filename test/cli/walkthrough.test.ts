/**
 * The README's five-minute walkthrough, run as written (the same commands, the real bin),
 * on the embedded store and on MySQL + Redis.
 */
import { expect } from 'chai';
import type { Cli } from '../support/cli-process';
import { eventually } from '../support/poll';
import { CLI_BACKENDS, cliAgainstServer } from '../support/cli-backends';

for (const setup of CLI_BACKENDS) {
  describe(`README walkthrough on ${setup.name}`, function () {
    this.timeout(120_000);
    const running = cliAgainstServer(setup);
    const tollgate: Cli = (...args) => running.tollgate(...args);
    let key = '';

    before(async () => {
      if (running.backend.migrate) expect((await tollgate('migrate')).stdout).to.match(/schema is up to date/);
    });

    it('creates a team', async () => {
      const result = await tollgate('team', 'create', '--team-id', 'research', '--alias', 'research', '--max-budget', '10', '--models', 'gpt-4o,gpt-4o-mini');
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.deep.include({ team_id: 'research', max_budget: 10, models: ['gpt-4o', 'gpt-4o-mini'] });
    });

    it('creates a key, printing it once and storing only its hash', async () => {
      const result = await tollgate('key', 'create', '--team', 'research', '--alias', 'alice-laptop');
      expect(result.code, result.stderr).to.equal(0);
      key = /^key:\s+(sk-\S+)$/m.exec(result.stdout)?.[1] ?? '';
      expect(key).to.match(/^sk-[A-Za-z0-9_-]{40,}$/);
      const info = await tollgate('key', 'info', key);
      expect(info.stdout).not.to.include(key);
      expect(JSON.parse(info.stdout)).to.include({ team_id: 'research', key_alias: 'alice-laptop' });
    });

    it('allows the key for a team model (exit 0)', async () => {
      const result = await tollgate('check', '--key', key, '--model', 'gpt-4o');
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^ALLOW/);
      expect(result.stdout).to.include('x-tollgate-team-id: research');
      expect(result.stdout).to.include('remove authorization');
    });

    it('denies a model the team may not use (401 team_model_access_denied, exit 1)', async () => {
      const result = await tollgate('check', '--key', key, '--model', 'claude-3-opus');
      expect(result.code).to.equal(1);
      expect(result.stdout).to.match(/^DENY 401 team_model_access_denied: team not allowed to access model\./);
    });

    it('denies once the team spend passes its budget (400 budget_exceeded)', async () => {
      const set = await tollgate('spend', 'set', '--team', 'research', '12.5');
      expect(set.code, set.stderr).to.equal(0);
      const result = await eventually(
        () => tollgate('check', '--key', key, '--model', 'gpt-4o'),
        (r) => r.code === 1,
      );
      expect(result.stdout).to.match(/^DENY 400 budget_exceeded: Budget has been exceeded! Team=research Current cost: 12\.5, Max budget: 10\.0/);
    });

    it('honours key block and unblock from the CLI', async () => {
      await tollgate('spend', 'set', '--team', 'research', '0');
      expect((await tollgate('key', 'block', key)).code).to.equal(0);
      const blocked = await eventually(
        () => tollgate('check', '--key', key, '--model', 'gpt-4o'),
        (r) => /Key is blocked/.test(r.stdout),
      );
      expect(blocked.stdout).to.match(/^DENY 401 auth_error: Authentication Error, Key is blocked/);
      expect((await tollgate('key', 'unblock', key)).code).to.equal(0);
      const allowed = await eventually(
        () => tollgate('check', '--key', key, '--model', 'gpt-4o'),
        (r) => r.code === 0,
      );
      expect(allowed.stdout).to.match(/^ALLOW/);
    });

    it('answers bad input with a clear message and exit code 2', async () => {
      const result = await tollgate('key', 'create', '--team', 'no-such-team');
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/^tollgate: /);
    });
  });
}
