/**
 * Key rotation through the real server and CLI: `tollgate key regenerate --grace-period` leaves
 * the old key working as the new one until revoke_at (LiteLLM_DeprecatedVerificationToken).
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { requireBuild } from '../support/e2e';
import { mariaDbBackend, SQLITE_BACKEND, type E2eBackend } from '../support/e2e-backends';
import { startServer, type ServerProcess } from '../support/server-process';
import { cliWith, type CliResult } from '../support/cli-process';
import { eventually } from '../support/poll';

const MASTER = 'sk-master-rotation';

const keyHashHeader = (r: CliResult): string | undefined => /x-tollgate-key-hash: ([0-9a-f]{64})/.exec(r.stdout)?.[1];

interface Regenerated {
  readonly key: string;
  readonly hash: string;
}

function regeneratedFrom(result: CliResult): Regenerated {
  expect(result.code, result.stderr).to.equal(0);
  const key = /^key:\s+(sk-\S+)$/m.exec(result.stdout)?.[1] ?? '';
  expect(key).to.match(/^sk-[A-Za-z0-9_-]{40,}$/);
  const hash = /^hash:\s+([0-9a-f]{64})$/m.exec(result.stdout)?.[1] ?? '';
  expect(hash).to.equal(hashKey(key));
  return { key, hash };
}

/** Calls that left the process (database lookups, Redis commands), from /metrics; `db`: database lookups alone. */
async function backendCalls(server: ServerProcess, only?: 'db'): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${String(server.httpPort)}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('tollgate_backend_call_duration_seconds_count'))
    .filter((line) => only === undefined || line.includes(`backend="${only}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

for (const backend of [SQLITE_BACKEND, mariaDbBackend(true)] as E2eBackend[]) {
  describe(`made-up keys through tollgate serve on ${backend.name}, with no key in a grace period`, function () {
    this.timeout(120_000);
    let cleanup: (() => Promise<void>) | undefined;
    let server: ServerProcess | undefined;

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      if (opened.settings.databaseUrl !== null) expect((await cliWith(opened.env)('migrate')).code).to.equal(0);
      server = await startServer({ env: { ...opened.env, LITELLM_MASTER_KEY: MASTER } });
    });

    after(async () => {
      await server?.stop();
      await cleanup?.();
    });

    it('refuses each with one database lookup (its key), none among rotated-out keys', async () => {
      if (server === undefined) throw new Error('no server');
      const tollgate = cliWith({ TOLLGATE_GRPC_ADDR: server.address });
      const check = (key: string) => tollgate('check', '--key', key, '--model', 'gpt-4o');
      // The first unknown key has the server ask, in the background, whether any grace period runs.
      expect((await check('sk-made-up-first')).code).to.equal(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = await backendCalls(server, 'db');
      for (let i = 0; i < 3; i += 1) expect((await check(`sk-made-up-${String(i)}`)).code).to.equal(1);
      expect((await backendCalls(server, 'db')) - before).to.equal(3);
    });
  });

  describe(`key rotation's grace period through tollgate serve on ${backend.name}`, function () {
    this.timeout(120_000);
    let cleanup: (() => Promise<void>) | undefined;
    let server: ServerProcess | undefined;
    let tollgate: (...args: string[]) => Promise<CliResult>;
    let original = '';
    let rotated: Regenerated;

    const check = (key: string) => tollgate('check', '--key', key, '--model', 'gpt-4o');

    before(async function () {
      requireBuild();
      const opened = await backend.open(this);
      cleanup = opened.cleanup;
      tollgate = cliWith(opened.env);
      if (opened.settings.databaseUrl !== null) expect((await tollgate('migrate')).code).to.equal(0);
      server = await startServer({ env: { ...opened.env, LITELLM_MASTER_KEY: MASTER } });
      tollgate = cliWith({ ...opened.env, TOLLGATE_GRPC_ADDR: server.address });
      expect((await tollgate('team', 'create', '--team-id', 'rot', '--models', 'gpt-4o')).code).to.equal(0);
      const created = await tollgate('key', 'create', '--team', 'rot', '--alias', 'rotating');
      original = /^key:\s+(sk-\S+)$/m.exec(created.stdout)?.[1] ?? '';
      expect((await check(original)).code, 'warms the original key').to.equal(0);
    });

    after(async () => {
      await server?.stop();
      await cleanup?.();
    });

    it('prints the new key once and keeps the old one working as the new one (its hash in the headers)', async () => {
      const result = await tollgate('key', 'regenerate', original, '--grace-period', '1h');
      rotated = regeneratedFrom(result);
      expect(result.stdout).to.match(new RegExp(`^old:\\s+${hashKey(original)} \\(works as this key until \\S+\\)$`, 'm'));
      const fresh = await check(rotated.key);
      expect(fresh.code, fresh.stdout).to.equal(0);
      // The old hash's cached row goes when the invalidation arrives (pub/sub, else the 1 s poll).
      const old = await eventually(() => check(original), (r) => keyHashHeader(r) === rotated.hash);
      expect(old.code, old.stdout).to.equal(0);
      expect(keyHashHeader(old)).to.equal(rotated.hash);
      expect(old.stdout).to.include('x-tollgate-team-id: rot');
      const info = await tollgate('key', 'info', rotated.hash);
      expect(JSON.parse(info.stdout)).to.include({ key_alias: 'rotating', team_id: 'rot' });
    });

    it('decides a warm old key with no database or Redis call', async () => {
      if (server === undefined) throw new Error('no server');
      await check(original);
      const before = await backendCalls(server);
      expect(before, 'the cold Checks were counted').to.be.greaterThan(0);
      expect((await check(original)).code).to.equal(0);
      expect(await backendCalls(server)).to.equal(before);
    });

    it('still refuses a key that was never issued (401)', async () => {
      const result = await check('sk-never-issued-0000');
      expect(result.code).to.equal(1);
      expect(result.stdout).to.match(/^DENY 401 /);
    });

    it('refuses the old key as soon as the active key is blocked, and allows it again once unblocked', async () => {
      expect((await tollgate('key', 'block', rotated.hash)).code).to.equal(0);
      const blocked = await eventually(() => check(original), (r) => r.code === 1);
      expect(blocked.stdout).to.match(/^DENY 401 auth_error: Authentication Error, Key is blocked/);
      expect((await tollgate('key', 'unblock', rotated.hash)).code).to.equal(0);
      expect((await eventually(() => check(original), (r) => r.code === 0)).code).to.equal(0);
    });

    it('follows one hop only, and refuses the old key (401) once its grace period is over', async () => {
      const again = regeneratedFrom(await tollgate('key', 'regenerate', rotated.key, '--grace-period', '3s'));
      const middle = await eventually(() => check(rotated.key), (r) => keyHashHeader(r) === again.hash);
      expect(middle.code, middle.stdout).to.equal(0);
      const first = await eventually(() => check(original), (r) => r.code === 1);
      expect(first.stdout, 'the first key pointed at a hash no row carries now').to.match(/^DENY 401 /);
      const expired = await eventually(() => check(rotated.key), (r) => r.code === 1, { limitMs: 8000 });
      expect(expired.stdout).to.match(/^DENY 401 /);
      expect((await check(again.key)).code).to.equal(0);
      rotated = again;
    });

    it('refuses the old key at once without a grace period, and an unreadable period before writing anything', async () => {
      expect((await tollgate('key', 'regenerate', rotated.key, '--grace-period', 'soon')).code).to.equal(2);
      expect((await check(rotated.key)).code, 'unchanged').to.equal(0);
      const last = await tollgate('key', 'regenerate', rotated.hash);
      regeneratedFrom(last);
      expect(last.stdout).to.match(/\(refused from now on\)/);
      const old = await eventually(() => check(rotated.key), (r) => r.code === 1);
      expect(old.stdout).to.match(/^DENY 401 /);
    });
  });
}
