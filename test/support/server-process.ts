/**
 * Runs the real `tollgate serve` (the built bin) as a child process for end-to-end tests and
 * reads its JSON log lines to learn the port and when it is serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import * as readline from 'node:readline';

export const BIN = resolve(__dirname, '../../bin/tollgate.js');

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface ServerProcess {
  readonly port: number;
  readonly address: string;
  /** The operations port (/metrics, /healthz, /readyz). */
  readonly httpPort: number;
  readonly child: ChildProcess;
  /** Every JSON log line printed so far (stdout). */
  readonly logs: LogLine[];
  /** Raw stdout + stderr text, for leak scans. */
  output(): string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  readonly env: Record<string, string>;
  /** Resolve once listening, without waiting for the store (for outage tests). */
  readonly waitForStore?: boolean;
  readonly startupTimeoutMs?: number;
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'debug', TOLLGATE_GRPC_ADDR: '127.0.0.1:0', TOLLGATE_HTTP_ADDR: '127.0.0.1:0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let raw = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8');
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const waitForStore = options.waitForStore ?? true;
  let httpPort = 0;

  const port = await new Promise<number>((resolvePort, reject) => {
    let listeningPort: number | null = null;
    const timer = setTimeout(
      () => reject(new Error(`tollgate serve did not become ready:\n${raw}`)),
      options.startupTimeoutMs ?? 20_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tollgate serve exited early with ${String(code)}:\n${raw}`));
    });
    lines.on('line', (line) => {
      raw += `${line}\n`;
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      logs.push(parsed);
      if (parsed.msg === 'listening' && typeof parsed.grpcPort === 'number') {
        listeningPort = parsed.grpcPort;
        if (typeof parsed.httpPort === 'number') httpPort = parsed.httpPort;
        if (!waitForStore) {
          clearTimeout(timer);
          resolvePort(listeningPort);
        }
      }
      if (parsed.msg === 'store connected: serving' && listeningPort !== null) {
        clearTimeout(timer);
        resolvePort(listeningPort);
      }
    });
  });

  return {
    port,
    address: `127.0.0.1:${port}`,
    httpPort,
    child,
    logs,
    output: () => raw,
    async stop(): Promise<number | null> {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}
