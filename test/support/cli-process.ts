/** The real `tollgate` bin run as a child process, its exit code and output as a value. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN } from './server-process';

const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Cli = (...args: string[]) => Promise<CliResult>;

/** A runner with only PATH and `env` in its environment; a failing command resolves with its code. */
export function cliWith(env: Record<string, string>): Cli {
  return async (...args) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };
}
