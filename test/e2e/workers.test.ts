/**
 * `tollgate serve --workers 2`: both workers serve Checks on the one port, the primary's ops port
 * sums both workers' metrics and reports ready, and SIGTERM drains every worker and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as readline from 'node:readline';
import { expect } from 'chai';
import { connect, requireBuild } from '../support/e2e';
import { anEnvoyCheck, isAllowed } from '../support/envoy-requests';
import { tempSqlitePath, type TempSqlite } from '../support/mysql';
import { BIN, type LogLine } from '../support/server-process';

describe('tollgate serve --workers 2', function () {
  this.timeout(60_000);
  let sqlite: TempSqlite;
  let child: ChildProcess;
  const logs: LogLine[] = [];

  before(async () => {
    requireBuild();
    sqlite = tempSqlitePath();
    child = spawn(process.execPath, [BIN, 'serve', '--workers', '2'], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'info',
        TOLLGATE_GRPC_ADDR: '127.0.0.1:0',
        TOLLGATE_HTTP_ADDR: '127.0.0.1:0',
        TOLLGATE_SQLITE_PATH: sqlite.path,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    readline.createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        logs.push(JSON.parse(text) as LogLine);
      } catch {
        // not a log line
      }
    });
    for (let waited = 0; waited < 40_000 && !logs.some((l) => l.msg === 'workers serving'); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logs.map((l) => l.msg)).to.include('workers serving');
  });

  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    sqlite.cleanup();
  });

  it('answers Checks from both workers on one port', async () => {
    const ports = new Set(logs.filter((l) => l.msg === 'listening').map((l) => l.grpcPort));
    expect(ports.size).to.equal(1);
    expect(logs.filter((l) => l.msg === 'listening')).to.have.length(2);
    // The primary hands connections out in turn: two connections reach both workers.
    const clients = [connect(`127.0.0.1:${String([...ports][0])}`), connect(`127.0.0.1:${String([...ports][0])}`)];
    try {
      for (const client of clients) {
        // No master key configured: allowed, as LiteLLM does without one.
        expect(isAllowed(await client.check(anEnvoyCheck({ path: '/v1/models', method: 'GET' })))).to.equal(true);
      }
    } finally {
      for (const client of clients) client.close();
    }
  });

  it("serves the ops port from the primary: /metrics sums every worker's Checks, /readyz and /healthz answer", async () => {
    const primary = logs.find((l) => l.msg === 'workers serving');
    const httpPort = primary?.httpPort;
    expect(httpPort, 'the primary logs its ops port').to.be.a('number');
    // Workers open no ops port of their own.
    expect(logs.filter((l) => l.msg === 'listening').map((l) => l.httpPort)).to.deep.equal([undefined, undefined]);
    const base = `http://127.0.0.1:${String(httpPort)}`;
    const allowed = async (): Promise<number> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('tollgate_decisions_total{result="allow"'));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const before = await allowed();
    const port = logs.find((l) => l.msg === 'listening')?.grpcPort;
    // Four connections: the primary deals them out in turn, so both workers answer some.
    const clients = Array.from({ length: 4 }, () => connect(`127.0.0.1:${String(port)}`));
    try {
      for (const client of clients) {
        for (let i = 0; i < 5; i += 1) expect(isAllowed(await client.check(anEnvoyCheck({ path: '/v1/models', method: 'GET' })))).to.equal(true);
      }
    } finally {
      for (const client of clients) client.close();
    }
    expect((await allowed()) - before).to.equal(20);
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);
    expect(logs.filter((l) => l.msg === 'stopped')).to.have.length(3); // two workers, then the primary
  });
});
