/**
 * Team membership commands run by several `tollgate` processes at once on the embedded store: each
 * process has its own connection, so the queue one process keeps for its SQLite transactions does
 * not order them, and the database's write lock must.
 */
import { expect } from 'chai';
import { requireBuild } from '../support/e2e';
import { cliWith, type Cli, type CliResult } from '../support/cli-process';
import { tempSqlitePath, type TempSqlite } from '../support/mysql';
import { createDataSource } from '../../src/store/data-source';
import { BudgetRecord, TeamMembershipRecord, TeamRecord } from '../../src/store/entities';

const ROUNDS = 4;
const AT_ONCE = 6;

describe('tollgate team add-member run by several processes at once, on the embedded store', function () {
  this.timeout(180_000);
  let file: TempSqlite;
  let tollgate: Cli;

  before(() => {
    requireBuild();
    file = tempSqlitePath();
    tollgate = cliWith({ TOLLGATE_SQLITE_PATH: file.path });
  });

  after(() => file?.cleanup());

  async function ok(...args: string[]): Promise<void> {
    const result = await tollgate(...args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
  }

  /** Rows as stored, read with a connection of the test's own. */
  async function rowsOf(teamId: string, userId: string): Promise<{ members: string[]; memberships: number; budgets: number }> {
    const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 });
    await dataSource.initialize();
    try {
      const team = await dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: teamId });
      return {
        members: (team.members_with_roles as Array<{ user_id: string }>).map((m) => m.user_id),
        memberships: await dataSource.getRepository(TeamMembershipRecord).countBy({ team_id: teamId, user_id: userId }),
        budgets: await dataSource.getRepository(BudgetRecord).count(),
      };
    } finally {
      await dataSource.destroy();
    }
  }

  it('adds a user one of them names at once, with one membership and one copy of the default budget, and refuses it to the others (exit 2)', async () => {
    await ok('team', 'create', '--team-id', 'crowd', '--team-member-budget', '1');
    for (let round = 0; round < ROUNDS; round += 1) {
      const userId = `same-${String(round)}`;
      const before = await rowsOf('crowd', userId);
      const results: CliResult[] = await Promise.all(Array.from({ length: AT_ONCE }, () => tollgate('team', 'add-member', '--team', 'crowd', '--user', userId)));
      const outcomes = results.map((r) => (r.code === 2 && /already in team crowd/.test(r.stderr) ? 'refused' : r.code === 0 ? 'added' : `${String(r.code)}: ${r.stderr}`));
      expect(outcomes.sort(), `round ${String(round)}`).to.deep.equal(['added', ...Array.from({ length: AT_ONCE - 1 }, () => 'refused')]);
      const after = await rowsOf('crowd', userId);
      expect(after.members.filter((id) => id === userId), `round ${String(round)}`).to.have.lengthOf(1);
      expect(after.memberships, `round ${String(round)}`).to.equal(1);
      expect(after.budgets, `round ${String(round)}`).to.equal(before.budgets + 1);
    }
  });
});
