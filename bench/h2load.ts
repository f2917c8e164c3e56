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
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { CHECK_METHOD_PATH } from '../src/envoy/protos';
import type { LoadResult } from './load-spec';

export function h2loadAvailable(): boolean {
  return spawnSync('h2load', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface H2loadSpec {
  readonly address: string;
  /** One serialized CheckRequest. */
  readonly request: Buffer;
  readonly connections: number;
  /** Streams in flight per connection (closed loop), or the ceiling under `rate`. */
  readonly streams: number;
  /** Calls per second over all connections (open loop); 0 for as fast as answered. */
  readonly rate: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Sent as `grpc-timeout`, as Envoy sends its ext_authz timeout with every Check. */
  readonly deadlineMs: number;
}

let runs = 0;

export async function runH2load(spec: H2loadSpec, scratchDir: string): Promise<LoadResult> {
  runs += 1;
  const body = join(scratchDir, `h2load-${runs}.bin`);
  const log = join(scratchDir, `h2load-${runs}.log`);
  // gRPC length-prefixed message: compressed flag, then the length as a big-endian uint32.
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(spec.request.length, 1);
  writeFileSync(body, Buffer.concat([frame, spec.request]));
  const url = `http://${spec.address}${CHECK_METHOD_PATH}`;
  const paced = spec.rate > 0 ? writeTimingScript(spec, url, join(scratchDir, `h2load-${runs}.script`)) : null;
  const args = [
    ...(paced === null ? [url] : [`--timing-script-file=${paced.script}`]),
    '-d', body,
    '-H', 'content-type: application/grpc',
    '-H', 'te: trailers',
    '-H', `grpc-timeout: ${spec.deadlineMs}m`,
    '-c', String(spec.connections),
    '-m', String(spec.streams),
    // A timing script ends when its lines do; a closed loop runs for a duration after a warm-up.
    ...(paced === null ? ['-D', String(spec.durationS), `--warm-up-time=${spec.warmupS}`] : []),
    `--log-file=${log}`,
  ];
  const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`h2load exited with ${String(code)}:\n${out}`);

  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const rows: Array<{ startUs: number; status: string; micros: number }> = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [start, status, micros] = line.split('\t');
    if (start === undefined || status === undefined || micros === undefined) continue;
    rows.push({ startUs: Number(start), status, micros: Number(micros) });
  }
  // Paced runs have no warm-up of h2load's own: the calls started in the first warmupS are left out.
  const firstStartUs = rows.reduce((least, row) => Math.min(least, row.startUs), Number.POSITIVE_INFINITY);
  const measured = paced === null ? rows : rows.filter((row) => row.startUs >= firstStartUs + spec.warmupS * 1e6);
  let completed = 0;
  let failed = 0;
  for (const row of measured) {
    completed += 1;
    if (row.status !== '200') failed += 1;
    histogram.recordValue(Math.max(1, row.micros));
  }
  const throughput =
    paced === null ? Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN) : completed / spec.durationS;
  const sent = paced === null ? Number(/requests: (\d+) total/.exec(out)?.[1] ?? completed) : rows.length;
  return {
    sent,
    completed,
    errors: failed,
    denied: 0,
    elapsedS: spec.durationS,
    throughput,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    maxUs: histogram.maxValue,
    firstError: failed > 0 ? `${failed} non-200 answers` : null,
  };
}

/**
 * An open loop at `spec.rate`, as a timing script every connection follows: one call every
 * connections / rate seconds, each at its own offset. h2load's `--rps` is no fixed rate at these
 * rates: it wakes every 10 ms at the most and then sends all calls due, so 8 000 calls/s over
 * 4 connections arrived as bursts of 64 every 10 ms, and the "latency at a fixed rate" measured
 * the queue of a burst (several ms for any server), not the latency of a call.
 */
function writeTimingScript(spec: H2loadSpec, url: string, path: string): { script: string } {
  const intervalMs = (1000 * spec.connections) / spec.rate;
  const calls = Math.ceil(((spec.warmupS + spec.durationS) * 1000) / intervalMs);
  const lines: string[] = [];
  for (let i = 0; i < calls; i += 1) lines.push(`${(i * intervalMs).toFixed(3)}\t${url}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { script: path };
}
