/**
 * End to end: budget alerts leave the real server as a log line and a webhook POST
 * (tollgate.alerting.webhook_url), once per entity per window, and never change the decision.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { createDataSource } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, writeConfig, type Checker, type TempConfig } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { tempSqlitePath } from '../support/mysql';
import { startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-alerts-0123';

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('budget alerts end to end: log line and webhook, deduplicated, never a denial (issue item 4)', function () {
  this.timeout(60_000);
  const file = tempSqlitePath();
  const softKey = `sk-soft-${uniqueId('k')}`;
  const nearMaxKey = `sk-near-${uniqueId('k')}`;
  const overMaxKey = `sk-over-${uniqueId('k')}`;
  const received: Array<Record<string, unknown>> = [];
  let hook: Server;
  let server: ServerProcess;
  let client: Checker;
  let config: TempConfig;
  let teamId = '';

  before(async () => {
    requireBuild();
    hook = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    hook.listen(0, '127.0.0.1');
    await once(hook, 'listening');
    const { port } = hook.address() as AddressInfo;

    const dataSource = createDataSource({ databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const rows = new LiteLlmRows(dataSource);
    const keyBudget = await rows.aBudget({ soft_budget: 1 });
    const team = await rows.aTeam({ spend: 50, soft_budget: 40, max_budget: 100, metadata: { soft_budget_alerting_emails: ['ops@example.com'] } });
    teamId = team.team_id;
    await rows.aKey({ token: hashKey(softKey), spend: 2, budget_id: keyBudget.budget_id, team_id: team.team_id, key_alias: 'soft' });
    await rows.aKey({ token: hashKey(nearMaxKey), spend: 9, max_budget: 10 });
    await rows.aKey({ token: hashKey(overMaxKey), spend: 10, max_budget: 10 });
    await dataSource.destroy();

    config = writeConfig(
      [
        'general_settings:',
        '  master_key: os.environ/E2E_MASTER',
        'tollgate:',
        '  alerting:',
        `    webhook_url: http://127.0.0.1:${port}/budget-alerts`,
        '    dedupe_seconds: 3600',
        '',
      ].join('\n'),
    );
    server = await startServer({ env: { TOLLGATE_SQLITE_PATH: file.path, TOLLGATE_CONFIG: config.path, E2E_MASTER: MASTER_KEY } });
    client = connect(server.address);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    config?.cleanup();
    file.cleanup();
    hook?.closeAllConnections();
    await new Promise((resolve) => hook?.close(resolve));
  });

  it('allows a key over its soft budget and posts the key and team soft-budget alerts once', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect(isAllowed(await client.check(anEnvoyCheck({ key: softKey, body: chat('gpt-4o') })))).to.equal(true);
    }
    await waitFor(() => received.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more arrives: deduplicated
    expect(received.map((a) => `${String(a.event_group)}:${String(a.type)}`).sort()).to.deep.equal(['key:soft_budget', 'team:soft_budget']);
    const team = received.find((a) => a.event_group === 'team');
    expect(team).to.deep.include({ event: 'budget_alert', entity_id: teamId, spend: 50, soft_budget: 40, alert_emails: ['ops@example.com'] });
    const key = received.find((a) => a.event_group === 'key');
    expect(key).to.deep.include({ entity_id: hashKey(softKey), token: hashKey(softKey), key_alias: 'soft', soft_budget: 1, spend: 2 });
    expect(JSON.stringify(received)).not.to.include(softKey);
  });

  it('posts the 80 % alert for a key between 80 % and its max budget', async () => {
    expect(isAllowed(await client.check(anEnvoyCheck({ key: nearMaxKey, body: chat('gpt-4o') })))).to.equal(true);
    await waitFor(() => received.some((a) => a.type === 'max_budget_alert'));
    expect(received.find((a) => a.type === 'max_budget_alert')).to.deep.include({ entity_id: hashKey(nearMaxKey), spend: 9, max_budget: 10 });
  });

  it('raises no alert for a key denied at its max budget (the denial is the signal)', async () => {
    const before = received.length;
    expect(denialOf(await client.check(anEnvoyCheck({ key: overMaxKey, body: chat('gpt-4o') }))).type).to.equal('budget_exceeded');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received.length).to.equal(before);
  });

  it('writes one structured log line per alert sent', () => {
    const lines = server.logs.filter((line) => line.event === 'budget_alert');
    expect(lines.map((line) => line.msg).sort()).to.deep.equal([
      'budget alert: key max_budget_alert',
      'budget alert: key soft_budget',
      'budget alert: team soft_budget',
    ]);
  });
});
