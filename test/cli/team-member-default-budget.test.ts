/**
 * A team's default member budget reaching its memberships through the CLI, as newer LiteLLM's
 * /team/member_add and /team/update write them: `team add-member` without `--budget` gives a new
 * member a copy of the default row (and a member of a team without one no membership row), and
 * `team update --team-member-budget` links the members without a budget to it. The rows on both stores; with Redis, a running server holding a member to the
 * default's rpm_limit (read from the membership's own row only) once the command announced it.
 */
import { expect } from 'chai';
import type { Cli, CliResult } from '../support/cli-process';
import { eventually } from '../support/poll';
import { CLI_BACKENDS, cliAgainstServer } from '../support/cli-backends';
import { BudgetRecord, TeamMembershipRecord, TeamRecord } from '../../src/store/entities';

/** Cached entries are neither refreshed nor expired during the test: only an announcement clears them. */
const LONG_CACHE = ['tollgate:', '  cache_ttl_seconds: 600', '  cache_refresh_seconds: 600', ''].join('\n');

// Generous: the 429 after `team update` can take two checks (the first one the new limit counts
// passes), each a process of its own, slow on a loaded machine; with LONG_CACHE nothing but the
// announcement can turn the decision, so waiting longer cannot make the test pass without it.
const SEEN_WITHIN_MS = 20_000;

for (const setup of CLI_BACKENDS) {
  describe(`tollgate team add-member / team update and the team's default member budget, on ${setup.name}`, function () {
    this.timeout(120_000);
    const running = cliAgainstServer(setup, LONG_CACHE);
    const tollgate: Cli = (...args) => running.tollgate(...args);

    const rateLimited = () => running.backend.env.REDIS_URL !== undefined;

    const ok = (...args: string[]): Promise<string> => running.ok(...args);

    /** The membership's budget row as stored; undefined when there is no membership row. */
    function budgetOf(userId: string, teamId: string): Promise<BudgetRecord | null | undefined> {
      return running.withDatabase(async (dataSource) => {
        const membership = await dataSource.getRepository(TeamMembershipRecord).findOneBy({ user_id: userId, team_id: teamId });
        if (membership === null) return undefined;
        return membership.budget_id === null ? null : await dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: membership.budget_id });
      });
    }

    /** A team whose default member budget row has the settings given; the row's id. */
    async function teamWithDefault(teamId: string, settings: Partial<Pick<BudgetRecord, 'rpm_limit' | 'tpm_limit'>>, ...options: string[]): Promise<string> {
      const team = JSON.parse(await ok('team', 'create', '--team-id', teamId, ...options)) as { metadata: Record<string, unknown> };
      const defaultId = String(team.metadata['team_member_budget_id']);
      // What LiteLLM's team_member_rpm_limit / _tpm_limit set on the row; no command sets them.
      await running.withDatabase((dataSource) => dataSource.getRepository(BudgetRecord).update({ budget_id: defaultId }, settings));
      return defaultId;
    }

    async function memberKey(userId: string, teamId: string, ...addOptions: string[]): Promise<string> {
      await ok('user', 'create', '--user-id', userId);
      await ok('team', 'add-member', '--team', teamId, '--user', userId, ...addOptions);
      const created = await ok('key', 'create', '--team', teamId, '--user', userId);
      return /^key:\s+(sk-\S+)$/m.exec(created)?.[1] ?? expect.fail('no key printed');
    }

    /** The first decision that `accept` takes, or the last one seen. */
    function decisionOf(key: string, accept: (result: CliResult) => boolean): Promise<CliResult> {
      return eventually(() => tollgate('check', '--key', key, '--model', 'gpt-4o'), accept, { limitMs: SEEN_WITHIN_MS, everyMs: 200 });
    }

    it("team add-member without --budget gives the new member its own copy of the team's default row, rpm included", async () => {
      const defaultId = await teamWithDefault('eng', { rpm_limit: 1, tpm_limit: 900 }, '--team-member-budget', '50');
      const key = await memberKey('carol', 'eng');

      const copy = await budgetOf('carol', 'eng');
      expect(copy?.budget_id).to.be.a('string').and.not.equal(defaultId);
      expect(copy).to.deep.include({ max_budget: 50, rpm_limit: 1, tpm_limit: 900 });
      await memberKey('dave', 'eng', '--budget', defaultId);
      expect((await budgetOf('dave', 'eng'))?.budget_id, '--budget still links the row named').to.equal(defaultId);

      if (!rateLimited()) return;
      expect((await tollgate('check', '--key', key, '--model', 'gpt-4o')).stdout).to.match(/^ALLOW/);
      expect((await decisionOf(key, (r) => r.code === 1)).stdout, "the member's rpm_limit of 1, from its copy").to.match(/^DENY 429 /);
    });

    it('team add-member refuses a member added before (exit 2), keeping its budget, and team update-member --budget none unlinks it', async () => {
      await ok('team', 'create', '--team-id', 'qa', '--team-member-budget', '30');
      await ok('user', 'create', '--user-id', 'frank');
      await ok('team', 'add-member', '--team', 'qa', '--user', 'frank');
      const copyId = (await budgetOf('frank', 'qa'))?.budget_id ?? expect.fail('no copy linked');
      const again = await tollgate('team', 'add-member', '--team', 'qa', '--user', 'frank');
      expect(again.code, again.stderr).to.equal(2);
      expect(again.stderr).to.match(/already in team qa/);
      expect((await budgetOf('frank', 'qa'))?.budget_id, 'added again: no new copy, the budget kept').to.equal(copyId);
      await ok('team', 'update-member', '--team', 'qa', '--user', 'frank', '--budget', 'none');
      expect(await budgetOf('frank', 'qa')).to.equal(null);
    });

    it('team update --team-member-budget links a member added before the team had a default to it, and a running server holds the member to it', async () => {
      await ok('team', 'create', '--team-id', 'ops');
      const key = await memberKey('erin', 'ops');
      expect(await budgetOf('erin', 'ops'), 'no budget to give: no membership row, as LiteLLM').to.equal(undefined);
      // A default row the team names without the CLI (LiteLLM's UI, say): it links no membership.
      await ok('budget', 'create', '--budget-id', 'ops-members', '--max-budget', '40', '--rpm', '1');
      await running.withDatabase((dataSource) => dataSource.getRepository(TeamRecord).update({ team_id: 'ops' }, { metadata: { team_member_budget_id: 'ops-members' } }));
      expect(await budgetOf('erin', 'ops')).to.equal(undefined);
      if (rateLimited()) {
        // Twice: a member without a membership row has no member rate limit, and it is now cached.
        expect((await tollgate('check', '--key', key, '--model', 'gpt-4o')).stdout).to.match(/^ALLOW/);
        expect((await tollgate('check', '--key', key, '--model', 'gpt-4o')).stdout).to.match(/^ALLOW/);
      }

      await ok('team', 'update', 'ops', '--team-member-budget', '50');
      expect(await budgetOf('erin', 'ops'), 'linked to the default row itself, as LiteLLM').to.deep.include({ budget_id: 'ops-members', max_budget: 50, rpm_limit: 1 });
      if (rateLimited()) {
        expect((await decisionOf(key, (r) => r.code === 1)).stdout, 'the membership, announced, is read again with its budget').to.match(/^DENY 429 /);
      }
    });
  });
}
