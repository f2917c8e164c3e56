/**
 * A team's default member budget set through the CLI (`team create --team-member-budget`), held
 * by the running server: a member's key is refused once the member's spend in the team reaches it.
 */
import { expect } from 'chai';
import { requireBuild } from '../support/e2e';
import { startServer, type ServerProcess } from '../support/server-process';
import { cliWith, type Cli } from '../support/cli-process';
import { tempSqlitePath, type TempSqlite } from '../support/mysql';
import { createDataSource } from '../../src/store/data-source';
import { AdminStore } from '../../src/store/admin-store';

const MASTER = 'sk-master-change-me';

describe('tollgate team create --team-member-budget, on the embedded store', function () {
  this.timeout(120_000);
  let file: TempSqlite;
  let server: ServerProcess;
  let tollgate: Cli;

  before(async () => {
    requireBuild();
    file = tempSqlitePath();
    tollgate = cliWith({ TOLLGATE_SQLITE_PATH: file.path });
    server = await startServer({ env: { TOLLGATE_SQLITE_PATH: file.path, LITELLM_MASTER_KEY: MASTER } });
    tollgate = cliWith({ TOLLGATE_SQLITE_PATH: file.path, TOLLGATE_GRPC_ADDR: server.address });
  });

  after(async () => {
    await server?.stop();
    file?.cleanup();
  });

  /** Runs a command that must succeed, returning its stdout. */
  async function ok(...args: string[]): Promise<string> {
    const result = await tollgate(...args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return result.stdout;
  }

  async function memberKey(userId: string): Promise<string> {
    await ok('user', 'create', '--user-id', userId);
    await ok('team', 'add-member', '--team', 'eng', '--user', userId);
    const created = await ok('key', 'create', '--team', 'eng', '--user', userId);
    return /^key:\s+(sk-\S+)$/m.exec(created)?.[1] ?? expect.fail('no key printed');
  }

  it("refuses a member's key once the member's spend reaches the team's member budget, and allows another member's", async () => {
    const team = JSON.parse(await ok('team', 'create', '--team-id', 'eng', '--team-member-budget', '2', '--team-member-budget-duration', '30d')) as {
      metadata: { team_member_budget_id?: string };
    };
    expect(team.metadata.team_member_budget_id).to.match(/^team-budget-[0-9a-f]{32}$/);
    const bobKey = await memberKey('bob');
    const carolKey = await memberKey('carol');

    // What LiteLLM's spend writer keeps on the membership row; no command sets it.
    const settings = { databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 };
    const dataSource = createDataSource(settings);
    await dataSource.initialize();
    try {
      expect(await new AdminStore(dataSource, settings).setSpend('team_membership', { userId: 'bob', teamId: 'eng' }, 2.5)).to.equal(true);
    } finally {
      await dataSource.destroy();
    }

    const refused = await tollgate('check', '--key', bobKey, '--model', 'gpt-4o');
    expect(refused.code, refused.stdout + refused.stderr).to.equal(1);
    // `team add-member` gave bob a copy of the default row, as LiteLLM's /team/member_add: the key
    // path's check of the membership's own budget refuses him first, with its message.
    expect(refused.stdout).to.match(/^DENY 400 budget_exceeded: Budget has been exceeded! Current cost: 2\.5, Max budget: 2\.0/);
    const allowed = await tollgate('check', '--key', carolKey, '--model', 'gpt-4o');
    expect(allowed.code, allowed.stdout + allowed.stderr).to.equal(0);
    expect(allowed.stdout).to.match(/^ALLOW/);
  });

  it('refuses a team member model budget the check would not read (exit 2) and creates no team', async () => {
    const result = await tollgate('team', 'create', '--team-id', 'ops', '--team-member-model-max-budget', '{"gpt-4o":{"budget_limit":4,"time_period":"30d"}}');
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/^tollgate: team member model max budget "gpt-4o": unexpected field "budget_limit"/);
    expect((await tollgate('key', 'create', '--team', 'ops')).code).to.equal(2);
  });
});
