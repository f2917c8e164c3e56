/**
 * The load generator, run as its own process so its CPU is not the server's: a grpc-js client
 * that sends pre-serialized Envoy CheckRequests (no per-call encoding, so the client spends its
 * core on the transport only) and records latencies in an HDR histogram (microseconds).
 *
 * - closed loop: `concurrency` calls in flight, each completion sends the next (saturation);
 * - open loop: a fixed offered `rate`, sent on schedule whatever the answers do (latency at load).
 *
 * Input: a JSON LoadSpec file (argv[2]); output on stdout: MEASURING_LINE when the warm-up ends,
 * then one JSON LoadResult line.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as hdr from 'hdr-histogram-js';
import { CHECK_METHOD_PATH } from '../src/envoy/protos';
import { readFrames } from './frames';
import { MEASURING_LINE, type LoadResult, type LoadSpec } from './load-spec';

const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadSpec;
const requests = readFrames(readFileSync(spec.requestsFile));
const identity = (value: Buffer): Buffer => value;

// One HTTP/2 connection per channel (a local subchannel pool each), as Envoy opens one per worker thread.
const clients = Array.from(
  { length: spec.channels },
  () => new grpc.Client(spec.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0 }),
);

const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
let next = 0;
let sent = 0;
let completed = 0;
let errors = 0;
let denied = 0;
let inFlight = 0;
let recording = false;
let stopping = false;
let firstError: string | null = null;
let measureStart = 0;
let measureEnd = 0;
let finished = false;

/** True when the encoded CheckResponse carries ok_response (field 3; denied_response is 2) at top level. */
function isOkResponse(message: Buffer): boolean {
  let offset = 0;
  while (offset < message.length) {
    let tag = 0;
    let shift = 0;
    let byte = 0;
    do {
      byte = message[offset++] ?? 0;
      tag |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    const field = tag >>> 3;
    if ((tag & 7) !== 2) return false; // every top-level field of CheckResponse is length-delimited
    let length = 0;
    shift = 0;
    do {
      byte = message[offset++] ?? 0;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    if (field === 3) return true;
    offset += length;
  }
  return false;
}

function send(onDone: () => void): void {
  const request = requests[next % requests.length] as Buffer;
  // Shifted by one each pass over the requests, so every key travels over every connection.
  const client = clients[(next + Math.floor(next / requests.length)) % clients.length] as grpc.Client;
  next += 1;
  sent += 1;
  inFlight += 1;
  const started = process.hrtime.bigint();
  const measured = recording;
  client.makeUnaryRequest(
    CHECK_METHOD_PATH,
    identity,
    identity,
    request,
    new grpc.Metadata(),
    { deadline: Date.now() + spec.deadlineMs },
    (error, response) => {
      inFlight -= 1;
      if (measured && recording) {
        completed += 1;
        if (error) {
          errors += 1;
          firstError ??= `${error.code}: ${error.details}`;
        } else {
          if (response === undefined || !isOkResponse(response)) denied += 1;
          histogram.recordValue(Math.max(1, Math.round(Number(process.hrtime.bigint() - started) / 1000)));
        }
      }
      onDone();
    },
  );
}

/** Ends the measured window now: no more calls, answer once the ones in flight are back. */
function stop(): void {
  if (stopping) return;
  measureEnd = performance.now();
  recording = false;
  stopping = true;
  const drain = setInterval(() => {
    if (inFlight === 0 && !finished) {
      finished = true;
      clearInterval(drain);
      finish();
    }
  }, 5);
}

function limitReached(): boolean {
  return spec.maxCalls > 0 && sent >= spec.maxCalls;
}

function runClosedLoop(): void {
  const loop = (): void => {
    if (limitReached()) stop();
    else if (!stopping) send(loop);
  };
  for (let i = 0; i < spec.concurrency; i += 1) send(loop);
}

function runOpenLoop(): void {
  const started = performance.now();
  let scheduled = 0;
  const tick = (): void => {
    if (stopping) return;
    const due = Math.floor(((performance.now() - started) * spec.rate) / 1000);
    // A client that fell far behind (a stalled machine) must not burst thousands of calls at once.
    // Calls beyond that are dropped, not queued; `sent` against rate × time shows whether any were.
    const burst = Math.min(due - scheduled, Math.max(1, Math.ceil(spec.rate / 50)));
    for (let i = 0; i < burst && !limitReached(); i += 1) send(() => undefined);
    scheduled = due;
    if (limitReached()) {
      stop();
      return;
    }
    setTimeout(tick, 1);
  };
  tick();
}

function finish(): void {
  const elapsedS = (measureEnd - measureStart) / 1000;
  const result: LoadResult = {
    sent,
    completed,
    errors,
    denied,
    elapsedS,
    throughput: completed / elapsedS,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    maxUs: histogram.maxValue,
    firstError,
  };
  console.log(JSON.stringify(result));
  for (const client of clients) client.close();
  process.exit(0);
}

if (spec.mode === 'closed') runClosedLoop();
else runOpenLoop();

setTimeout(() => {
  recording = true;
  measureStart = performance.now();
  // Tells the bench the measured window starts, so it reads the server's own histograms from here.
  console.log(MEASURING_LINE);
  setTimeout(stop, spec.durationMs);
}, spec.warmupMs);
