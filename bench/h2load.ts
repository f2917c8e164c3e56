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
  const args = [
    `http://${spec.address}${CHECK_METHOD_PATH}`,
    '-d', body,
    '-H', 'content-type: application/grpc',
    '-H', 'te: trailers',
    '-H', `grpc-timeout: ${spec.deadlineMs}m`,
    '-c', String(spec.connections),
    '-m', String(spec.streams),
    '-D', String(spec.durationS),
    `--warm-up-time=${spec.warmupS}`,
    `--log-file=${log}`,
    ...(spec.rate > 0 ? [`--rps=${(spec.rate / spec.connections).toFixed(2)}`] : []),
  ];
  const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`h2load exited with ${String(code)}:\n${out}`);

  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let completed = 0;
  let failed = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [, status, micros] = line.split('\t');
    if (status === undefined || micros === undefined) continue;
    completed += 1;
    if (status !== '200') failed += 1;
    histogram.recordValue(Math.max(1, Number(micros)));
  }
  const throughput = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN);
  const sent = Number(/requests: (\d+) total/.exec(out)?.[1] ?? completed);
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
