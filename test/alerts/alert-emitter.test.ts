import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { AlertEmitter, type AlertEmitterOptions } from '../../src/alerts/alert-emitter';
import type { BudgetAlert } from '../../src/domain/budget-alert';
import { createLogger } from '../../src/observability/logger';

function anAlert(overrides: Partial<BudgetAlert> = {}): BudgetAlert {
  return {
    type: 'soft_budget',
    event_group: 'key',
    entity_id: 'h'.repeat(64),
    token: 'h'.repeat(64),
    spend: 6,
    max_budget: 10,
    soft_budget: 5,
    key_alias: 'ci',
    user_id: 'user-1',
    user_email: null,
    team_id: null,
    team_alias: null,
    organization_id: null,
    project_id: null,
    alert_emails: null,
    ...overrides,
  };
}

/** pino writing JSON lines into memory. */
function memoryLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    logger: createLogger('info', sink),
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

interface Webhook {
  readonly url: string;
  readonly received: Array<{ headers: IncomingMessage['headers']; body: Record<string, unknown> }>;
  respondWith: (res: ServerResponse) => void;
  close(): Promise<void>;
}

async function startWebhook(): Promise<Webhook> {
  const received: Webhook['received'] = [];
  const hook: { respondWith: (res: ServerResponse) => void } = { respondWith: (res) => res.writeHead(204).end() };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown> });
      hook.respondWith(res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts?token=secret`,
    received,
    get respondWith() {
      return hook.respondWith;
    },
    set respondWith(fn) {
      hook.respondWith = fn;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('AlertEmitter — budget alerts off the request path (issue item 4)', function () {
  this.timeout(10_000);
  let webhook: Webhook;
  let clock: number;

  beforeEach(async () => {
    webhook = await startWebhook();
    clock = Date.parse('2030-01-01T00:00:00Z');
  });

  afterEach(async () => {
    await webhook.close();
  });

  const emitter = (overrides: Partial<AlertEmitterOptions> = {}, log = memoryLogger()) => ({
    log,
    emitter: new AlertEmitter({
      logger: log.logger,
      webhookUrl: webhook.url,
      dedupeSeconds: 3600,
      timeoutMs: 1000,
      queueSize: 100,
      now: () => clock,
      ...overrides,
    }),
  });

  it('POSTs each alert as JSON to tollgate.alerting.webhook_url and logs one structured line', async () => {
    const { emitter: alerts, log } = emitter();
    alerts.emit([anAlert()]);
    await alerts.idle();
    expect(webhook.received).to.have.length(1);
    expect(webhook.received[0]?.headers['content-type']).to.equal('application/json');
    expect(webhook.received[0]?.body).to.deep.include({
      event: 'budget_alert',
      timestamp: '2030-01-01T00:00:00.000Z',
      type: 'soft_budget',
      event_group: 'key',
      spend: 6,
      soft_budget: 5,
      key_alias: 'ci',
    });
    const line = log.lines().find((l) => l.event === 'budget_alert');
    expect(line).to.deep.include({ msg: 'budget alert: key soft_budget', level: 40 });
    expect(line?.alert).to.deep.include({ type: 'soft_budget', entity_id: 'h'.repeat(64) });
    expect(alerts.stats).to.deep.include({ emitted: 1, delivered: 1, failed: 0 });
  });

  it('returns from emit before anything is sent (never on the request path)', async () => {
    const { emitter: alerts, log } = emitter();
    alerts.emit([anAlert()]);
    expect(webhook.received).to.have.length(0);
    expect(log.lines().filter((l) => l.event === 'budget_alert')).to.have.length(0);
    await alerts.idle();
    expect(webhook.received).to.have.length(1);
  });

  it('sends an alert once per entity and type per window (dedupe_seconds), again after it', async () => {
    const { emitter: alerts } = emitter({ dedupeSeconds: 60 });
    alerts.emit([anAlert(), anAlert()]);
    clock += 59_000;
    alerts.emit([anAlert()]);
    alerts.emit([anAlert({ type: 'max_budget_alert' })]); // another alert type of the same key
    alerts.emit([anAlert({ entity_id: 'other-key' })]); // another key
    alerts.emit([anAlert({ event_group: 'team', entity_id: 'team-1' })]);
    await alerts.idle();
    expect(webhook.received).to.have.length(4);
    clock += 1_000;
    alerts.emit([anAlert()]);
    await alerts.idle();
    expect(webhook.received).to.have.length(5);
    expect(alerts.stats).to.deep.include({ emitted: 5, deduplicated: 2 });
  });

  it('drops alerts beyond the bounded queue instead of holding them', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    webhook.respondWith = (res) => void held.then(() => res.writeHead(204).end());
    const { emitter: alerts } = emitter({ queueSize: 2 });
    alerts.emit([1, 2, 3, 4, 5].map((n) => anAlert({ entity_id: `key-${n}` })));
    expect(alerts.stats).to.deep.include({ emitted: 2, dropped: 3 });
    release();
    await alerts.idle();
    expect(webhook.received.map((r) => r.body.entity_id)).to.deep.equal(['key-1', 'key-2']);
  });

  it('an alert dropped for a full queue is not deduplicated: the next request may raise it', async () => {
    const { emitter: alerts } = emitter({ queueSize: 1 });
    alerts.emit([anAlert({ entity_id: 'a' }), anAlert({ entity_id: 'b' })]);
    await alerts.idle();
    alerts.emit([anAlert({ entity_id: 'b' })]);
    await alerts.idle();
    expect(webhook.received.map((r) => r.body.entity_id)).to.deep.equal(['a', 'b']);
  });

  it('survives a failing webhook (HTTP 500): counted, logged once, nothing thrown', async () => {
    webhook.respondWith = (res) => res.writeHead(500).end('boom');
    const { emitter: alerts, log } = emitter();
    alerts.emit([anAlert({ entity_id: 'a' }), anAlert({ entity_id: 'b' })]);
    await alerts.idle();
    expect(alerts.stats).to.deep.include({ delivered: 0, failed: 2 });
    const failures = log.lines().filter((l) => l.msg === 'budget alert webhook failed');
    expect(failures).to.have.length(1);
    expect(JSON.stringify(log.lines())).not.to.include('secret'); // the URL (and its token) is never logged
  });

  it('gives up on a webhook slower than timeout_ms', async () => {
    webhook.respondWith = () => undefined; // never answers
    const { emitter: alerts } = emitter({ timeoutMs: 100 });
    alerts.emit([anAlert()]);
    await alerts.idle();
    expect(alerts.stats.failed).to.equal(1);
  });

  it('survives an unreachable webhook', async () => {
    const url = webhook.url;
    await webhook.close();
    const { emitter: alerts } = emitter({ webhookUrl: url });
    alerts.emit([anAlert()]);
    await alerts.idle();
    expect(alerts.stats.failed).to.equal(1);
    webhook = await startWebhook();
  });

  it('logs without a webhook configured', async () => {
    const { emitter: alerts, log } = emitter({ webhookUrl: null });
    alerts.emit([anAlert()]);
    await alerts.idle();
    expect(log.lines().filter((l) => l.event === 'budget_alert')).to.have.length(1);
    expect(webhook.received).to.have.length(0);
  });

  it('close() waits for queued alerts, bounded by its timeout, and ignores later ones', async () => {
    const { emitter: alerts } = emitter();
    alerts.emit([anAlert()]);
    await alerts.close(2000);
    expect(webhook.received).to.have.length(1);
    alerts.emit([anAlert({ entity_id: 'late' })]);
    await alerts.idle();
    expect(webhook.received).to.have.length(1);
  });

  it('close() returns after its timeout when the webhook hangs', async () => {
    webhook.respondWith = () => undefined;
    const { emitter: alerts } = emitter({ timeoutMs: 5000 });
    alerts.emit([anAlert()]);
    const started = Date.now();
    await alerts.close(100);
    expect(Date.now() - started).to.be.lessThan(2000);
  });
});
