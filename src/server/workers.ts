/**
 * `tollgate serve --workers N`: N processes behind one port, for hosts with more than one core.
 *
 * node:cluster's primary owns the listening socket and hands each accepted connection to the next
 * worker in turn (round robin). grpc-js has no SO_REUSEPORT option, and the round robin spreads
 * long-lived HTTP/2 connections evenly, which is what Envoy holds (one or more per worker thread).
 * Each worker is a complete `tollgate serve` — its own caches, pools and invalidation listener —
 * so the primary does no request work: it starts the workers, replaces one that dies, relays
 * SIGUSR2 (round-trip counters), and on SIGTERM/SIGINT has every worker drain, exiting 0 only if
 * every worker did.
 *
 * The operations port belongs to the primary: /metrics sums every worker's metrics (prom-client's
 * cluster aggregation), /readyz is ready while at least one worker serves. Workers open no ops
 * port of their own, so a scrape never sees one worker's share as the whole.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../observability/logger';
import { startOpsServer, type OpsServer } from './http-server';

/** The message a worker sends once its store is connected and it reports SERVING. */
export const SERVING_MESSAGE = 'tollgate:serving';

/** A worker that dies this often in this window is not replaced again: something is wrong. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 500;

/**
 * In a worker: drain and exit when the primary is gone (killed with SIGKILL, crashed), instead of
 * serving on as an orphan nobody will ever stop. No-op outside a cluster.
 */
export function stopWithPrimary(): void {
  if (cluster.isWorker) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** In a worker: answer the primary's metric requests from `registry` (its /metrics sums them). */
export function exposeMetricsToPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // prom-client starts answering the primary's requests when a registry of this kind is built.
  new AggregatorRegistry();
}

/** True in a `--workers N` worker: the primary serves the ops port. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** Tells the primary this worker is serving (no-op outside a cluster). */
export function reportServing(): void {
  if (cluster.isWorker) process.send?.(SERVING_MESSAGE);
}

export async function runPrimary(count: number, logger: Logger, httpAddr: string): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_RR; // the Linux default, stated: the kernel's choice is lopsided
  const workers = new Set<Worker>();
  const serving = new Set<number>();
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;
  let announced = false;

  const aggregator = new AggregatorRegistry();
  const ops: OpsServer = await startOpsServer(httpAddr, {
    metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
    notReadyReason: () => (stopping ? 'shutting down' : serving.size === 0 ? 'no worker serving yet' : null),
  });

  const fork = (): void => {
    const worker = cluster.fork();
    workers.add(worker);
    worker.on('message', (message: unknown) => {
      if (message !== SERVING_MESSAGE) return;
      serving.add(worker.id);
      if (!announced && serving.size === count) {
        announced = true;
        logger.info({ workers: count, httpPort: ops.port }, 'workers serving');
      }
    });
  };

  return new Promise<number>((resolve) => {
    let finished = false;
    const finishIfDone = (): void => {
      if (stopping && workers.size === 0 && !finished) {
        finished = true;
        void ops.close().then(() => {
          logger.info('stopped');
          resolve(failed ? 1 : 0);
        });
      }
    };
    const stopAll = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, workers: workers.size }, 'shutting down workers');
      for (const worker of workers) worker.process.kill('SIGTERM');
      finishIfDone();
    };

    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker);
      serving.delete(worker.id);
      if (stopping) {
        if (code !== 0) failed = true;
        finishIfDone();
        return;
      }
      logger.error({ pid: worker.process.pid, code, signal }, 'worker exited unexpectedly');
      const now = Date.now();
      restarts.push(now);
      while ((restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        logger.error({ restarts: restarts.length }, 'workers keep dying: giving up');
        failed = true;
        stopAll('SIGTERM');
        return;
      }
      setTimeout(() => {
        if (!stopping) fork();
      }, RESTART_DELAY_MS);
    });

    process.once('SIGTERM', () => stopAll('SIGTERM'));
    process.once('SIGINT', () => stopAll('SIGINT'));
    process.on('SIGUSR2', () => {
      for (const worker of workers) worker.process.kill('SIGUSR2');
    });
    for (let i = 0; i < count; i += 1) fork();
  });
}
