import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { h2loadAvailable, offeredRate, parseCallLog, rescale, runH2load, timingScript, type LoggedCall } from '../../bench/h2load';
import { chatCheckRequest, serializeCheck } from '../../bench/requests';
import { startCountingAuthzServer, type CountingAuthzServer } from '../support/counting-authz-server';

const URL = 'http://127.0.0.1:1/envoy.service.auth.v3.Authorization/Check';

function callsStartingEvery(intervalUs: number, count: number): LoggedCall[] {
  return Array.from({ length: count }, (_, i) => ({ startUs: 1_700_000_000_000_000 + i * intervalUs, status: '200', micros: 300 }));
}

describe('bench h2load pacing', () => {
  describe('timingScript', () => {
    it('spaces each connection’s calls so that all connections together make the rate', () => {
      const lines = timingScript(8_000, 4, 2, URL).trim().split('\n');
      // 4 connections at 8 000/s: each one call every 0.5 ms, 4 000 calls in 2 s.
      expect(lines).to.have.length(4_000);
      expect(lines[0]).to.equal(`0.000\t${URL}`);
      expect(lines[1]).to.equal(`0.500\t${URL}`);
      expect(lines.at(-1)).to.equal(`1999.500\t${URL}`);
    });

    it('compresses time for a higher script rate (what a time scale above 1 asks for)', () => {
      const lines = timingScript(8_000 * 1.25, 4, 2, URL).trim().split('\n');
      expect(lines).to.have.length(5_000);
      expect(lines[1]).to.equal(`0.400\t${URL}`);
    });

    it('keeps the call count of a script compressed by any time scale', () => {
      // 400/s over 2 connections for 1 s is 200 calls each, however the scale rounds (3.3 once made 201).
      for (const scale of [0.5, 0.7, 1, 1.3, 2.3, 3.3, 3.97]) {
        expect(timingScript(400 * scale, 2, 1 / scale, URL).trim().split('\n'), `scale ${scale}`).to.have.length(200);
      }
    });
  });

  describe('offeredRate', () => {
    it('counts calls started per second over the span of their starts, in any order', () => {
      const rows = callsStartingEvery(250, 4_001).reverse(); // 4 000 gaps of 0.25 ms: 1 s
      expect(offeredRate(rows)).to.be.closeTo(4_000, 1e-6);
    });

    it('has no rate for fewer than two calls or calls that all started at once', () => {
      expect(Number.isNaN(offeredRate(callsStartingEvery(250, 1)))).to.equal(true);
      expect(Number.isNaN(offeredRate(callsStartingEvery(0, 10)))).to.equal(true);
    });
  });

  describe('rescale', () => {
    it('speeds the script up by the shortfall and slows it down by the excess', () => {
      expect(rescale(1, 8_000, 6_400)).to.be.closeTo(1.25, 1e-9);
      expect(rescale(1.25, 8_000, 10_000)).to.be.closeTo(1, 1e-9);
    });

    it('keeps the scale when the run measured nothing', () => {
      expect(rescale(1.3, 8_000, Number.NaN)).to.equal(1.3);
      expect(rescale(1.3, 8_000, 0)).to.equal(1.3);
    });

    it('moves at most by half or double per run, and stays within 0.5–4', () => {
      expect(rescale(1, 8_000, 1_000)).to.equal(2);
      expect(rescale(1, 8_000, 80_000)).to.equal(0.5);
      expect(rescale(3, 8_000, 2_000)).to.equal(4);
      expect(rescale(0.6, 8_000, 16_000)).to.equal(0.5);
    });
  });

  it('reads h2load’s log lines and skips what is not one', () => {
    const rows = parseCallLog('1700000000000000\t200\t412\n1700000000000500\t503\t90\n\ngarbage\n');
    expect(rows).to.deep.equal([
      { startUs: 1_700_000_000_000_000, status: '200', micros: 412 },
      { startUs: 1_700_000_000_000_500, status: '503', micros: 90 },
    ]);
  });

  describe('against a real gRPC server', function () {
    let server: CountingAuthzServer;
    let scratch: string;

    before(async function () {
      if (!h2loadAvailable()) this.skip(); // `apt-get install nghttp2-client`, as the README's bench set-up says
      server = await startCountingAuthzServer();
      scratch = mkdtempSync(join(tmpdir(), 'tollgate-h2load-test-'));
    });

    after(() => {
      server?.close();
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    });

    it('a paced run reports the calls of its calibration run as sent, and only the measured ones as completed', async () => {
      const answeredBefore = server.answered;
      const request = serializeCheck(chatCheckRequest('sk-h2load-test', 0));
      const result = await runH2load(
        { address: server.address, request, connections: 2, streams: 4, rate: 400, warmupS: 0, durationS: 1, deadlineMs: 2_000 },
        scratch,
      );
      expect(result.errors).to.equal(0);
      // Every call h2load logged was answered; the calibration run's are in `sent` but not measured.
      expect(result.sent).to.equal(server.answered - answeredBefore);
      // Whatever time scale the calibration chose, the measured run makes the phase's calls: 400/s for 1 s.
      expect(result.completed).to.equal(400);
      expect(result.sent).to.equal(800);
      // The offered rate as measured (its value depends on the machine, so only its consistency is checked).
      expect(result.throughput).to.be.a('number').and.greaterThan(0);
      expect(result.elapsedS).to.be.closeTo(result.completed / result.throughput, 1e-9);
    });
  });
});
