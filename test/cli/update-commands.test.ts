/**
 * `tollgate key|team|user|end-user update`, the real bin against MySQL + Redis: what each prints
 * and exits with, and which entities it announces to running servers (the invalidation channel).
 */
import { expect } from 'chai';
import { createClient } from 'redis';
import { buildProgram } from '../../src/cli/main';
import { cleared, orNone } from '../../src/cli/admin-commands';
import { loadSettings } from '../../src/config/settings';
import { budgetResetAt } from '../../src/spend/budget-window';
import { invalidationChannel, parseInvalidation } from '../../src/cache/invalidation';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { AdminStore } from '../../src/store/admin-store';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { BudgetRecord } from '../../src/store/entities';
import { requireMysql, type TestMysqlDatabase } from '../support/mysql';
import { requireRedis, type TestRedis } from '../support/redis';
import { eventually } from '../support/poll';
import { requireBuild } from '../support/e2e';
import { cliWith, type Cli } from '../support/cli-process';

describe('option parsing of the update commands', () => {
  it('reads `none` as a cleared setting and anything else as create reads it', () => {
    const parse = orNone((value: string) => Number(value));
    expect(cleared({ maxBudget: parse('none'), rpm: parse('5'), left: undefined })).to.deep.equal({ maxBudget: null, rpm: 5, left: undefined });
  });
});

describe('tollgate … update on MySQL + Redis', function () {
  this.timeout(60_000);
  let database: TestMysqlDatabase;
  let redis: TestRedis;
  let tollgate: Cli;
  let admin: AdminStore;
  let reader: TypeOrmAuthStore;
  let closeStore: () => Promise<void>;
  let budgetRows: () => Promise<number>;
  let subscriber: ReturnType<typeof createClient>;
  const announced: string[] = [];

  before(async function () {
    requireBuild();
    database = await requireMysql(this);
    redis = await requireRedis(this);
    tollgate = cliWith({ DATABASE_URL: database.url, REDIS_URL: redis.url, TOLLGATE_REDIS_PREFIX: redis.prefix });
    const databaseSettings = { databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 };
    const dataSource = createDataSource(databaseSettings);
    await dataSource.initialize();
    await runMigrations(dataSource);
    admin = new AdminStore(dataSource, databaseSettings);
    reader = new TypeOrmAuthStore(dataSource, databaseSettings);
    closeStore = () => dataSource.destroy();
    budgetRows = () => dataSource.getRepository(BudgetRecord).count();
    subscriber = createClient({ url: redis.url });
    subscriber.on('error', () => undefined);
    await subscriber.connect();
    await subscriber.subscribe(invalidationChannel(redis.prefix), (message) => {
      const parsed = parseInvalidation(message);
      if (parsed !== null) announced.push(`${parsed.kind}:${parsed.id}`);
    });
  });

  after(async () => {
    if (subscriber?.isOpen) subscriber.destroy();
    await closeStore?.();
    await database?.drop();
    await redis?.cleanup();
  });

  /** Runs a command that must succeed, returning what it printed, parsed. */
  async function ok<T>(...args: string[]): Promise<T> {
    const result = await tollgate(...args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return JSON.parse(result.stdout) as T;
  }

  /** What `run` announced, once the messages it sent have arrived. */
  async function announcementsOf(run: () => Promise<unknown>, expected: number): Promise<string[]> {
    announced.length = 0;
    await run();
    await eventually(
      () => Promise.resolve(announced.length),
      (count) => count >= expected,
      { limitMs: 5000 },
    );
    // The command has exited, its messages sent: one more than expected would arrive within this.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return [...announced].sort();
  }

  it('key update changes the named settings, prints the key row without the key, and announces the key', async () => {
    const created = await admin.createKey({ maxBudget: 10, models: ['gpt-4o'] });
    let printed: Record<string, unknown> = {};
    const sent = await announcementsOf(async () => {
      printed = await ok('key', 'update', created.key, '--max-budget', '2', '--models', 'none', '--budget-duration', '1d', '--rpm', '30');
    }, 1);
    expect(sent).to.deep.equal([`key:${created.token}`]);
    expect(printed).to.deep.include({ token: created.token, max_budget: 2, models: [], budget_duration: '1d', rpm_limit: 30 });
    expect(JSON.stringify(printed)).not.to.include(created.key);
    expect(await admin.findKeyInfo(created.token)).to.deep.include({ max_budget: 2, models: [] });
  });

  it('key update takes the hash as well, and `none` clears the budget', async () => {
    const created = await admin.createKey({ maxBudget: 10 });
    expect(await ok('key', 'update', created.token, '--max-budget', 'none')).to.deep.include({ max_budget: null });
  });

  it('team update announces the team and its member budget row', async () => {
    const team = await admin.createTeam({ teamMemberBudget: 1 });
    const budgetId = team.metadata['team_member_budget_id'] as string;
    const sent = await announcementsOf(() => ok('team', 'update', team.team_id, '--team-member-budget', '4', '--max-budget', '9'), 2);
    expect(sent).to.deep.equal([`budget:${budgetId}`, `team:${team.team_id}`].sort());
    expect(await admin.teamMemberBudgetIdOf(team.team_id)).to.equal(budgetId);
  });

  it('team update announces a member budget row it creates', async () => {
    const team = await admin.createTeam();
    let printed: { metadata: Record<string, unknown> } = { metadata: {} };
    const sent = await announcementsOf(async () => {
      printed = await ok('team', 'update', team.team_id, '--team-member-budget', '2', '--team-member-budget-duration', '30d');
    }, 2);
    const budgetId = printed.metadata['team_member_budget_id'];
    expect(budgetId).to.be.a('string');
    expect(sent).to.deep.equal([`budget:${String(budgetId)}`, `team:${team.team_id}`].sort());
  });

  it('team update setting the member budget announces the memberships it links to it', async () => {
    const team = await admin.createTeam();
    await admin.addTeamMember('m-linked', team.team_id);
    const own = await admin.createBudget({ maxBudget: 1 });
    await admin.addTeamMember('m-own', team.team_id, own.budget_id);
    let printed: { metadata: Record<string, unknown> } = { metadata: {} };
    const sent = await announcementsOf(async () => {
      printed = await ok('team', 'update', team.team_id, '--team-member-budget', '2');
    }, 3);
    const budgetId = String(printed.metadata['team_member_budget_id']);
    expect(sent).to.deep.equal([`budget:${budgetId}`, `membership:m-linked\u0000${team.team_id}`, `team:${team.team_id}`].sort());
  });

  it('team add-member announces the membership, the team and the copy of the default member budget it made', async () => {
    const team = await admin.createTeam({ teamMemberBudget: 1 });
    let printed: { budget: { budget_id: string } | null } = { budget: null };
    const sent = await announcementsOf(async () => {
      printed = await ok('team', 'add-member', '--team', team.team_id, '--user', 'm-copied');
    }, 3);
    const copyId = printed.budget?.budget_id ?? expect.fail('no budget copied');
    expect(copyId).to.not.equal(team.metadata['team_member_budget_id']);
    expect(sent).to.deep.equal([`budget:${copyId}`, `membership:m-copied\u0000${team.team_id}`, `team:${team.team_id}`].sort());
  });

  it('team add-member refuses a user already in the team (exit 2, as LiteLLM\'s "User already in team"), copying no budget', async () => {
    const team = await admin.createTeam({ teamMemberBudget: 1 });
    const first = await ok<{ budget: { budget_id: string } | null }>('team', 'add-member', '--team', team.team_id, '--user', 'm-again');
    const budgets = await budgetRows();
    const again = await tollgate('team', 'add-member', '--team', team.team_id, '--user', 'm-again');
    expect(again.code).to.equal(2);
    expect(again.stderr).to.equal(
      `tollgate: user m-again is already in team ${team.team_id} (LiteLLM: "User already in team"); to change its budget: team update-member\n`,
    );
    expect(await budgetRows()).to.equal(budgets);
    expect((await reader.findMembership('m-again', team.team_id))?.budget?.budget_id).to.equal(first.budget?.budget_id);
  });

  it('team add-member without a budget to give, and team update-member --budget none for a member without a row, write no membership row, print null and say why', async () => {
    const team = await admin.createTeam();
    const result = await tollgate('team', 'add-member', '--team', team.team_id, '--user', 'm-bare');
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.equal(null);
    expect(result.stderr).to.match(/^no membership row: no --budget was given and the team has no default member budget, or names a budget row that is gone/);
    expect(await reader.findMembership('m-bare', team.team_id)).to.equal(null);
    const orphaned = await admin.createTeam({ metadata: { team_member_budget_id: 'm-gone-default' } });
    const gone = await tollgate('team', 'add-member', '--team', orphaned.team_id, '--user', 'm-bare');
    expect(gone.code, gone.stderr).to.equal(0);
    expect(gone.stderr, 'a default whose row is gone').to.match(/or names a budget row that is gone/);
    const unlinked = await tollgate('team', 'update-member', '--team', team.team_id, '--user', 'm-bare', '--budget', 'none');
    expect(unlinked.code, unlinked.stderr).to.equal(0);
    expect(JSON.parse(unlinked.stdout)).to.deep.equal({ member: { user_id: 'm-bare', user_email: null, role: 'user' }, membership: null });
    expect(unlinked.stderr, 'update-member says why too').to.match(/^no membership row: the member has none, and no budget was written/);
    expect(await reader.findMembership('m-bare', team.team_id)).to.equal(null);
    const promoted = await tollgate('team', 'update-member', '--team', team.team_id, '--user', 'm-bare', '--role', 'admin');
    expect(promoted.code, promoted.stderr).to.equal(0);
    expect(JSON.parse(promoted.stdout), 'the role as written').to.deep.equal({ member: { user_id: 'm-bare', user_email: null, role: 'admin' }, membership: null });
    expect(promoted.stderr, 'what changed, and what did not').to.equal(
      "role set to admin in the team's members_with_roles; no membership row: the member has none, and no budget was written (LiteLLM writes none either)\n",
    );
  });

  it("team update-member links a member's budget, `none` unlinks it, and announces the membership", async () => {
    const team = await admin.createTeam();
    await ok('team', 'add-member', '--team', team.team_id, '--user', 'm-moved');
    const own = await admin.createBudget({ maxBudget: 3 });
    let printed: Printed = { membership: null };
    const sent = await announcementsOf(async () => {
      printed = await ok('team', 'update-member', '--team', team.team_id, '--user', 'm-moved', '--budget', own.budget_id);
    }, 1);
    expect(printed.membership?.budget?.budget_id).to.equal(own.budget_id);
    expect(sent).to.deep.equal([`membership:m-moved\u0000${team.team_id}`]);
    expect((await ok<Printed>('team', 'update-member', '--team', team.team_id, '--user', 'm-moved', '--budget', 'none')).membership?.budget).to.equal(null);
    const stranger = await tollgate('team', 'update-member', '--team', team.team_id, '--user', 'm-stranger', '--budget', own.budget_id);
    expect(stranger).to.deep.include({ code: 2, stderr: `tollgate: user m-stranger is not in team ${team.team_id}: add it with team add-member\n` });
  });

  /** What `team update-member` prints, as far as these tests read it. */
  interface Printed {
    readonly member?: { readonly role: string } | null;
    readonly membership: {
      readonly budget: {
        readonly budget_id: string;
        readonly max_budget: number | null;
        readonly tpm_limit: number | null;
        readonly budget_duration: string | null;
        readonly budget_reset_at: string | null;
        readonly allowed_models: string[];
      } | null;
    } | null;
  }

  it("team update-member --max-budget-in-team writes the member's own copy of the team's default, announcing the membership and the copy; --role the team, printing the role", async () => {
    const team = await admin.createTeam({ teamMemberBudget: 5 });
    const defaultId = String(team.metadata['team_member_budget_id']);
    await ok('team', 'add-member', '--team', team.team_id, '--user', 'm-amounts');
    await ok('team', 'update-member', '--team', team.team_id, '--user', 'm-amounts', '--budget', defaultId);
    let printed: Printed = { membership: null };
    const sent = await announcementsOf(async () => {
      printed = await ok('team', 'update-member', '--team', team.team_id, '--user', 'm-amounts', '--max-budget-in-team', '2', '--tpm-limit', '90');
    }, 2);
    const copyId = printed.membership?.budget?.budget_id;
    expect(copyId).to.be.a('string').and.not.equal(defaultId);
    expect(printed.membership?.budget).to.deep.include({ max_budget: 2, tpm_limit: 90 });
    expect(sent).to.deep.equal([`budget:${String(copyId)}`, `membership:m-amounts\u0000${team.team_id}`].sort());
    expect((await reader.findBudget(defaultId))?.max_budget, 'the default row is left alone').to.equal(5);

    let promotedPrinted: Printed = { membership: null };
    const promoted = await announcementsOf(async () => {
      promotedPrinted = await ok('team', 'update-member', '--team', team.team_id, '--user', 'm-amounts', '--role', 'admin');
    }, 2);
    expect(promoted).to.deep.equal([`membership:m-amounts\u0000${team.team_id}`, `team:${team.team_id}`].sort());
    expect(promotedPrinted.member, 'the role as written').to.deep.equal({ user_id: 'm-amounts', user_email: null, role: 'admin' });
    expect(promotedPrinted.membership?.budget?.budget_id, 'and the membership as it is').to.equal(copyId);
  });

  it("team update-member --budget-duration and --allowed-models write the member's own budget row, announcing it; `none` clears them", async () => {
    const team = await admin.createTeam({ teamMemberBudget: 5 });
    await ok('team', 'add-member', '--team', team.team_id, '--user', 'm-window');
    const own = (await reader.findMembership('m-window', team.team_id))?.budget?.budget_id;
    const before = Date.now();
    let printed: Printed = { membership: null };
    const sent = await announcementsOf(async () => {
      printed = await ok('team', 'update-member', '--team', team.team_id, '--user', 'm-window', '--budget-duration', '30d', '--allowed-models', 'gpt-4o-mini, gpt-4o');
    }, 2);
    expect(sent).to.deep.equal([`budget:${String(own)}`, `membership:m-window\u0000${team.team_id}`].sort());
    expect(printed.membership?.budget).to.deep.include({ budget_id: own, budget_duration: '30d', allowed_models: ['gpt-4o-mini', 'gpt-4o'], max_budget: 5 });
    const resetAt = new Date(printed.membership?.budget?.budget_reset_at ?? 0).getTime();
    const after = Date.now();
    // LiteLLM's get_budget_reset_time (the 1st of next month), not now + 30d.
    expect(resetAt).to.be.oneOf([budgetResetAt('30d', before)?.getTime(), budgetResetAt('30d', after)?.getTime()]);
    expect(new Date(resetAt).getUTCDate()).to.equal(1);
    const cleared = await ok<Printed>('team', 'update-member', '--team', team.team_id, '--user', 'm-window', '--budget-duration', 'none', '--allowed-models', 'none');
    expect(cleared.membership?.budget).to.deep.include({ budget_id: own, budget_duration: null, budget_reset_at: null, allowed_models: [] });
  });

  it('team update-member refuses (exit 2), writing nothing: no option, a negative amount, an unknown role or duration, --budget with amounts', async () => {
    const team = await admin.createTeam({ teamMemberBudget: 5 });
    await ok('team', 'add-member', '--team', team.team_id, '--user', 'm-refused');
    const before = await budgetRows();
    const cases: Array<[string[], string]> = [
      [[], 'tollgate: nothing to change: give at least one option (see --help)\n'],
      [['--max-budget-in-team', '-1'], 'tollgate: max budget in team must not be negative\n'],
      [['--rpm-limit', '2.5'], 'tollgate: rpm limit must be a whole number\n'],
      [['--role', 'owner'], "tollgate: unknown team member role 'owner' (one of admin, user)\n"],
      [['--budget', 'none', '--tpm-limit', '5'], "tollgate: a budget id and budget amounts: give one (the amounts change the member's own budget row)\n"],
      [['--budget', 'none', '--allowed-models', 'gpt-4o'], "tollgate: a budget id and budget amounts: give one (the amounts change the member's own budget row)\n"],
      [['--budget-duration', 'soon'], 'tollgate: budget duration must be a duration such as 1h, 1d, 30d or 1mo\n'],
    ];
    for (const [options, stderr] of cases) {
      const result = await tollgate('team', 'update-member', '--team', team.team_id, '--user', 'm-refused', ...options);
      expect(result, options.join(' ')).to.deep.include({ code: 2, stderr });
    }
    expect(await budgetRows()).to.equal(before);
  });

  it('team create and team update refuse --metadata naming team_member_budget_id (exit 2), writing nothing', async () => {
    const budget = await admin.createBudget({ maxBudget: 5 });
    const metadata = JSON.stringify({ owner: 'x', team_member_budget_id: budget.budget_id });
    const created = await tollgate('team', 'create', '--team-id', 'meta-refused', '--metadata', metadata);
    expect(created).to.deep.include({ code: 2, stderr: 'tollgate: --metadata: team_member_budget_id is set by --team-member-budget (LiteLLM manages it), not by hand\n' });
    expect(await admin.teamMemberBudgetIdOf('meta-refused')).to.equal(null);
    expect((await tollgate('key', 'create', '--team', 'meta-refused')).code, 'no team was created').to.equal(2);
    const team = await admin.createTeam({ teamMemberBudget: 1, metadata: { owner: 'a' } });
    const updated = await tollgate('team', 'update', team.team_id, '--metadata', metadata);
    expect(updated.code).to.equal(2);
    const after = await reader.findTeam(team.team_id);
    expect(after?.metadata).to.deep.equal(team.metadata);
  });

  it('team update of other settings announces the team only', async () => {
    const team = await admin.createTeam({ teamMemberBudget: 1 });
    expect(await announcementsOf(() => ok('team', 'update', team.team_id, '--models', 'gpt-4o'), 1)).to.deep.equal([`team:${team.team_id}`]);
  });

  it('user update announces the user', async () => {
    await admin.createUser({ userId: 'u-announce' });
    const sent = await announcementsOf(() => ok('user', 'update', 'u-announce', '--role', 'proxy_admin_viewer', '--max-budget', '3'), 1);
    expect(sent).to.deep.equal(['user:u-announce']);
  });

  it("user update of the email also announces the old email's answer", async () => {
    await admin.createUser({ userId: 'u-email', email: 'Old@Example.com' });
    const sent = await announcementsOf(() => ok('user', 'update', 'u-email', '--email', 'new@example.com'), 2);
    expect(sent).to.deep.equal(['user:u-email', 'user_email:old@example.com']);
  });

  it('end-user update of budget settings announces every end user linked to the budget row, and the row', async () => {
    const shared = await admin.createBudget({ maxBudget: 5 });
    await admin.createEndUser({ userId: 'c-1', budgetId: shared.budget_id });
    await admin.createEndUser({ userId: 'c-2', budgetId: shared.budget_id });
    await admin.createEndUser({ userId: 'c-3' });
    const sent = await announcementsOf(() => ok('end-user', 'update', 'c-1', '--max-budget', '1', '--tpm', '100'), 3);
    expect(sent).to.deep.equal([`budget:${shared.budget_id}`, 'end_user:c-1', 'end_user:c-2'].sort());
  });

  it('end-user update of its own columns announces that end user only', async () => {
    await admin.createEndUser({ userId: 'c-own', maxBudget: 2 });
    const sent = await announcementsOf(() => ok('end-user', 'update', 'c-own', '--budget-limits', '[{"budget_duration":"1d","max_budget":1}]'), 1);
    expect(sent).to.deep.equal(['end_user:c-own']);
  });

  it('refuses an unknown id with exit 2, naming it, and writes no row', async () => {
    const budgets = await budgetRows();
    const refused = await tollgate('team', 'update', 'no-such-team', '--max-budget', '1', '--team-member-budget', '2');
    expect(refused).to.deep.include({ code: 2, stderr: "tollgate: no team 'no-such-team'\n" });
    expect(await tollgate('user', 'update', 'nobody', '--max-budget', '1')).to.deep.include({ code: 2, stderr: "tollgate: no user 'nobody'\n" });
    expect(await tollgate('end-user', 'update', 'nobody', '--max-budget', '1')).to.deep.include({ code: 2, stderr: "tollgate: no end user 'nobody'\n" });
    expect(await tollgate('key', 'update', 'sk-not-a-key', '--max-budget', '1')).to.deep.include({ code: 2, stderr: 'tollgate: no such key\n' });
    expect(await admin.teamMemberBudgetIdOf('no-such-team')).to.equal(null);
    expect(await budgetRows()).to.equal(budgets);
  });

  it('refuses an update naming nothing, and values create would refuse, with exit 2, changing nothing', async () => {
    const team = await admin.createTeam({ maxBudget: 10 });
    expect((await tollgate('team', 'update', team.team_id)).stderr).to.match(/^tollgate: nothing to change/);
    const bad = await tollgate('team', 'update', team.team_id, '--max-budget', '1', '--budget-limits', '[{"budget_duration":"1d"}]');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/budget limit 1: max_budget must be a finite number/);
    const notANumber = await tollgate('team', 'update', team.team_id, '--max-budget', 'lots');
    expect(notANumber.code).to.equal(2);
    expect(notANumber.stderr).to.match(/not a number: 'lots'/);
    expect(await ok('team', 'update', team.team_id, '--soft-budget', '1')).to.deep.include({ max_budget: 10, soft_budget: 1 });
  });

  it('describes every option in --help', () => {
    const program = buildProgram(
      () => loadSettings({}),
      () => undefined,
    );
    const update = program.commands.find((c) => c.name() === 'key')?.commands.find((c) => c.name() === 'update');
    const help = update?.helpInformation() ?? '';
    for (const option of ['--max-budget', '--models', '--budget-duration', '--tpm', '--rpm', '--model-max-budget', '--budget-limits', '--expires', 'none']) {
      expect(help).to.include(option);
    }
  });
});
