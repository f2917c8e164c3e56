/**
 * `tollgate team update-member` as LiteLLM's /team/member_update: the amounts and allowed models
 * reach the member's own budget row (a copy of the team's default, which stays as it was), and a
 * running server that holds the membership in its cache for minutes decides by them within
 * seconds, through the command's announcement. On both stores.
 */
import { expect } from 'chai';
import type { Cli, CliResult } from '../support/cli-process';
import { eventually } from '../support/poll';
import { CLI_BACKENDS, cliAgainstServer } from '../support/cli-backends';
import { AdminStore } from '../../src/store/admin-store';
import { TeamMembershipRecord, TeamRecord } from '../../src/store/entities';

/** Cached entries are neither refreshed nor expired during the test: only an announcement clears them. */
const LONG_CACHE = ['tollgate:', '  cache_ttl_seconds: 600', '  cache_refresh_seconds: 600', ''].join('\n');

/** Well under the cache's life: the database's generation counter is polled every second, pub/sub is faster. */
const SEEN_WITHIN_MS = 10_000;

for (const setup of CLI_BACKENDS) {
  describe(`tollgate team update-member, seen by a running server, on ${setup.name}`, function () {
    this.timeout(120_000);
    const running = cliAgainstServer(setup, LONG_CACHE);
    const tollgate: Cli = (...args) => running.tollgate(...args);

    const ok = (...args: string[]): Promise<string> => running.ok(...args);

    async function budgetIdOf(userId: string, teamId: string): Promise<string | null> {
      return running.withDatabase(async (dataSource) => (await dataSource.getRepository(TeamMembershipRecord).findOneByOrFail({ user_id: userId, team_id: teamId })).budget_id);
    }

    async function memberKey(userId: string, teamId: string): Promise<string> {
      await ok('user', 'create', '--user-id', userId);
      await ok('team', 'add-member', '--team', teamId, '--user', userId);
      const created = await ok('key', 'create', '--team', teamId, '--user', userId);
      return /^key:\s+(sk-\S+)$/m.exec(created)?.[1] ?? expect.fail('no key printed');
    }

    /** The first decision that `accept` takes, or the last one seen. */
    function decisionOf(key: string, accept: (result: CliResult) => boolean): Promise<CliResult> {
      return eventually(() => tollgate('check', '--key', key, '--model', 'gpt-4o'), accept, { limitMs: SEEN_WITHIN_MS, everyMs: 200 });
    }

    it("refuses a member once --max-budget-in-team lowers its budget below its spend, the team's default and the other members left as they were", async () => {
      const team = JSON.parse(await ok('team', 'create', '--team-id', 'eng', '--team-member-budget', '5')) as { metadata: Record<string, unknown> };
      const defaultId = String(team.metadata['team_member_budget_id']);
      const bobKey = await memberKey('bob', 'eng');
      const carolKey = await memberKey('carol', 'eng');
      // Both on the default row itself, as `team update --team-member-budget` links members.
      await ok('team', 'update-member', '--team', 'eng', '--user', 'bob', '--budget', defaultId);
      await ok('team', 'update-member', '--team', 'eng', '--user', 'carol', '--budget', defaultId);
      // What LiteLLM's spend writer keeps on the membership rows; no command sets it.
      await running.withDatabase(async (dataSource) => {
        const admin = new AdminStore(dataSource, running.database);
        expect(await admin.setSpend('team_membership', { userId: 'bob', teamId: 'eng' }, 2.5)).to.equal(true);
        expect(await admin.setSpend('team_membership', { userId: 'carol', teamId: 'eng' }, 2.5)).to.equal(true);
      });
      expect((await decisionOf(bobKey, (r) => r.code === 0)).stdout, 'under the default of 5, and now cached').to.match(/^ALLOW/);

      await ok('team', 'update-member', '--team', 'eng', '--user', 'bob', '--max-budget-in-team', '2');
      const refused = await decisionOf(bobKey, (r) => r.code === 1);
      expect(refused.stdout).to.match(/^DENY 400 budget_exceeded: Budget has been exceeded! Current cost: 2\.5, Max budget: 2\.0/);
      expect(await budgetIdOf('bob', 'eng'), 'its own copy').not.to.equal(defaultId);
      expect(await budgetIdOf('carol', 'eng')).to.equal(defaultId);
      expect((await tollgate('check', '--key', carolKey, '--model', 'gpt-4o')).stdout, 'the default row is unchanged').to.match(/^ALLOW/);

      await ok('team', 'update-member', '--team', 'eng', '--user', 'bob', '--max-budget-in-team', 'none');
      expect((await decisionOf(bobKey, (r) => r.code === 0)).stdout, 'no budget left in the team: its row unlinked').to.match(/^ALLOW/);
      expect(await budgetIdOf('bob', 'eng')).to.equal(null);
    });

    it('refuses a member a model once --allowed-models leaves it out, as the team member model access check reads the row written, and allows it again on `none`', async () => {
      await ok('team', 'create', '--team-id', 'lab');
      const erinKey = await memberKey('erin', 'lab');
      expect((await decisionOf(erinKey, (r) => r.code === 0)).stdout, 'no membership row yet, and that is cached').to.match(/^ALLOW/);

      await ok('team', 'update-member', '--team', 'lab', '--user', 'erin', '--allowed-models', 'gpt-4o-mini');
      const refused = await decisionOf(erinKey, (r) => r.code === 1);
      expect(refused.stdout).to.match(
        /^DENY 401 team_model_access_denied: Team member not allowed to access model\. User=erin, Team=lab, Model=gpt-4o\. Allowed member models = \['gpt-4o-mini'\]/,
      );

      await ok('team', 'update-member', '--team', 'lab', '--user', 'erin', '--allowed-models', 'none');
      expect((await decisionOf(erinKey, (r) => r.code === 0)).stdout, 'no models left to limit: the row unlinked').to.match(/^ALLOW/);
      expect(await budgetIdOf('erin', 'lab')).to.equal(null);
    });

    it("--role sets the member's role in the team's members_with_roles", async () => {
      await ok('team', 'create', '--team-id', 'ops');
      await ok('team', 'add-member', '--team', 'ops', '--user', 'dana');
      await ok('team', 'update-member', '--team', 'ops', '--user', 'dana', '--role', 'admin');
      const row = await running.withDatabase((dataSource) => dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: 'ops' }));
      expect(row.members_with_roles).to.deep.equal([{ user_id: 'dana', user_email: null, role: 'admin' }]);
      const refused = await tollgate('team', 'update-member', '--team', 'ops', '--user', 'dana', '--role', 'proxy_admin');
      expect(refused).to.deep.include({ code: 2, stderr: "tollgate: unknown team member role 'proxy_admin' (one of admin, user)\n" });
    });
  });
}
