/**
 * BENCH_PIN=1: the warm phases run each measured server on one CPU and h2load on another, so a
 * server's CPU per Check is its own code's, not whatever sharing both cores with the load
 * generator made of it that second. Unpinned, the kernel moves h2load and the server between the
 * two cores and their share of each shifts from phase to phase: single rounds of the same build
 * ranged from 0.99× to 1.96× the null server's CPU. Pinned, a server is bound by its one core, so its
 * throughput is set by its own CPU per Check, both servers make the same system calls per Check, and
 * the rounds spread less (1.35–1.62× in two runs; docs/performance.md, "One core each"). The
 * `--workers 2` comparison is never pinned: it is about using both cores.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface CpuPinning {
  /** The CPU every measured server runs on (all its threads). */
  readonly serverCpu: number;
  /** The CPU h2load runs on. */
  readonly loadCpu: number;
}

export function tasksetAvailable(): boolean {
  return spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status === 0;
}

/**
 * The pinning BENCH_PIN asks for: null when it is unset or 0. It needs two CPUs and `taskset`
 * (util-linux), and h2load as the load generator: the grpc-js client spreads over both cores.
 * Asked for without them, the run stops with the reason rather than measuring something else.
 */
export function benchPinning(env: NodeJS.ProcessEnv, cpuCount: number, hasTaskset: boolean, hasH2load: boolean): CpuPinning | null {
  const asked = env.BENCH_PIN ?? '';
  if (asked === '' || asked === '0') return null;
  if (asked !== '1') throw new Error(`BENCH_PIN must be 1 or 0, not ${JSON.stringify(asked)}`);
  if (cpuCount < 2) throw new Error(`BENCH_PIN=1 needs two CPUs; this machine has ${cpuCount}`);
  if (!hasTaskset) throw new Error('BENCH_PIN=1 needs taskset (util-linux)');
  if (!hasH2load) throw new Error('BENCH_PIN=1 needs h2load as the load generator (apt-get install nghttp2-client)');
  return { serverCpu: cpuCount - 1, loadCpu: 0 };
}

/** `command args` run on `cpu` only: taskset execs the command, so the pid is the command's. */
export function onCpu(cpu: number | null, command: string, args: readonly string[]): { command: string; args: string[] } {
  return cpu === null ? { command, args: [...args] } : { command: 'taskset', args: ['--cpu-list', String(cpu), command, ...args] };
}

/**
 * Binds every thread a running process has to `cpus` (a taskset list: "1", "0-1"). Threads it
 * starts later inherit the binding from the thread that starts them.
 */
export function setAffinity(pid: number, cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { stdio: 'ignore' });
}

/** Every CPU of this machine, as a taskset list. */
export function allCpus(cpuCount: number): string {
  return cpuCount === 1 ? '0' : `0-${cpuCount - 1}`;
}

/** The line the report prints about it. */
export function pinningDescription(pinning: CpuPinning | null): string {
  return pinning === null
    ? 'CPUs: not pinned (BENCH_PIN=1 runs each measured server on one CPU and h2load on another)'
    : `CPUs: warm phases pinned, every measured server on CPU ${pinning.serverCpu}, h2load on CPU ${pinning.loadCpu} (BENCH_PIN=1); --workers 2 not pinned`;
}
