/**
 * `npm run bench`: Tollgate against a null ext_authz server on the same stack, in one run, on
 * loopback. Prints figures, never a verdict: see docs/performance.md for what they mean.
 *
 * Steps: fresh MySQL database + Redis prefix → LiteLLM tables → tenant + 1M keys → null server,
 * `tollgate serve`, `tollgate serve --workers 2` → interleaved rounds (saturation, fixed rates of half
 * the null server's and half of Tollgate's saturation, workers, cold keys) → medians → cleanup (database
 * dropped, prefix deleted).
 *
 * Knobs (environment): BENCH_ROUNDS (5), BENCH_PHASE_MS (5000), BENCH_MYSQL_URL, BENCH_REDIS_URL,
 * BENCH_REFERENCE_WORK_US (15; 0 leaves the reference server out), BENCH_REFERENCE_GARBAGE_KB (0; the reference
 * server also leaves that many KB of short-lived objects per Check, to show what garbage costs under load),
 * BENCH_TOLLGATE_NODE_ARGS / BENCH_NULL_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_ONLY (comma list
 * of: warm, workers, cold), BENCH_SERVER_OUTPUT_DIR (keep each server's output there, e.g. with --trace-gc),
 * BENCH_MAX_OLD_SPACE_MB (every server's V8 heap limit; the production overlay's by default, 0 for V8's own),
 * BENCH_ALLOCATIONS=1 (every server runs with --trace-gc-nvp, and the bench reports the bytes V8 allocated per Check:
 * steadier from run to run than CPU per Check, at the cost of a little CPU for the tracing itself),
 * BENCH_PIN=1 (the warm phases run every measured server on one CPU and h2load on the other: bench/cpu-pinning.ts),
 * BENCH_BODY_KIB (0; the measured warm Checks carry a long-context chat body of that many KiB as raw_body, h2load only).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchDatabase, BenchRedis } from './stores';
import { callCheck, createAuthorizationClient } from '../src/envoy/client';
import type { CheckRequest } from '../src/envoy/messages';
import { writeFrames } from './frames';
import { backendLatency, type CallLatency } from './backend-latency';
import { checkDuration, type CheckDuration } from './check-duration';
import { hashKey } from '../src/auth/key-hash';
import { h2loadAvailable, runH2load } from './h2load';
import type { LoadResult, LoadSpec } from './load-spec';
import { NULL_SERVER_ARGS, REPO, runLoad, startServer, type ServerProcess } from './processes';
import { benchHeapLimit } from './heap-limit';
import { allCpus, benchPinning, pinningDescription, setAffinity, tasksetAvailable } from './cpu-pinning';
import { median, printReport, type AllocationFigures, type Figures, type FixedRateFigures, type OwnTime, type ReferenceFigures } from './report';
import { chatCheckRequest, longContextCheckRequest, measuredBodyKib, serializeCheck } from './requests';
import { benchConfigYaml, rawKey, seedKeys, seedTenant, TENANT_KEYS } from './tenant';

// Five: a round's CPU ratio moves by up to ±0.4 with the garbage collector's regime (docs/performance.md).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 5_000);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'warm,workers,cold').split(','));
const TOTAL_KEYS = 1_000_000;
const WARM_KEYS = 1_000;
const COLD_RATE = 200;
/** Cold keys one at a time (closed loop): at most this many calls per round, each a fresh key. */
const COLD_SERIAL_CALLS = 3_000;
const COLD_SERIAL_MS = 3_000;
const IN_FLIGHT = 64;
const CHANNELS = 4;
const DEADLINE_MS = 2_000;
const HEAP_LIMIT = benchHeapLimit(REPO, process.env);
const GC_TRACE = process.env.BENCH_ALLOCATIONS === '1' ? ['--trace-gc-nvp'] : [];
const NODE_ARGS = [...HEAP_LIMIT.args, ...GC_TRACE, ...(process.env.BENCH_TOLLGATE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const NULL_NODE_ARGS = [...HEAP_LIMIT.args, ...GC_TRACE, ...(process.env.BENCH_NULL_NODE_ARGS ?? '').split(' ').filter(Boolean)];
/**
 * The reference server: the null server plus this many µs of arithmetic per Check (its cost with
 * nothing else running), about what bench/hot-path.ts measures Tollgate adding. Measured at
 * saturation with the others, it shows how much the machine inflates any added work under load.
 */
const REFERENCE_WORK_US = Number(process.env.BENCH_REFERENCE_WORK_US ?? 15);
const REFERENCE_GARBAGE_KB = Number(process.env.BENCH_REFERENCE_GARBAGE_KB ?? 0);

interface Phase {
  readonly load: LoadResult;
  readonly cpuPerCheckUs: number;
  /**
   * Read and write system calls per Check (server and workers, /proc/<pid>/io). How many Checks
   * each socket read and write carries decides much of the CPU a Check costs at saturation.
   */
  readonly ioCallsPerCheck: number;
  /** Null where not counted (the null server, multi-worker runs). */
  readonly mysqlPerCheck: number | null;
  readonly redisPerCheck: number | null;
  /** Tollgate's own time per Check, from its /metrics (null where not read). */
  readonly own: CheckDuration | null;
  /** Its database and Redis calls in the phase, from its /metrics. */
  readonly backendCalls: readonly CallLatency[];
  /** KB V8 allocated per Check (BENCH_ALLOCATIONS=1; else null). */
  readonly allocatedKbPerCheck: number | null;
}

/** A warm-key load: h2load when installed (one key per run), else the grpc-js client (all warm keys). */
type Drive = (server: ServerProcess, shape: { rate: number }, measuring?: () => void) => Promise<LoadResult>;

/**
 * `counters`: also count round trips and read Tollgate's own histograms (one `tollgate serve`
 * process). A drive that has a warm-up calls `measuring` when it ends, so the histograms cover the
 * calls the client measures; that scrape falls inside the CPU window (a few ms in a phase of seconds).
 */
async function measure(
  server: ServerProcess,
  drive: (measuring: () => void) => Promise<LoadResult>,
  counters: boolean,
): Promise<Phase> {
  // Scrapes and signals before and after the CPU window: their cost is not the Checks'.
  let histograms: Promise<string | null> = counters ? server.metrics() : Promise.resolve(null);
  await histograms;
  const measuring = (): void => {
    if (counters) histograms = server.metrics();
  };
  const tripsBefore = counters ? await server.roundTrips() : { mysql: 0, redis: 0 };
  const cpuBefore = server.cpuSeconds();
  const ioBefore = server.ioCalls();
  const allocatedBefore = server.allocatedBytes();
  const load = await drive(measuring);
  const cpu = server.cpuSeconds() - cpuBefore;
  const io = server.ioCalls() - ioBefore;
  const tripsAfter = counters ? await server.roundTrips() : { mysql: 0, redis: 0 };
  const metricsAfter = counters ? await server.metrics() : null;
  const histogramsBefore = await histograms;
  // Read last: the lines of the phase's last collections are still in the pipe when the load ends.
  // V8 reports at each collection what was allocated since the one before, so the phase's edges
  // are off by at most one young generation each, against gigabytes allocated in a phase.
  const allocatedAfter = server.allocatedBytes();
  if (load.errors > 0 || load.denied > 0) {
    console.log(`  ! ${server.name}: ${load.errors} errors, ${load.denied} not allowed (${load.firstError ?? ''})`);
  }
  return {
    load,
    // CPU over the whole client run (warm-up and drain too), so divided by every call sent.
    cpuPerCheckUs: (cpu * 1e6) / load.sent,
    ioCallsPerCheck: io / load.sent,
    mysqlPerCheck: counters ? (tripsAfter.mysql - tripsBefore.mysql) / load.sent : null,
    redisPerCheck: counters ? (tripsAfter.redis - tripsBefore.redis) / load.sent : null,
    own: histogramsBefore !== null && metricsAfter !== null ? checkDuration(histogramsBefore, metricsAfter) : null,
    backendCalls: histogramsBefore !== null && metricsAfter !== null ? backendLatency(histogramsBefore, metricsAfter) : [],
    allocatedKbPerCheck: allocatedBefore === null || allocatedAfter === null ? null : (allocatedAfter - allocatedBefore) / 1024 / load.sent,
  };
}

function line(label: string, phase: Phase): void {
  const l = phase.load;
  console.log(
    `  ${label.padEnd(28)} ${l.throughput.toFixed(0).padStart(6)}/s  p50 ${(l.p50Us / 1000).toFixed(3)} ms  p99 ${(l.p99Us / 1000).toFixed(3)} ms  ` +
      `p99.9 ${(l.p999Us / 1000).toFixed(3)} ms  cpu ${phase.cpuPerCheckUs.toFixed(1)} µs/check  io ${phase.ioCallsPerCheck.toFixed(2)}/check` +
      (phase.mysqlPerCheck === null ? '' : `  db ${phase.mysqlPerCheck.toFixed(4)}`) +
      (phase.redisPerCheck === null ? '' : `  redis ${phase.redisPerCheck.toFixed(4)}`) +
      (phase.own === null
        ? ''
        : `  own mean ${(phase.own.meanUs / 1000).toFixed(3)} ms  p50 ≈ ${(phase.own.p50Us / 1000).toFixed(3)} ms  p99 ≈ ${(phase.own.p99Us / 1000).toFixed(3)} ms`) +
      (phase.allocatedKbPerCheck === null ? '' : `  alloc ${phase.allocatedKbPerCheck.toFixed(1)} KB/check`),
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  const runTag = randomBytes(4).toString('hex');
  const scratch = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  console.log(`tollgate bench ${runTag}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  const useH2load = h2loadAvailable() && process.env.BENCH_LOAD_GENERATOR !== 'grpc-js';
  console.log(
    useH2load
      ? 'load generator: h2load (nghttp2-client) for saturation and fixed rate; grpc-js client (separate process) for warm-up, answer checks and cold keys; HDR histograms'
      : 'load generator: grpc-js closed/open-loop client (separate process), HDR histogram (install nghttp2-client to use h2load)',
  );
  console.log(HEAP_LIMIT.description);
  const bodyKib = measuredBodyKib(process.env, useH2load);
  console.log(
    bodyKib === 0
      ? 'measured Checks: an OpenAI chat call with a ~600-byte body'
      : `measured Checks: an OpenAI chat call with a ${bodyKib} KiB long-context body as raw_body (BENCH_BODY_KIB)`,
  );
  // Checked before the minutes of seeding: a pinning that cannot be done stops the run now.
  const pinning = benchPinning(process.env, cpus().length, tasksetAvailable(), useH2load);
  console.log(pinningDescription(pinning));
  /** Servers bound to pinning.serverCpu: h2load runs on pinning.loadCpu while it drives them. */
  const pinned = new Set<number>();
  const pin = (server: ServerProcess): void => {
    if (pinning === null) return;
    setAffinity(server.pid, String(pinning.serverCpu));
    pinned.add(server.pid);
  };
  const unpin = (server: ServerProcess): void => {
    if (!pinned.delete(server.pid)) return;
    setAffinity(server.pid, allCpus(cpus().length));
  };

  const database = await BenchDatabase.create(process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306', runTag);
  const redis = new BenchRedis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', `tollgate-bench-${runTag}:`);
  const servers: ServerProcess[] = [];
  try {
    let t = Date.now();
    await database.migrate();
    await database.withConnection(async (db) => {
      await seedTenant(db);
      await seedKeys(db, runTag, 0, TENANT_KEYS);
    });
    console.log(`seeded tenant (1 org, 50 teams, 10 000 users, ${TENANT_KEYS} keys) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    if (ONLY.has('cold')) {
      t = Date.now();
      await database.withConnection((db) => seedKeys(db, runTag, TENANT_KEYS, TOTAL_KEYS));
      console.log(`seeded up to ${TOTAL_KEYS} keys in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    // On two cores, InnoDB writing back the seed would otherwise be measured as the servers' noise.
    const settled = await database.settle(120_000);
    console.log(`database settled after ${(settled.waitedMs / 1000).toFixed(0)} s (${settled.writesPerS} InnoDB writes in the last second)`);

    const configFile = join(scratch, 'config.yaml');
    writeFileSync(configFile, benchConfigYaml());
    const tollgateEnv = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      TOLLGATE_REDIS_PREFIX: redis.prefix,
      TOLLGATE_CONFIG: configFile,
      LITELLM_MASTER_KEY: `sk-master-${runTag}`,
      TOLLGATE_GRPC_ADDR: '127.0.0.1:0',
      TOLLGATE_HTTP_ADDR: '127.0.0.1:0',
      LOG_LEVEL: 'info',
    };
    const bin = join(REPO, 'bin/tollgate.js');
    const nullServer = await startServer({ name: 'null', args: [...NULL_NODE_ARGS, ...NULL_SERVER_ARGS], env: {}, readyMsg: 'listening', workers: 0 });
    servers.push(nullServer);
    const tollgate = await startServer({
      name: 'tollgate',
      args: [...NODE_ARGS, bin, 'serve'],
      env: tollgateEnv,
      readyMsg: 'store connected: serving',
      workers: 1,
    });
    servers.push(tollgate);

    // Warm keys: spread over the tenant (every user and team gets some), each its own request.
    const warmFile = join(scratch, 'warm.bin');
    const warmIndices = Array.from({ length: WARM_KEYS }, (_, i) => i * (TENANT_KEYS / WARM_KEYS) + (i % 7));
    writeFileSync(warmFile, writeFrames(warmIndices.map((i) => serializeCheck(chatCheckRequest(rawKey(runTag, i), i)))));
    const spec = (address: string, overrides: Partial<LoadSpec>): LoadSpec => ({
      address,
      mode: 'closed',
      concurrency: IN_FLIGHT,
      rate: 0,
      channels: CHANNELS,
      warmupMs: 1_000,
      durationMs: PHASE_MS,
      deadlineMs: DEADLINE_MS,
      requestsFile: warmFile,
      maxCalls: 0,
      ...overrides,
    });
    const measured =
      bodyKib > 0
        ? longContextCheckRequest(rawKey(runTag, warmIndices[0] ?? 0), 0, bodyKib * 1024)
        : chatCheckRequest(rawKey(runTag, warmIndices[0] ?? 0), 0);
    const sampleRequest = serializeCheck(measured);
    const drive: Drive = (server, shape, measuring) =>
      useH2load
        ? runH2load(
            {
              address: server.address,
              request: sampleRequest,
              connections: CHANNELS,
              // Closed loop: 64 in flight. Paced runs have a ceiling of their own (PACED_STREAM_CEILING).
              streams: IN_FLIGHT / CHANNELS,
              rate: shape.rate,
              // No h2load warm-up: the server is warm already, and CPU is divided by every call sent.
              warmupS: 0,
              durationS: PHASE_MS / 1000,
              deadlineMs: DEADLINE_MS,
              cpu: pinning !== null && pinned.has(server.pid) ? pinning.loadCpu : null,
            },
            scratch,
          )
        : runLoad(spec(server.address, shape.rate > 0 ? { mode: 'open', rate: shape.rate } : {}), scratch, measuring);
    const warmUp = async (server: ServerProcess): Promise<void> => {
      await sanityCheck(server, chatCheckRequest(rawKey(runTag, warmIndices[0] ?? 0), 0));
      await sanityCheck(server, measured);
      // Every warm key twice (so each worker of a multi-worker server likely sees each), bounded in time.
      const result = await runLoad(
        spec(server.address, { concurrency: 16, warmupMs: 0, durationMs: 60_000, maxCalls: 2 * WARM_KEYS * CHANNELS }),
        scratch,
      );
      // Then one unmeasured phase of the measured load: both servers' hot code is optimised by the
      // JIT before round 1 (otherwise round 1 measures the compiler, the null server's most).
      const settling = await drive(server, { rate: 0 });
      console.log(
        `warmed ${server.name}: ${result.completed} checks, ${result.errors} errors, ${result.denied} not allowed; ` +
          `then ${settling.completed} unmeasured at saturation`,
      );
    };

    const figures: Figures = {};
    if (ONLY.has('warm')) {
      const reference =
        REFERENCE_WORK_US > 0 || REFERENCE_GARBAGE_KB > 0
          ? await startServer({
              name: `null + ${REFERENCE_WORK_US} µs`,
              args: [...NULL_NODE_ARGS, ...NULL_SERVER_ARGS],
              env: { NULL_EXTRA_WORK_US: String(REFERENCE_WORK_US), NULL_EXTRA_GARBAGE_KB: String(REFERENCE_GARBAGE_KB) },
              readyMsg: 'listening',
              workers: 0,
            })
          : null;
      if (reference !== null) servers.push(reference);
      // Pinned before the warm-up, so its unmeasured saturation phase runs as the measured ones will.
      for (const server of [nullServer, tollgate, reference]) if (server !== null) pin(server);
      await warmUp(nullServer);
      await warmUp(tollgate);
      if (reference !== null) await warmUp(reference);
      type Round = Record<'nullSat' | 'tgSat' | 'nullRate' | 'tgRate' | 'nullHalfTg' | 'tgHalfTg', Phase> & {
        rate: number;
        halfTgRate: number;
        referenceSat: Phase | null;
      };
      const rounds: Round[] = [];
      // Both servers at one offered rate, in this round's order.
      const atRate = async (order: ServerProcess[], rate: number, label: string): Promise<Map<ServerProcess, Phase>> => {
        const phases = new Map<ServerProcess, Phase>();
        for (const server of order) {
          const phase = await measure(server, (measuring) => drive(server, { rate }, measuring), server === tollgate);
          line(`${server.name} at ${rate}/s (${label})`, phase);
          phases.set(server, phase);
        }
        return phases;
      };
      for (let round = 1; round <= ROUNDS; round += 1) {
        console.log(`round ${round}/${ROUNDS}`);
        // Alternate which server goes first, so drift on a shared machine hits both alike.
        const order = round % 2 === 1 ? [nullServer, tollgate] : [tollgate, nullServer];
        const sat = new Map<ServerProcess, Phase>();
        const saturationOrder = reference === null ? order : round % 2 === 1 ? [...order, reference] : [reference, ...order];
        for (const server of saturationOrder) {
          const phase = await measure(server, (measuring) => drive(server, { rate: 0 }, measuring), server === tollgate);
          line(`${server.name} saturation (${IN_FLIGHT} in flight)`, phase);
          sat.set(server, phase);
        }
        // The target's rate (half the null server's capacity) and, since Tollgate's capacity is
        // lower, also half of Tollgate's: the latency of a Check when neither server queues.
        const rate = Math.round(0.5 * (sat.get(nullServer)?.load.throughput ?? 0));
        const halfTgRate = Math.round(0.5 * (sat.get(tollgate)?.load.throughput ?? 0));
        const fixed = await atRate(order, rate, '50 % null sat.');
        const halfTg = await atRate(order, halfTgRate, '50 % tollgate sat.');
        rounds.push({
          rate,
          halfTgRate,
          referenceSat: reference === null ? null : (sat.get(reference) as Phase),
          nullSat: sat.get(nullServer) as Phase,
          tgSat: sat.get(tollgate) as Phase,
          nullRate: fixed.get(nullServer) as Phase,
          tgRate: fixed.get(tollgate) as Phase,
          nullHalfTg: halfTg.get(nullServer) as Phase,
          tgHalfTg: halfTg.get(tollgate) as Phase,
        });
      }
      figures.warm = {
        rate: median(rounds.map((r) => r.rate)),
        null: summarize(rounds.map((r) => r.nullSat), rounds.map((r) => r.nullRate)),
        tollgate: summarize(rounds.map((r) => r.tgSat), rounds.map((r) => r.tgRate)),
        ratios: {
          throughput: median(rounds.map((r) => r.tgSat.load.throughput / r.nullSat.load.throughput)),
          p50: median(rounds.map((r) => r.tgRate.load.p50Us / r.nullRate.load.p50Us)),
          p99: median(rounds.map((r) => r.tgRate.load.p99Us / r.nullRate.load.p99Us)),
          p999: median(rounds.map((r) => r.tgRate.load.p999Us / r.nullRate.load.p999Us)),
          cpu: median(rounds.map((r) => r.tgSat.cpuPerCheckUs / r.nullSat.cpuPerCheckUs)),
          ioCalls: median(rounds.map((r) => r.tgSat.ioCallsPerCheck / r.nullSat.ioCallsPerCheck)),
        },
        atHalfTollgate: {
          rate: median(rounds.map((r) => r.halfTgRate)),
          null: fixedRateFigures(rounds.map((r) => r.nullHalfTg)),
          tollgate: fixedRateFigures(rounds.map((r) => r.tgHalfTg)),
          ratios: {
            p50: median(rounds.map((r) => r.tgHalfTg.load.p50Us / r.nullHalfTg.load.p50Us)),
            p99: median(rounds.map((r) => r.tgHalfTg.load.p99Us / r.nullHalfTg.load.p99Us)),
            p999: median(rounds.map((r) => r.tgHalfTg.load.p999Us / r.nullHalfTg.load.p999Us)),
            cpu: median(rounds.map((r) => r.tgHalfTg.cpuPerCheckUs / r.nullHalfTg.cpuPerCheckUs)),
          },
        },
        reference: referenceFigures(rounds),
        allocated: allocationFigures(rounds),
        tollgateOwn: {
          saturation: ownTime(rounds.map((r) => r.tgSat)),
          atRate: ownTime(rounds.map((r) => r.tgRate)),
          atHalfTollgate: ownTime(rounds.map((r) => r.tgHalfTg)),
        },
      };
      if (reference !== null) {
        await reference.stop();
        servers.splice(servers.indexOf(reference), 1);
      }
      // The workers and cold-key phases use both cores, as deployed.
      unpin(nullServer);
      unpin(tollgate);
    }

    if (ONLY.has('workers')) {
      const two = await startServer({
        name: 'tollgate --workers 2',
        args: [...NODE_ARGS, bin, 'serve', '--workers', '2'],
        env: tollgateEnv,
        readyMsg: 'workers serving',
        workers: 2,
      });
      servers.push(two);
      await warmUp(tollgate);
      await warmUp(two);
      const pairs: Array<[number, number]> = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        const order = round % 2 === 1 ? [tollgate, two] : [two, tollgate];
        const result = new Map<ServerProcess, Phase>();
        for (const server of order) {
          const phase = await measure(server, () => drive(server, { rate: 0 }), false);
          line(`${server.name} saturation`, phase);
          result.set(server, phase);
        }
        pairs.push([result.get(tollgate)?.load.throughput ?? 0, result.get(two)?.load.throughput ?? 0]);
      }
      figures.workers = {
        one: median(pairs.map((p) => p[0])),
        two: median(pairs.map((p) => p[1])),
        ratio: median(pairs.map((p) => p[1] / p[0])),
      };
      await two.stop();
      servers.splice(servers.indexOf(two), 1);
    }

    if (ONLY.has('cold')) {
      // Every call a key no process has seen: memory and Redis miss, MySQL answers from 1M rows.
      const perRound = Math.round((COLD_RATE * (PHASE_MS + 1_000)) / 1000) + COLD_RATE;
      const cold: Phase[] = [];
      const coldSerial: Phase[] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        const first = TENANT_KEYS + round * 50_000;
        const coldFile = join(scratch, `cold-${round}.bin`);
        writeFileSync(
          coldFile,
          writeFrames(Array.from({ length: perRound }, (_, i) => serializeCheck(chatCheckRequest(rawKey(runTag, first + i * 7), first + i)))),
        );
        const coldSpec = spec(tollgate.address, { mode: 'open', rate: COLD_RATE, requestsFile: coldFile });
        const phase = await measure(tollgate, (measuring) => runLoad(coldSpec, scratch, measuring), true);
        line(`tollgate cold keys at ${COLD_RATE}/s`, phase);
        for (const call of phase.backendCalls) {
          const p99 = Number.isFinite(call.p99UpToUs) ? `≤ ${(call.p99UpToUs / 1000).toFixed(2)} ms` : 'beyond the last bucket';
          console.log(`    ${call.call.padEnd(22)} ${String(call.count).padStart(6)} calls  mean ${(call.meanUs / 1000).toFixed(3)} ms  p99 ${p99}`);
        }
        cold.push(phase);
        // One call in flight, the next sent as soon as one is answered: the processes never sit
        // idle long, so this shows what a cold key costs without the machine's wake-up at a low rate.
        const serialFirst = TENANT_KEYS + 500_000 + round * 50_000;
        const serialFile = join(scratch, `cold-serial-${round}.bin`);
        writeFileSync(
          serialFile,
          writeFrames(
            Array.from({ length: COLD_SERIAL_CALLS }, (_, i) => serializeCheck(chatCheckRequest(rawKey(runTag, serialFirst + i * 7), serialFirst + i))),
          ),
        );
        const serialSpec = spec(tollgate.address, {
          concurrency: 1,
          requestsFile: serialFile,
          warmupMs: 300,
          durationMs: COLD_SERIAL_MS,
          maxCalls: COLD_SERIAL_CALLS,
        });
        const serial = await measure(tollgate, (measuring) => runLoad(serialSpec, scratch, measuring), true);
        line('tollgate cold keys, 1 in flight', serial);
        coldSerial.push(serial);
      }
      // The same client and rate on warm keys: what the client and the transport take by themselves;
      // and the null server driven the same ways: the machine's own floor for any server.
      await warmUp(tollgate);
      const baseline = await measure(tollgate, (measuring) => runLoad(spec(tollgate.address, { mode: 'open', rate: COLD_RATE }), scratch, measuring), true);
      line(`tollgate warm keys at ${COLD_RATE}/s`, baseline);
      const nullAtRate = await measure(nullServer, () => runLoad(spec(nullServer.address, { mode: 'open', rate: COLD_RATE }), scratch), false);
      line(`null at ${COLD_RATE}/s`, nullAtRate);
      const nullSerial = await measure(
        nullServer,
        () => runLoad(spec(nullServer.address, { concurrency: 1, warmupMs: 300, durationMs: COLD_SERIAL_MS }), scratch),
        false,
      );
      line('null, 1 in flight', nullSerial);
      // Keys from the top of the table, which no round touched: MySQL alone on one cold lookup.
      const floor = await database.coldLookups(
        Array.from({ length: 500 }, (_, i) => hashKey(rawKey(runTag, TOTAL_KEYS - 10_000 + i * 13))),
      );
      figures.cold = {
        rate: COLD_RATE,
        database: floor,
        warmP50Us: baseline.load.p50Us,
        warmP99Us: baseline.load.p99Us,
        nullP50Us: nullAtRate.load.p50Us,
        nullP99Us: nullAtRate.load.p99Us,
        serial: {
          p50Us: median(coldSerial.map((c) => c.load.p50Us)),
          p99Us: median(coldSerial.map((c) => c.load.p99Us)),
          p999Us: median(coldSerial.map((c) => c.load.p999Us)),
          nullP50Us: nullSerial.load.p50Us,
          nullP99Us: nullSerial.load.p99Us,
        },
        p50Us: median(cold.map((c) => c.load.p50Us)),
        p99Us: median(cold.map((c) => c.load.p99Us)),
        p999Us: median(cold.map((c) => c.load.p999Us)),
        mysqlPerCheck: median(cold.map((c) => c.mysqlPerCheck ?? 0)),
        redisPerCheck: median(cold.map((c) => c.redisPerCheck ?? 0)),
        own: ownTime(cold),
        serialOwn: ownTime(coldSerial),
      };
    }

    printReport(figures, {
      rounds: ROUNDS,
      phaseMs: PHASE_MS,
      inFlight: IN_FLIGHT,
      channels: CHANNELS,
      warmKeys: useH2load ? 1 : WARM_KEYS,
      generator: useH2load ? (pinning === null ? 'h2load' : `h2load on CPU ${pinning.loadCpu}, servers on CPU ${pinning.serverCpu}`) : 'grpc-js client',
    });
  } finally {
    for (const server of servers.reverse()) {
      const code = await server.stop();
      if (code !== 0) console.log(`${server.name} exited with ${String(code)}`);
    }
    await database.drop();
    await redis.cleanup();
    rmSync(scratch, { recursive: true, force: true });
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s (database and Redis prefix removed)`);
  }
}

/** One decoded Check before measuring: the figures mean nothing if the bench's keys are refused. */
async function sanityCheck(server: ServerProcess, request: CheckRequest): Promise<void> {
  const client = createAuthorizationClient(server.address);
  try {
    const response = await callCheck(client, request, { timeoutMs: 10_000 });
    if (response.ok_response === undefined) {
      throw new Error(`${server.name} refused a bench key: ${JSON.stringify(response.denied_response ?? response)}`);
    }
  } finally {
    client.close();
  }
}

function fixedRateFigures(phases: Phase[]): FixedRateFigures {
  return {
    offeredPerS: median(phases.map((p) => p.load.throughput)),
    cpuPerCheckUs: median(phases.map((p) => p.cpuPerCheckUs)),
    p50Us: median(phases.map((p) => p.load.p50Us)),
    p99Us: median(phases.map((p) => p.load.p99Us)),
    p999Us: median(phases.map((p) => p.load.p999Us)),
  };
}

/** The reference server against the null server, round by round. */
/** Medians of the phases' own times; null when a phase's could not be read (e.g. /metrics off). */
function ownTime(phases: readonly Phase[]): OwnTime {
  const times = phases.map((p) => p.own);
  if (times.length === 0 || times.some((t) => t === null)) return null;
  const read = times as CheckDuration[];
  return { meanUs: median(read.map((t) => t.meanUs)), p50Us: median(read.map((t) => t.p50Us)), p99Us: median(read.map((t) => t.p99Us)) };
}

function referenceFigures(rounds: ReadonlyArray<{ referenceSat: Phase | null; nullSat: Phase; tgSat: Phase }>): ReferenceFigures | null {
  const trios = rounds.flatMap((r) => (r.referenceSat === null ? [] : [[r.referenceSat, r.nullSat, r.tgSat] as const]));
  if (trios.length === 0) return null;
  return {
    workUs: REFERENCE_WORK_US,
    garbageKb: REFERENCE_GARBAGE_KB,
    throughput: median(trios.map(([ref]) => ref.load.throughput)),
    cpuPerCheckUs: median(trios.map(([ref]) => ref.cpuPerCheckUs)),
    ratios: {
      throughput: median(trios.map(([ref, nul]) => ref.load.throughput / nul.load.throughput)),
      cpu: median(trios.map(([ref, nul]) => ref.cpuPerCheckUs / nul.cpuPerCheckUs)),
      addedCpuUs: median(trios.map(([ref, nul]) => ref.cpuPerCheckUs - nul.cpuPerCheckUs)),
    },
    tollgate: {
      throughput: median(trios.map(([ref, , tg]) => tg.load.throughput / ref.load.throughput)),
      cpu: median(trios.map(([ref, , tg]) => tg.cpuPerCheckUs / ref.cpuPerCheckUs)),
      rounds: trios.length,
      fasterRounds: trios.filter(([ref, , tg]) => tg.load.throughput > ref.load.throughput).length,
      cheaperRounds: trios.filter(([ref, , tg]) => tg.cpuPerCheckUs < ref.cpuPerCheckUs).length,
    },
  };
}

/** KB allocated per Check at saturation (BENCH_ALLOCATIONS=1), medians over the rounds; else null. */
function allocationFigures(rounds: ReadonlyArray<{ nullSat: Phase; tgSat: Phase; referenceSat: Phase | null }>): AllocationFigures | null {
  const kb = (phases: ReadonlyArray<Phase | null>): number | null => {
    const values = phases.flatMap((phase) => (phase?.allocatedKbPerCheck == null ? [] : [phase.allocatedKbPerCheck]));
    return values.length === 0 ? null : median(values);
  };
  const nul = kb(rounds.map((r) => r.nullSat));
  const tollgate = kb(rounds.map((r) => r.tgSat));
  if (nul === null || tollgate === null) return null;
  return { null: nul, tollgate, reference: kb(rounds.map((r) => r.referenceSat)) };
}

function summarize(saturation: Phase[], fixedRate: Phase[]) {
  return {
    throughput: median(saturation.map((p) => p.load.throughput)),
    // A paced run's throughput is the rate it offered, measured (bench/h2load.ts).
    offeredPerS: median(fixedRate.map((p) => p.load.throughput)),
    cpuPerCheckUs: median(saturation.map((p) => p.cpuPerCheckUs)),
    ioCallsPerCheck: median(saturation.map((p) => p.ioCallsPerCheck)),
    p50Us: median(fixedRate.map((p) => p.load.p50Us)),
    p99Us: median(fixedRate.map((p) => p.load.p99Us)),
    p999Us: median(fixedRate.map((p) => p.load.p999Us)),
    mysqlPerCheck: median([...saturation, ...fixedRate].map((p) => p.mysqlPerCheck ?? 0)),
    redisPerCheck: median([...saturation, ...fixedRate].map((p) => p.redisPerCheck ?? 0)),
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
