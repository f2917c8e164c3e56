/**
 * Team membership writes made at once: each reads the team's `members_with_roles` (and the user's
 * `teams`, the team's metadata) and writes it back, so without the team row locked on MySQL, and
 * the transactions queued on SQLite, one write loses another's entry or collides with its insert.
 */
import { expect } from 'chai';
import { NO_WINDOW } from '../../src/spend/budget-window';
import { addSpendStatement } from '../../src/spend/spend-tables';
import type { SpendTarget } from '../../src/spend/targets';
import { AdminStore } from '../../src/store/admin-store';
import { BudgetRecord, TeamMembershipRecord, TeamRecord, UserRecord } from '../../src/store/entities';
import { uniqueId } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

const ROUNDS = 3;
const AT_ONCE = 6;

describeEachBackend('AdminStore: team membership writes made at once', (backend) => {
  let admin: AdminStore;

  before(() => {
    admin = new AdminStore(backend().dataSource, backend().settings);
  });

  const teams = () => backend().dataSource.getRepository(TeamRecord);
  const memberships = () => backend().dataSource.getRepository(TeamMembershipRecord);

  async function memberIdsOf(teamId: string): Promise<string[]> {
    const row = await teams().findOneByOrFail({ team_id: teamId });
    return (row.members_with_roles as Array<{ user_id: string }>).map((m) => m.user_id).sort();
  }

  async function membershipIdsOf(teamId: string): Promise<string[]> {
    return (await memberships().findBy({ team_id: teamId })).map((row) => row.user_id).sort();
  }

  /** Every outcome of `writes` run at once, failures as their messages. */
  async function atOnce<T>(writes: Array<() => Promise<T>>): Promise<string[]> {
    const settled = await Promise.allSettled(writes.map((write) => write()));
    return settled.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
  }

  it('keeps every member of add-members of different users made at once, in members_with_roles, as membership rows and in their teams', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      // A default member budget, so that each add inserts a membership row (a copy of it).
      const team = await admin.createTeam({ teamMemberBudget: 1 });
      const userIds: string[] = [];
      for (let i = 0; i < AT_ONCE; i += 1) userIds.push((await admin.createUser({ userId: uniqueId(`member${String(i)}`) })).user_id);
      // Half of them with no user row: LiteLLM adds a member it has no user for too.
      const ghosts = Array.from({ length: AT_ONCE / 2 }, (_, i) => uniqueId(`ghost${String(i)}`));
      const everyone = [...userIds, ...ghosts].sort();
      expect(await atOnce(everyone.map((userId) => () => admin.addTeamMember(userId, team.team_id))), `round ${String(round)}`).to.deep.equal([]);
      expect(await memberIdsOf(team.team_id), `round ${String(round)}`).to.deep.equal(everyone);
      expect(await membershipIdsOf(team.team_id), `round ${String(round)}`).to.deep.equal(everyone);
      for (const userId of userIds) {
        expect((await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: userId })).teams, `round ${String(round)}`).to.deep.equal([team.team_id]);
      }
    }
  });

  it("keeps every team of one user added to several teams at once in the user's teams", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const user = await admin.createUser({ userId: uniqueId('joiner') });
      const teamIds: string[] = [];
      for (let i = 0; i < AT_ONCE; i += 1) teamIds.push((await admin.createTeam()).team_id);
      expect(await atOnce(teamIds.map((teamId) => () => admin.addTeamMember(user.user_id, teamId))), `round ${String(round)}`).to.deep.equal([]);
      const row = await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: user.user_id });
      expect([...row.teams].sort(), `round ${String(round)}`).to.deep.equal([...teamIds].sort());
    }
  });

  it('lets one of add-members of the same user made at once add it, with one membership, one entry and one copy, and refuses the others', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const team = await admin.createTeam({ teamMemberBudget: 3 });
      const user = await admin.createUser({ userId: uniqueId('same') });
      const budgetsBefore = await backend().dataSource.getRepository(BudgetRecord).count();
      const results = await Promise.allSettled(Array.from({ length: AT_ONCE }, () => admin.addTeamMember(user.user_id, team.team_id)));
      const refusals = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(refusals, `round ${String(round)}`).to.have.lengthOf(AT_ONCE - 1);
      for (const refusal of refusals) expect(refusal, `round ${String(round)}`).to.match(/already in team/);
      expect(await memberIdsOf(team.team_id), `round ${String(round)}`).to.deep.equal([user.user_id]);
      expect(await membershipIdsOf(team.team_id), `round ${String(round)}`).to.deep.equal([user.user_id]);
      // The add that went through copied the default member budget; the refused ones made no copy.
      expect(await backend().dataSource.getRepository(BudgetRecord).count(), `round ${String(round)}`).to.equal(budgetsBefore + 1);
      const row = await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: user.user_id });
      expect(row.teams, `round ${String(round)}`).to.deep.equal([team.team_id]);
    }
  });

  it('keeps the members added while team updates setting a member budget run, each with one membership', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const team = await admin.createTeam({ teamMemberBudget: 1 });
      // Members LiteLLM listed without membership rows: the update creates theirs.
      const listed = [uniqueId('listed'), uniqueId('listed')].sort();
      await teams().update({ team_id: team.team_id }, { members_with_roles: listed.map((userId) => ({ user_id: userId, user_email: null, role: 'user' })) });
      const added = Array.from({ length: AT_ONCE }, (_, i) => uniqueId(`added${String(i)}`));
      const writes: Array<() => Promise<unknown>> = [
        ...added.map((userId) => () => admin.addTeamMember(userId, team.team_id)),
        () => admin.updateTeamAndMemberships(team.team_id, { teamMemberBudget: 2 }),
        () => admin.updateTeamAndMemberships(team.team_id, { teamMemberBudget: 3 }),
      ];
      expect(await atOnce(writes), `round ${String(round)}`).to.deep.equal([]);
      const everyone = [...listed, ...added].sort();
      expect(await memberIdsOf(team.team_id), `round ${String(round)}`).to.deep.equal(everyone);
      expect(await membershipIdsOf(team.team_id), `round ${String(round)}`).to.deep.equal(everyone);
    }
  });

  it('creates one default member budget row for team updates setting one at once on a team without one', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const alias = uniqueId('nodefault');
      const team = await admin.createTeam({ alias });
      expect(
        await atOnce(Array.from({ length: AT_ONCE }, (_, i) => () => admin.updateTeamAndMemberships(team.team_id, { teamMemberBudget: i + 1 }))),
        `round ${String(round)}`,
      ).to.deep.equal([]);
      const rows = await backend()
        .dataSource.getRepository(BudgetRecord)
        .createQueryBuilder('b')
        .where('b.budget_id LIKE :prefix', { prefix: `team-${alias}-budget-%` })
        .getMany();
      const named = (await teams().findOneByOrFail({ team_id: team.team_id })).metadata as Record<string, unknown>;
      expect(rows.map((row) => row.budget_id), `round ${String(round)}`).to.deep.equal([named['team_member_budget_id']]);
    }
  });
});

describeEachBackend('AdminStore.addTeamMember beside a spend write', (backend) => {
  let admin: AdminStore;

  before(function () {
    // Row locks are MySQL's; SQLite runs the two transactions one after another.
    if (backend().name !== 'mariadb') this.skip();
    admin = new AdminStore(backend().dataSource, backend().settings);
  });

  /** Whether another connection of this database is inside its membership insert (waiting: it takes no time otherwise). */
  async function insertWaits(): Promise<boolean> {
    const rows: unknown[] = await backend().dataSource.query(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE 'INSERT INTO `LiteLLM_TeamMembership`%'",
    );
    return rows.length > 0;
  }

  it("takes the member's rows in the spend writer's order (team, membership, user), so that the two do not deadlock", async () => {
    const user = await admin.createUser({ userId: uniqueId('spender') });
    const spendTeam = await admin.createTeam();
    // With a default member budget, so that the add inserts a membership row.
    const joined = await admin.createTeam({ teamMemberBudget: 1 });
    // The spend writer's statements, in its order (SpendWriter.writeIn), for a key of the user in a team the user is no
    // member of: the membership's UPDATE finds no row and locks the gap where the add inserts.
    const spend = backend().dataSource.createQueryRunner();
    await spend.connect();
    const charge = async (target: SpendTarget): Promise<void> => {
      const statement = addSpendStatement('mysql', target, 1, NO_WINDOW, Date.now());
      await spend.query(statement.sql, [...statement.params]);
    };
    try {
      await spend.startTransaction();
      await charge({ kind: 'team', id: spendTeam.team_id });
      await charge({ kind: 'team_member', id: user.user_id, teamId: spendTeam.team_id });
      const add = admin.addTeamMember(user.user_id, joined.team_id);
      add.catch(() => undefined);
      const deadline = Date.now() + 10_000;
      while (!(await insertWaits())) {
        if (Date.now() > deadline) throw new Error('the add never waited for the spend write');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await charge({ kind: 'user', id: user.user_id });
      await spend.commitTransaction();
      const membership = await add;
      expect(membership?.team_id).to.equal(joined.team_id);
      const row = await backend().dataSource.getRepository(UserRecord).findOneByOrFail({ user_id: user.user_id });
      expect(row.teams).to.deep.equal([joined.team_id]);
      expect(Number(row.spend)).to.equal(1);
    } finally {
      if (spend.isTransactionActive) await spend.rollbackTransaction();
      await spend.release();
    }
  });
});
