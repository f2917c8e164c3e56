/**
 * A TCP proxy the test controls, placed between Tollgate and a real service (MariaDB, Redis),
 * to simulate faults without touching the shared service: `stall` (connections hang: a slow or
 * partitioned database), `slow` (every reply from the service arrives `ms` late: a slow
 * database), `cut` (connections reset and new ones refused), `heal`.
 * Bytes sent during a stall are held, not dropped, and delivered on `heal` — as TCP would after a
 * partition ends — so a connection that survives a stall is still in step with its server.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  stall(): void;
  slow(ms: number): void;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: 'forward' | 'stall' | 'cut' = 'forward';
  const pairs = new Set<[Socket, Socket]>();
  /** Writes delayed by a stall, in arrival order (a write to a destroyed socket is a no-op). */
  let held: Array<() => void> = [];
  let latencyMs = 0;

  const server: Server = createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forget = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    // Data is forwarded only while healthy; in "stall" it is held back, as on a partitioned link.
    client.on('data', (chunk: Buffer) => {
      if (mode === 'forward') upstream.write(chunk);
      else held.push(() => upstream.write(chunk));
    });
    // Replies keep their order: each waits for the one before it and for its own due time.
    let replies = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      const due = Date.now() + latencyMs;
      replies = replies
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
        .then(() => {
          if (mode === 'forward') client.write(chunk);
          else held.push(() => client.write(chunk));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');

  return {
    port: address.port,
    stall: () => {
      mode = 'stall';
    },
    slow: (ms: number) => {
      latencyMs = ms;
    },
    cut: () => {
      mode = 'cut';
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      held = [];
    },
    heal: () => {
      mode = 'forward';
      latencyMs = 0;
      const delayed = held;
      held = [];
      for (const write of delayed) write();
    },
    close: () =>
      new Promise((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
