import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFrames } from '../../bench/frames';
import { runLoad } from '../../bench/processes';
import { chatCheckRequest, serializeCheck } from '../../bench/requests';
import { startCountingAuthzServer, type CountingAuthzServer } from '../support/counting-authz-server';


describe('bench load client (a separate process driving a real gRPC server)', () => {
  let server: CountingAuthzServer;
  let scratch: string;

  before(async () => {
    server = await startCountingAuthzServer();
    scratch = mkdtempSync(join(tmpdir(), 'tollgate-load-client-test-'));
  });

  after(() => {
    server.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('says when its warm-up ends, before its result, and measures only the calls after it', async () => {
    const requestsFile = join(scratch, 'requests.bin');
    writeFileSync(requestsFile, writeFrames([serializeCheck(chatCheckRequest('sk-load-client-test', 0))]));
    let answeredAtMeasuring: number | null = null;
    let measuringCalls = 0;
    const result = await runLoad(
      {
        address: server.address,
        mode: 'open',
        concurrency: 0,
        rate: 200,
        channels: 1,
        warmupMs: 500,
        durationMs: 500,
        deadlineMs: 2_000,
        maxCalls: 0,
        requestsFile,
      },
      scratch,
      () => {
        measuringCalls += 1;
        answeredAtMeasuring = server.answered;
      },
    );
    expect(measuringCalls).to.equal(1);
    // The warm-up's calls reached the server before the signal, and the client's figures leave them out.
    expect(answeredAtMeasuring).to.be.greaterThan(0);
    expect(result.errors).to.equal(0);
    expect(result.completed).to.be.greaterThan(0);
    expect(result.completed).to.be.lessThan(server.answered);
  });
});
