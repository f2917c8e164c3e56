/**
 * A redis-server the test owns: its own spare port and data directory, no persistence, so it can
 * be killed and restarted without going near the machine's shared Redis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Starts (or restarts) the server on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: a crash, not a clean shutdown. */
  kill(): Promise<void>;
  /** Kills the server if running and removes its directory. */
  cleanup(): Promise<void>;
}

export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A port nothing listens on right now (the kernel picks it; it stays free in practice). */
export async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function answersPing(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Not started yet: call start(). In CI a missing redis-server fails; locally the suite is skipped. */
/** `extraArgs` go to redis-server after the test's own (e.g. `--cluster-enabled yes`). */
export async function ownRedis(ctx: Mocha.Context, extraArgs: readonly string[] = []): Promise<OwnRedis> {
  if (!redisServerInstalled()) {
    const reason = 'redis-server is not installed (the Redis fault tests start their own)';
    if (process.env.CI) throw new Error(`${reason} (CI requires it)`);
    console.warn(`      skipped: ${reason}`);
    ctx.skip();
  }
  const port = await sparePort();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };

  return {
    port,
    url,
    get running(): boolean {
      return child !== null;
    },
    async start(): Promise<void> {
      if (child !== null) return;
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
      child = spawn('redis-server', args, { stdio: 'ignore' });
      for (let attempt = 0; attempt < 100; attempt += 1) {
        if (await answersPing(url)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await kill();
      throw new Error(`redis-server on port ${port} did not answer`);
    },
    kill,
    async cleanup(): Promise<void> {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
