/**
 * The processes a bench run starts: servers (null, `tollgate serve`) whose JSON log lines are
 * read for their port and counters, and load-client runs. Server CPU time comes from the kernel's
 * own counters (/proc/<pid>/stat utime + stime, workers included), not from the server.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as readline from 'node:readline';
import { MEASURING_LINE, type LoadResult, type LoadSpec } from './load-spec';

export const REPO = resolve(__dirname, '..');
const TSX = ['--require', 'tsx/cjs'];
/** Generous: on a loaded 2-core machine a server with two workers can take a minute to come up. */
const START_TIMEOUT_MS = 180_000;
const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface LogLine {
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly address: string;
  /** User + system CPU seconds of the server and its live worker processes. */
  cpuSeconds(): number;
  /** Read and write system calls so far (sockets, mostly), server and workers: /proc/<pid>/io. */
  ioCalls(): number;
  /**
   * Bytes V8 allocated so far, server and workers, summed from `--trace-gc-nvp` lines; null when
   * the server was not started with that flag (BENCH_ALLOCATIONS=1).
   */
  allocatedBytes(): number | null;
  /** MySQL and Redis round trips so far, summed over workers (tollgate only). */
  roundTrips(): Promise<{ mysql: number; redis: number }>;
  /** The Prometheus text of its ops port (tollgate only; null when it has none). */
  metrics(): Promise<string | null>;
  stop(): Promise<number | null>;
}

export interface ServerStart {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** The log line that means ready. */
  readonly readyMsg: string;
  /** Processes that answer SIGUSR2 with a "round trips" line. */
  readonly workers: number;
}

function processCpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // exited
  }
}

/** syscr + syscw of /proc/<pid>/io: every read- and write-family system call, threads included. */
export function ioCallsOf(procIo: string): number {
  const reads = /^syscr:\s*(\d+)$/m.exec(procIo);
  const writes = /^syscw:\s*(\d+)$/m.exec(procIo);
  return Number(reads?.[1] ?? 0) + Number(writes?.[1] ?? 0);
}

function processIoCalls(pid: number): number {
  try {
    return ioCallsOf(readFileSync(`/proc/${pid}/io`, 'utf8'));
  } catch {
    return 0; // exited
  }
}

/**
 * What one `--trace-gc-nvp` line says V8 allocated since the collection before it (`allocated=`),
 * or null for any other line (the servers' JSON logs among them).
 */
export function allocatedBytesOf(line: string): number | null {
  if (line.startsWith('{')) return null;
  const match = /\ballocated=(\d+)/.exec(line);
  return match === null ? null : Number(match[1]);
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function startServer(start: ServerStart): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...start.args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ...start.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const listeners: Array<(line: LogLine) => void> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // BENCH_SERVER_OUTPUT_DIR keeps each server's output (e.g. with --trace-gc in its node args).
  const outputDir = process.env.BENCH_SERVER_OUTPUT_DIR;
  const keep = outputDir === undefined || outputDir === '' ? null : createWriteStream(join(outputDir, `${start.name.replace(/\W+/g, '-')}-${String(child.pid)}.log`));
  if (keep !== null) {
    child.stderr?.on('data', (chunk: Buffer) => keep.write(chunk));
    child.once('close', () => keep.end());
  }
  let allocated: number | null = null;
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    keep?.write(`${text}\n`);
    const bytes = allocatedBytesOf(text);
    if (bytes !== null) {
      allocated = (allocated ?? 0) + bytes;
      return;
    }
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    for (const listener of [...listeners]) listener(line);
  });
  let httpPort: number | null = null;
  const port = await new Promise<number>((resolvePort, reject) => {
    let listening: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // with its workers' IPC gone, they drain and exit too
      reject(new Error(`${start.name} did not start within ${START_TIMEOUT_MS / 1000} s:\n${stderr}`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`${start.name} exited with ${String(code)}:\n${stderr}`)));
    listeners.push((line) => {
      if (line.msg === 'listening' && typeof line.grpcPort === 'number') listening = line.grpcPort;
      if (typeof line.httpPort === 'number') httpPort = line.httpPort;
      if (line.msg === start.readyMsg && listening !== null) {
        clearTimeout(timer);
        resolvePort(listening);
      }
    });
  });
  const pid = child.pid ?? 0;
  return {
    name: start.name,
    pid,
    address: `127.0.0.1:${port}`,
    cpuSeconds: () => [pid, ...childPids(pid)].reduce((sum, p) => sum + processCpuTicks(p), 0) / CLOCK_TICKS_PER_S,
    ioCalls: () => [pid, ...childPids(pid)].reduce((sum, p) => sum + processIoCalls(p), 0),
    allocatedBytes: () => allocated,
    roundTrips: () =>
      new Promise((resolveCounts, reject) => {
        const seen: Array<{ mysql: number; redis: number }> = [];
        const timer = setTimeout(() => reject(new Error(`${start.name}: no round-trip counters`)), 5_000);
        const listener = (line: LogLine): void => {
          if (line.msg !== 'round trips') return;
          seen.push({ mysql: Number(line.mysql), redis: Number(line.redis) });
          if (seen.length < start.workers) return;
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(listener), 1);
          resolveCounts({ mysql: sum(seen.map((s) => s.mysql)), redis: sum(seen.map((s) => s.redis)) });
        };
        listeners.push(listener);
        child.kill('SIGUSR2');
      }),
    async metrics() {
      if (httpPort === null) return null;
      return (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

let specCounter = 0;

/** Runs one load-client process to completion; `onMeasuring` is called when its warm-up ends and its measured window starts. */
export async function runLoad(spec: LoadSpec, scratchDir: string, onMeasuring?: () => void): Promise<LoadResult> {
  specCounter += 1;
  const specFile = join(scratchDir, `load-${specCounter}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, [...TSX, join(REPO, 'bench/load-client.ts'), specFile], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (onMeasuring !== undefined && out.includes(`${MEASURING_LINE}\n`)) {
      onMeasuring();
      onMeasuring = undefined;
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`load client exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult;
}

export const NULL_SERVER_ARGS = [...TSX, join(REPO, 'bench/null-server.ts')];
