/**
 * The CLI's writes of `budget_reset_at` (`--budget-duration`) as newer LiteLLM's management
 * endpoints write it, `get_budget_reset_time`: aligned in `litellm_settings.timezone`, which the bin
 * reads from its config as the server does. On both stores.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Cli } from '../support/cli-process';
import { CLI_BACKENDS, cliAgainstServer } from '../support/cli-backends';
import { BudgetRecord, TeamRecord, VerificationTokenRecord } from '../../src/store/entities';
import { nextStandardizedReset, resetZoneOf } from '../../src/spend/standardized-reset';

// UTC+05:30 all year: its midnight is 18:30 UTC, no UTC-aligned reset nor now + 1d can land there.
const KOLKATA = ['litellm_settings:', '  timezone: Asia/Kolkata', ''].join('\n');
const zone = resetZoneOf('Asia/Kolkata');

for (const setup of CLI_BACKENDS) {
  describe(`tollgate --budget-duration and budget_reset_at in litellm_settings.timezone, on ${setup.name}`, function () {
    this.timeout(120_000);
    const running = cliAgainstServer(setup, KOLKATA);
    const tollgate: Cli = (...args) => running.tollgate(...args);

    const ok = (...args: string[]): Promise<string> => running.ok(...args);

    /** LiteLLM's reset for `duration` at some moment of [from, to]: what a write in between sets. */
    const resetsWithin = (duration: string, from: number, to: number): Array<number | null> => [
      nextStandardizedReset(duration, from, zone),
      nextStandardizedReset(duration, to, zone),
    ];

    it("key update --budget-duration 1d: the next midnight in the configured zone", async () => {
      const created = await ok('key', 'create');
      const key = /^key:\s+(sk-\S+)$/m.exec(created)?.[1] ?? expect.fail('no key printed');
      const before = Date.now();
      await ok('key', 'update', key, '--budget-duration', '1d');
      const after = Date.now();
      const token = createHash('sha256').update(key).digest('hex');
      const row = await running.withDatabase((dataSource) => dataSource.getRepository(VerificationTokenRecord).findOneByOrFail({ token }));
      const resetAt = row.budget_reset_at?.getTime();
      expect(resetAt).to.be.oneOf(resetsWithin('1d', before, after));
      expect(row.budget_reset_at?.toISOString()).to.match(/T18:30:00\.000Z$/);
    });

    it('team update --budget-duration 7d: the next Monday midnight in the configured zone', async () => {
      const team = JSON.parse(await ok('team', 'create')) as { team_id: string };
      const before = Date.now();
      await ok('team', 'update', team.team_id, '--budget-duration', '7d');
      const after = Date.now();
      const row = await running.withDatabase((dataSource) => dataSource.getRepository(TeamRecord).findOneByOrFail({ team_id: team.team_id }));
      expect(row.budget_reset_at?.getTime()).to.be.oneOf(resetsWithin('7d', before, after));
      // Monday 00:00 in Kolkata is Sunday 18:30 UTC.
      expect(row.budget_reset_at?.getUTCDay()).to.equal(0);
      expect(row.budget_reset_at?.toISOString()).to.match(/T18:30:00\.000Z$/);
    });

    it('budget create --budget-duration 1d: the next midnight in the configured zone, as /budget/new', async () => {
      const before = Date.now();
      const created = JSON.parse(await ok('budget', 'create', '--max-budget', '3', '--budget-duration', '1d')) as { budget_id: string };
      const after = Date.now();
      const row = await running.withDatabase((dataSource) => dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: created.budget_id }));
      expect(row.budget_duration).to.equal('1d');
      expect(row.budget_reset_at?.getTime()).to.be.oneOf(resetsWithin('1d', before, after));
      expect(row.budget_reset_at?.toISOString()).to.match(/T18:30:00\.000Z$/);
    });

    it("team create --team-member-budget-duration 1d: the member budget row's next midnight in the configured zone, as /budget/new", async () => {
      const before = Date.now();
      const team = JSON.parse(await ok('team', 'create', '--team-member-budget', '2', '--team-member-budget-duration', '1d')) as { metadata: { team_member_budget_id: string } };
      const after = Date.now();
      const row = await running.withDatabase((dataSource) => dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: team.metadata.team_member_budget_id }));
      expect(row.budget_duration).to.equal('1d');
      expect(row.budget_reset_at?.getTime()).to.be.oneOf(resetsWithin('1d', before, after));
      expect(row.budget_reset_at?.toISOString()).to.match(/T18:30:00\.000Z$/);
    });

    it('budget create --budget-duration 30days: kept as written, its window ending at the next midnight, as /budget/new', async () => {
      const before = Date.now();
      const created = JSON.parse(await ok('budget', 'create', '--budget-duration', '30days')) as { budget_id: string };
      const after = Date.now();
      const row = await running.withDatabase((dataSource) => dataSource.getRepository(BudgetRecord).findOneByOrFail({ budget_id: created.budget_id }));
      expect(row.budget_duration).to.equal('30days');
      expect(row.budget_reset_at?.getTime()).to.be.oneOf(resetsWithin('1d', before, after));
    });

    for (const duration of ['2mo', 'abc']) {
      it(`budget create --budget-duration ${duration}: refused (exit 2), no row written`, async () => {
        const budgetId = `refused-${duration}-${setup.name}`;
        const refused = await tollgate('budget', 'create', '--budget-id', budgetId, '--budget-duration', duration);
        expect(refused.code, refused.stderr).to.equal(2);
        expect(refused.stderr).to.match(/duration/);
        expect(await running.withDatabase((dataSource) => dataSource.getRepository(BudgetRecord).findOneBy({ budget_id: budgetId }))).to.equal(null);
      });
    }

    it('key update --budget-duration 2mo: refused (exit 2), as LiteLLM cannot reset by it', async () => {
      const created = await ok('key', 'create');
      const key = /^key:\s+(sk-\S+)$/m.exec(created)?.[1] ?? expect.fail('no key printed');
      const refused = await tollgate('key', 'update', key, '--budget-duration', '2mo');
      expect(refused.code, refused.stderr).to.equal(2);
      expect(refused.stderr).to.match(/2mo/);
    });
  });
}
