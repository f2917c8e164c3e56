/** The bench's summary: medians over rounds, ratios to the null server from the same rounds. */
export interface FixedRateFigures {
  /** Calls the load generator started per second, as measured (the rate asked for is the row's). */
  readonly offeredPerS: number;
  readonly cpuPerCheckUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
}

export interface ServerFigures {
  readonly throughput: number;
  /** At the fixed rate: calls the load generator started per second, as measured. */
  readonly offeredPerS: number;
  readonly cpuPerCheckUs: number;
  /** At saturation: read and write system calls per Check (see bench/main.ts, Phase). */
  readonly ioCallsPerCheck: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly mysqlPerCheck: number;
  readonly redisPerCheck: number;
}

/** The null server doing a fixed amount of extra arithmetic per Check (bench/null-server.ts). */
export interface ReferenceFigures {
  /** What the extra work costs per Check with nothing else running. */
  readonly workUs: number;
  /** KB of short-lived objects it also allocates per Check (0: arithmetic only). */
  readonly garbageKb: number;
  readonly throughput: number;
  readonly cpuPerCheckUs: number;
  /** Against the null server in the same rounds; addedCpuUs is what the work cost under load. */
  readonly ratios: { throughput: number; cpu: number; addedCpuUs: number };
  /**
   * Tollgate against the reference in the same rounds: a yardstick that suffers the machine's
   * spells as Tollgate does, so steadier from run to run than either's ratio to the null server.
   */
  readonly tollgate: { throughput: number; cpu: number; rounds: number; fasterRounds: number; cheaperRounds: number };
}

/** KB V8 allocated per Check at saturation (BENCH_ALLOCATIONS=1: every server with --trace-gc-nvp). */
export interface AllocationFigures {
  readonly null: number;
  readonly tollgate: number;
  /** The reference server's, when it ran. */
  readonly reference: number | null;
}

/**
 * Tollgate's own time per Check, from receiving it to its answer being built (`tollgate_check_duration_seconds`,
 * interpolated in the buckets): medians over the rounds. Null when it could not be read.
 */
export type OwnTime = { readonly meanUs: number; readonly p50Us: number; readonly p99Us: number } | null;

export interface Figures {
  warm?: {
    readonly rate: number;
    readonly null: ServerFigures;
    readonly tollgate: ServerFigures;
    readonly ratios: { throughput: number; p50: number; p99: number; p999: number; cpu: number; ioCalls: number };
    /** Both servers at half of Tollgate's saturation, where neither queues. */
    readonly atHalfTollgate: {
      readonly rate: number;
      readonly null: FixedRateFigures;
      readonly tollgate: FixedRateFigures;
      readonly ratios: { p50: number; p99: number; p999: number; cpu: number };
    };
    readonly reference: ReferenceFigures | null;
    readonly allocated: AllocationFigures | null;
    readonly tollgateOwn: { readonly saturation: OwnTime; readonly atRate: OwnTime; readonly atHalfTollgate: OwnTime };
  };
  workers?: { readonly one: number; readonly two: number; readonly ratio: number };
  cold?: {
    readonly rate: number;
    readonly p50Us: number;
    readonly p99Us: number;
    readonly p999Us: number;
    readonly mysqlPerCheck: number;
    readonly redisPerCheck: number;
    /** Warm keys at the same rate through the same client: the client's and the transport's share. */
    readonly warmP50Us: number;
    readonly warmP99Us: number;
    /** The null server at the same rate through the same client: the machine's floor for any server. */
    readonly nullP50Us: number;
    readonly nullP99Us: number;
    /** Cold keys one call in flight (closed loop), and the null server driven the same way. */
    readonly serial: { readonly p50Us: number; readonly p99Us: number; readonly p999Us: number; readonly nullP50Us: number; readonly nullP99Us: number };
    /** The same kind of lookup straight to MySQL, no Tollgate: the floor a cold Check stands on. */
    readonly database: { readonly p50Us: number; readonly p99Us: number; readonly tableMiB: number; readonly bufferPoolMiB: number };
    /** Tollgate's own share of a cold Check: waiting on Redis and MySQL, and its code. */
    readonly own: OwnTime;
    readonly serialOwn: OwnTime;
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;
const x = (ratio: number): string => `${ratio.toFixed(2)}×`;
const own = (time: OwnTime): string => (time === null ? 'not read' : `mean ${ms(time.meanUs)}  p50 ≈ ${ms(time.p50Us)}  p99 ≈ ${ms(time.p99Us)}`);

export interface RunShape {
  readonly rounds: number;
  readonly phaseMs: number;
  readonly inFlight: number;
  readonly channels: number;
  readonly warmKeys: number;
  readonly generator: string;
}

export function printReport(figures: Figures, shape: RunShape): void {
  console.log('');
  console.log(`== medians of ${shape.rounds} interleaved rounds, ${shape.phaseMs / 1000} s per phase ==`);
  const warm = figures.warm;
  if (warm !== undefined) {
    const row = (name: string, a: string, b: string, ratio: string, target: string): void =>
      console.log(`${name.padEnd(34)}${a.padStart(14)}${b.padStart(14)}${ratio.padStart(10)}   ${target}`);
    console.log(`warm keys (${shape.generator}: ${shape.warmKeys} keys, ${shape.channels} connections)`);
    row('', 'null', 'tollgate', 'ratio', 'target');
    row(`saturation, ${shape.inFlight} in flight`, `${warm.null.throughput.toFixed(0)}/s`, `${warm.tollgate.throughput.toFixed(0)}/s`, x(warm.ratios.throughput), '≥ 0.80×');
    const offered = (perS: number): string => `${perS.toFixed(0)}/s`;
    row(`offered at ${warm.rate}/s (measured)`, offered(warm.null.offeredPerS), offered(warm.tollgate.offeredPerS), '', '');
    row(`p50 at ${warm.rate}/s (50 % null sat.)`, ms(warm.null.p50Us), ms(warm.tollgate.p50Us), x(warm.ratios.p50), '≤ 1.25×');
    row(`p99 at ${warm.rate}/s`, ms(warm.null.p99Us), ms(warm.tollgate.p99Us), x(warm.ratios.p99), '≤ 1.25×');
    row(`p99.9 at ${warm.rate}/s`, ms(warm.null.p999Us), ms(warm.tollgate.p999Us), x(warm.ratios.p999), '');
    const half = warm.atHalfTollgate;
    row(`offered at ${half.rate}/s (measured)`, offered(half.null.offeredPerS), offered(half.tollgate.offeredPerS), '', '');
    row(`p50 at ${half.rate}/s (50 % tollgate sat.)`, ms(half.null.p50Us), ms(half.tollgate.p50Us), x(half.ratios.p50), '');
    row(`p99 at ${half.rate}/s`, ms(half.null.p99Us), ms(half.tollgate.p99Us), x(half.ratios.p99), '');
    row(`p99.9 at ${half.rate}/s`, ms(half.null.p999Us), ms(half.tollgate.p999Us), x(half.ratios.p999), '');
    row('server CPU per Check', `${warm.null.cpuPerCheckUs.toFixed(1)} µs`, `${warm.tollgate.cpuPerCheckUs.toFixed(1)} µs`, x(warm.ratios.cpu), '≤ 1.30×');
    // Fewer Checks per socket read and write means more CPU per Check, whoever's code answers them.
    row('read/write syscalls per Check', warm.null.ioCallsPerCheck.toFixed(2), warm.tollgate.ioCallsPerCheck.toFixed(2), x(warm.ratios.ioCalls), '');
    // Neither server saturated: no batching of calls per wake-up, and far steadier from run to run.
    row(`server CPU per Check at ${half.rate}/s`, `${half.null.cpuPerCheckUs.toFixed(1)} µs`, `${half.tollgate.cpuPerCheckUs.toFixed(1)} µs`, x(half.ratios.cpu), '');
    const allocated = warm.allocated;
    if (allocated !== null) {
      // Garbage is much of what a Check costs under load, and this figure moves far less between runs than CPU does.
      const kb = (value: number): string => `${value.toFixed(1)} KB`;
      row('allocated per Check (V8)', kb(allocated.null), kb(allocated.tollgate), x(allocated.tollgate / allocated.null), '');
      if (allocated.reference !== null) console.log(`  the reference server: ${kb(allocated.reference)} per Check`);
    }
    row('MySQL round trips per Check', '', warm.tollgate.mysqlPerCheck.toFixed(4), '', '0');
    row('Redis round trips per Check', '', warm.tollgate.redisPerCheck.toFixed(4), '', '0');
    const mine = warm.tollgateOwn;
    console.log(
      `tollgate's own time per Check (receipt to answer built, from its /metrics): at saturation ${own(mine.saturation)}; ` +
        `at ${warm.rate}/s ${own(mine.atRate)}; at ${half.rate}/s ${own(mine.atHalfTollgate)}`,
    );
    const ref = warm.reference;
    if (ref !== null) {
      const work = ref.garbageKb > 0 ? `${ref.workUs} µs of arithmetic and ${ref.garbageKb} KB of garbage` : `${ref.workUs} µs of arithmetic`;
      const what = ref.garbageKb > 0 ? 'that work' : `the ${ref.workUs} µs`;
      console.log(
        `reference, null + ${work} per Check (its cost alone): ${ref.throughput.toFixed(0)}/s = ${x(ref.ratios.throughput)} null, ` +
          `CPU ${ref.cpuPerCheckUs.toFixed(1)} µs per Check = ${x(ref.ratios.cpu)} null: ${what} cost ${ref.ratios.addedCpuUs.toFixed(1)} µs under load`,
      );
      const t = ref.tollgate;
      console.log(
        `tollgate against that reference, same rounds: throughput ${x(t.throughput)} (higher in ${t.fasterRounds} of ${t.rounds} rounds), ` +
          `CPU per Check ${x(t.cpu)} (lower in ${t.cheaperRounds} of ${t.rounds})`,
      );
    }
  }
  if (figures.workers !== undefined) {
    const w = figures.workers;
    console.log(`--workers 2: ${w.two.toFixed(0)}/s vs one worker ${w.one.toFixed(0)}/s = ${x(w.ratio)} (target ≥ 1.50×)`);
  }
  if (figures.cold !== undefined) {
    const c = figures.cold;
    console.log(
      `cold keys (1M keys in MySQL, ${c.rate}/s): p50 ${ms(c.p50Us)}  p99 ${ms(c.p99Us)} (target ≤ 5 ms)  p99.9 ${ms(c.p999Us)}  ` +
        `MySQL ${c.mysqlPerCheck.toFixed(2)} and Redis ${c.redisPerCheck.toFixed(2)} round trips per Check`,
    );
    console.log(`  warm keys at the same rate, same client: p50 ${ms(c.warmP50Us)}  p99 ${ms(c.warmP99Us)}`);
    console.log(`  the null server at the same rate, same client: p50 ${ms(c.nullP50Us)}  p99 ${ms(c.nullP99Us)}`);
    console.log(`  tollgate's own time per cold Check (receipt to answer built, from its /metrics): at ${c.rate}/s ${own(c.own)}; one at a time ${own(c.serialOwn)}`);
    const s = c.serial;
    console.log(
      `  cold keys one at a time (1 in flight, closed loop): p50 ${ms(s.p50Us)}  p99 ${ms(s.p99Us)}  p99.9 ${ms(s.p999Us)}; ` +
        `the null server the same way: p50 ${ms(s.nullP50Us)}  p99 ${ms(s.nullP99Us)}`,
    );
    const d = c.database;
    console.log(
      `  MySQL alone, one cold key lookup: p50 ${ms(d.p50Us)}  p99 ${ms(d.p99Us)}  ` +
        `(key table ${d.tableMiB.toFixed(0)} MiB, InnoDB buffer pool ${d.bufferPoolMiB.toFixed(0)} MiB)`,
    );
  }
}
