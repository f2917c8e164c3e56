/**
 * The null ext_authz server: the same stack as `tollgate serve` (grpc-js, Envoy's protos loaded by
 * src/envoy/protos.ts, the same server options) answering every Check with OK and one header.
 * Whatever it costs is the floor any ext_authz server on this stack pays; Tollgate is measured
 * against it in the same run.
 *
 * With NULL_EXTRA_WORK_US > 0 it is the bench's reference server: every Check also runs a loop of
 * arithmetic calibrated at startup to cost that many µs of CPU on its own. Under load it shows what
 * any added work costs on the machine, whoever's code it is (see docs/performance.md). With
 * NULL_EXTRA_GARBAGE_KB > 0 every Check also leaves about that many KB of small short-lived objects,
 * which is what shows that under load garbage costs far more than it does alone.
 *
 * Prints one JSON line `{"msg":"listening","grpcPort":N}` once bound.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../src/envoy/messages';
import { authorizationService } from '../src/envoy/protos';

const OK: CheckResponse = {
  status: { code: 0 },
  ok_response: { headers: [{ header: { key: 'x-null-authz', value: 'ok' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] },
};

const EXTRA_WORK_US = Number(process.env.NULL_EXTRA_WORK_US ?? 0);

/** Kept across calls so the JIT cannot drop the loop as dead code. */
let spinState = 1;

function spin(iterations: number): void {
  let x = spinState;
  for (let i = 0; i < iterations; i += 1) x = (x * 1_103_515_245 + 12_345) % 2_147_483_647;
  spinState = x;
}

/**
 * CPU per call of `work` with nothing else running: the least over 10 batches of `calls` calls
 * (after `warmUp` calls for the JIT), since the machine's noise only ever adds time.
 */
function aloneUs(work: () => void, calls: number, warmUp: number): number {
  for (let i = 0; i < warmUp; i += 1) work();
  let least = Number.POSITIVE_INFINITY;
  for (let batch = 0; batch < 10; batch += 1) {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i += 1) work();
    const used = process.cpuUsage(before);
    least = Math.min(least, (used.user + used.system) / calls);
  }
  return least;
}

/** Iterations of `spin` that cost `targetUs` of CPU with nothing else running. */
function calibrate(targetUs: number): number {
  const probe = 10_000;
  const usPerIteration = aloneUs(() => spin(probe), 20, 200) / probe;
  return Math.max(1, Math.round(targetUs / usPerIteration));
}

const extraIterations = EXTRA_WORK_US > 0 ? calibrate(EXTRA_WORK_US) : 0;

/** ~36 bytes each with V8's compressed pointers: a 4-field object and its slot in the list. */
const GARBAGE_OBJECT_BYTES = 36;
const garbageObjects = Math.round((Number(process.env.NULL_EXTRA_GARBAGE_KB ?? 0) * 1024) / GARBAGE_OBJECT_BYTES);

interface Litter {
  readonly index: number;
  readonly next: number;
  readonly list: readonly Litter[];
  readonly none: null;
}

/** The last Check's litter, kept until the next one so that escape analysis cannot skip allocating it. */
let litter: readonly Litter[] = [];

function leaveGarbage(objects: number): void {
  const list: Litter[] = [];
  for (let i = 0; i < objects; i += 1) list.push({ index: i, next: i + 1, list, none: null });
  litter = list;
}

// Collections included: what leaving that garbage costs alone, to set against its cost under load.
const garbageUs = garbageObjects > 0 ? aloneUs(() => leaveGarbage(garbageObjects), 5_000, 2_000) : 0;

function check(_call: ServerUnaryCall<CheckRequest, CheckResponse>, callback: sendUnaryData<CheckResponse>): void {
  if (extraIterations > 0) spin(extraIterations);
  if (garbageObjects > 0) leaveGarbage(garbageObjects);
  callback(null, OK);
}

// The same options as src/server/grpc-server.ts, so the comparison is like for like.
const server = new Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
server.addService(authorizationService(), { Check: check });
server.bindAsync(process.env.NULL_GRPC_ADDR ?? '127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: 'listening', grpcPort: port, pid: process.pid, extraWorkUs: EXTRA_WORK_US, extraIterations, garbageObjects, garbageUs, litter: litter.length }));
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
