/**
 * h2load (Debian's nghttp2-client), when installed, as the load generator: written in C, it leaves
 * far more of the 2 cores to the servers than a grpc-js client can, which matters most for
 * saturation and for `--workers 2`. It sends one gRPC-framed CheckRequest (one key) on every stream;
 * gRPC errors travel in HTTP 200 trailers, which h2load does not read, so the bench checks answers
 * with its grpc-js client separately. Latencies come from h2load's per-request log, recorded in the
 * same HDR histogram as the grpc-js client's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { CHECK_METHOD_PATH } from '../src/envoy/protos';
import type { LoadResult } from './load-spec';
import { onCpu } from './cpu-pinning';

export function h2loadAvailable(): boolean {
  return spawnSync('h2load', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface H2loadSpec {
  readonly address: string;
  /** One serialized CheckRequest. */
  readonly request: Buffer;
  readonly connections: number;
  /** Streams in flight per connection (closed loop); paced runs use PACED_STREAM_CEILING. */
  readonly streams: number;
  /** Calls per second over all connections (open loop); 0 for as fast as answered. */
  readonly rate: number;
  /** Closed loop: h2load's own warm-up. Paced: ignored (the calibration run warms up). */
  readonly warmupS: number;
  readonly durationS: number;
  /** Sent as `grpc-timeout`, as Envoy sends its ext_authz timeout with every Check. */
  readonly deadlineMs: number;
  /** The one CPU h2load runs on (BENCH_PIN=1, bench/cpu-pinning.ts); null or absent: any. */
  readonly cpu?: number | null;
}

/** One line of h2load's `--log-file`: when a call started (µs since the epoch), its HTTP status, its latency. */
export interface LoggedCall {
  readonly startUs: number;
  readonly status: string;
  readonly micros: number;
}

/**
 * Streams a paced connection may have open. A paced run must keep sending while the server
 * stalls (a collection, a slow read): h2load stops its timer at this ceiling and resumes from
 * the moment a stream closes, so a low ceiling would quietly offer less load exactly when the
 * server is slow and never record the calls it held back. 4 × 256 is Envoy's default circuit
 * breaker for a cluster (max_requests 1024).
 */
export const PACED_STREAM_CEILING = 256;

/** The paced calibration run's length: it also warms up the connections. */
const CALIBRATION_S = 1;

/** Time scales found for each server and rate, carried to that pair's next paced run. */
const paceScales = new Map<string, number>();

let runs = 0;

export async function runH2load(spec: H2loadSpec, scratchDir: string): Promise<LoadResult> {
  return spec.rate > 0 ? runPaced(spec, scratchDir) : runClosedLoop(spec, scratchDir);
}

async function runClosedLoop(spec: H2loadSpec, scratchDir: string): Promise<LoadResult> {
  const { rows, out } = await runOnce(spec, scratchDir, null);
  const throughput = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN);
  const sent = Number(/requests: (\d+) total/.exec(out)?.[1] ?? rows.length);
  return summarize(rows, { sent, throughput, elapsedS: spec.durationS });
}

/**
 * An open loop at `spec.rate`, held at that rate. h2load follows a timing script by arming its
 * timer for the gap to the next line from the moment the previous one fired, so every late
 * wake-up is lost for good: followed as written, a 5 s script took 8–10 s on this VM, at a rate
 * that also depended on the server (slower answers, busier client loop). So a short run first
 * measures how fast h2load really goes against this server at this rate, and the measured run
 * follows a script compressed by that factor. What it offered is measured again (calls started
 * per second) and reported as the phase's throughput, so a rate that still misses shows.
 */
async function runPaced(spec: H2loadSpec, scratchDir: string): Promise<LoadResult> {
  const key = `${spec.address}@${spec.rate}`;
  let scale = paceScales.get(key) ?? 1;
  const calibration = await runOnce({ ...spec, durationS: CALIBRATION_S }, scratchDir, scale);
  scale = rescale(scale, spec.rate, offeredRate(calibration.rows));
  const { rows } = await runOnce(spec, scratchDir, scale);
  const offered = offeredRate(rows);
  paceScales.set(key, rescale(scale, spec.rate, offered));
  return summarize(rows, {
    // The calibration run's calls are the server's work too: the bench divides CPU by every call sent.
    sent: calibration.rows.length + rows.length,
    throughput: offered,
    elapsedS: rows.length / offered,
  });
}

async function runOnce(spec: H2loadSpec, scratchDir: string, scale: number | null): Promise<{ rows: LoggedCall[]; out: string }> {
  runs += 1;
  const body = join(scratchDir, `h2load-${runs}.bin`);
  const log = join(scratchDir, `h2load-${runs}.log`);
  // gRPC length-prefixed message: compressed flag, then the length as a big-endian uint32.
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(spec.request.length, 1);
  writeFileSync(body, Buffer.concat([frame, spec.request]));
  const url = `http://${spec.address}${CHECK_METHOD_PATH}`;
  let script: string | null = null;
  if (scale !== null) {
    script = join(scratchDir, `h2load-${runs}.script`);
    // Compressed in time, not cut short: as many calls as the phase should have, at the scaled rate.
    writeFileSync(script, timingScript(spec.rate * scale, spec.connections, spec.durationS / scale, url));
  }
  const args = [
    ...(script === null ? [url] : [`--timing-script-file=${script}`]),
    '-d', body,
    '-H', 'content-type: application/grpc',
    '-H', 'te: trailers',
    '-H', `grpc-timeout: ${spec.deadlineMs}m`,
    '-c', String(spec.connections),
    '-m', String(script === null ? spec.streams : PACED_STREAM_CEILING),
    // A timing script ends when its lines do; a closed loop runs for a duration after a warm-up.
    ...(script === null ? ['-D', String(spec.durationS), `--warm-up-time=${spec.warmupS}`] : []),
    `--log-file=${log}`,
  ];
  // libev's epoll backend rounds every timer wait up to a whole millisecond, so a paced call due
  // in 0.3 ms would wait 1 ms; select takes microseconds, and a few connections are what it does best.
  const env = script === null ? process.env : { ...process.env, LIBEV_FLAGS: '1' };
  // h2load appends to an existing log.
  rmSync(log, { force: true });
  const run = onCpu(spec.cpu ?? null, 'h2load', args);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`h2load exited with ${String(code)}:\n${out}`);
  return { rows: parseCallLog(readFileSync(log, 'utf8')), out };
}

function summarize(rows: readonly LoggedCall[], totals: { sent: number; throughput: number; elapsedS: number }): LoadResult {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let failed = 0;
  for (const row of rows) {
    if (row.status !== '200') failed += 1;
    histogram.recordValue(Math.max(1, row.micros));
  }
  return {
    sent: totals.sent,
    completed: rows.length,
    errors: failed,
    denied: 0,
    elapsedS: totals.elapsedS,
    throughput: totals.throughput,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    maxUs: histogram.maxValue,
    firstError: failed > 0 ? `${failed} non-200 answers` : null,
  };
}

export function parseCallLog(text: string): LoggedCall[] {
  const rows: LoggedCall[] = [];
  for (const line of text.split('\n')) {
    const [start, status, micros] = line.split('\t');
    if (start === undefined || status === undefined || micros === undefined) continue;
    rows.push({ startUs: Number(start), status, micros: Number(micros) });
  }
  return rows;
}

/** Calls started per second: the calls after the first, over the time from the first start to the last. */
export function offeredRate(rows: readonly LoggedCall[]): number {
  if (rows.length < 2) return Number.NaN;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    first = Math.min(first, row.startUs);
    last = Math.max(last, row.startUs);
  }
  return last > first ? ((rows.length - 1) * 1e6) / (last - first) : Number.NaN;
}

/**
 * The time scale that should have offered `target` calls per second, given that `scale` offered
 * `measured`. Bounded, so one disturbed run cannot send the next one far off.
 */
export function rescale(scale: number, target: number, measured: number): number {
  if (!Number.isFinite(measured) || measured <= 0) return scale;
  const factor = Math.min(2, Math.max(0.5, target / measured));
  return Math.min(4, Math.max(0.5, scale * factor));
}

/**
 * The script every connection follows for `durationS` of script time: one call every
 * connections / rate seconds, so that all of them together make `rate` calls per second. h2load's `--rps` holds a rate too, but it wakes
 * every 10 ms at the most and then sends all calls due: 8 000 calls/s over 4 connections arrived
 * as bursts of 64 every 10 ms, and "latency at a fixed rate" measured the queue of a burst.
 */
export function timingScript(rate: number, connections: number, durationS: number, url: string): string {
  const intervalMs = (1000 * connections) / rate;
  // Rounded before the ceiling: a script compressed in time (rate × s, duration / s) must not
  // gain a call per connection from the last bit of a floating-point product.
  const calls = Math.max(2, Math.ceil(Number(((durationS * rate) / connections).toFixed(6))));
  const lines: string[] = [];
  for (let i = 0; i < calls; i += 1) lines.push(`${(i * intervalMs).toFixed(3)}\t${url}`);
  return `${lines.join('\n')}\n`;
}
