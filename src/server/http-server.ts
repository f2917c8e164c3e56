/**
 * The operations port (TOLLGATE_HTTP_ADDR): Prometheus /metrics, /healthz for liveness and
 * /readyz for readiness. Kept apart from the gRPC port so probes and scrapes never queue
 * behind Check calls, and so it can stay private to the pod network.
 *
 * - /healthz: the process is alive and its event loop answers (nothing else: a liveness probe
 *   that checks the database would restart every replica during a database outage).
 * - /readyz: the store has connected once and the server is not shutting down. A later
 *   database outage does not flip it: warm entries still answer, and Envoy's
 *   failure_mode_allow handles what cannot be decided.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpsHandlers {
  metrics(): Promise<{ contentType: string; body: string }>;
  /** null when ready; otherwise why not, shown in the 503 body. */
  notReadyReason(): string | null;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `host:port`, `[v6]:port` or `:port`; throws with the variable's name on anything else. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) {
    throw new Error(`TOLLGATE_HTTP_ADDR must be host:port (got "${address}")`);
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

async function route(request: IncomingMessage, response: ServerResponse, handlers: OpsHandlers): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, 'method not allowed\n');
    return;
  }
  const path = (request.url ?? '/').split('?', 1)[0];
  switch (path) {
    case '/healthz':
      send(response, 200, 'ok\n');
      return;
    case '/readyz': {
      const reason = handlers.notReadyReason();
      send(response, reason === null ? 200 : 503, reason === null ? 'ready\n' : `not ready: ${reason}\n`);
      return;
    }
    case '/metrics': {
      const { contentType, body } = await handlers.metrics();
      send(response, 200, body, contentType);
      return;
    }
    default:
      send(response, 404, 'not found\n');
  }
}

export async function startOpsServer(address: string, handlers: OpsHandlers): Promise<OpsServer> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((request, response) => {
    route(request, response, handlers).catch(() => {
      if (!response.headersSent) send(response, 500, 'internal error\n');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Scrapers keep connections alive; without this, close would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}
