/**
 * Round trips to MySQL and Redis, counted where they leave the process: the drivers publish every
 * query (mysql2) and command (node-redis) on diagnostics channels, so nothing is estimated and no
 * call site can forget to count. `kill -USR2 <pid>` logs the totals (and, with `--workers`, the
 * primary relays the signal so every worker logs its own); `npm run bench` reads them to report
 * round trips per Check.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Logger } from '../observability/logger';

export interface RoundTrips {
  /** Statements sent to MySQL/MariaDB (mysql2 query + execute). */
  readonly mysql: number;
  /** Commands sent to Redis (pub/sub messages received are not commands). */
  readonly redis: number;
}

const counts = { mysql: 0, redis: 0 };
let subscribed = false;

/** Starts counting (idempotent) and returns a reader of the totals since then. */
export function countRoundTrips(): () => RoundTrips {
  if (!subscribed) {
    subscribed = true;
    // TracingChannel start events: `tracing:<name>:start`, published once per call.
    subscribe('tracing:mysql2:query:start', () => (counts.mysql += 1));
    subscribe('tracing:mysql2:execute:start', () => (counts.mysql += 1));
    subscribe('tracing:node-redis:command:start', () => (counts.redis += 1));
  }
  return () => ({ ...counts });
}

/** Logs the totals on SIGUSR2; returns the function that removes the handler. */
export function logRoundTripsOnSignal(logger: Logger, extra: () => Record<string, number> = () => ({})): () => void {
  const read = countRoundTrips();
  const onSignal = (): void => logger.info({ pid: process.pid, ...read(), ...extra() }, 'round trips');
  process.on('SIGUSR2', onSignal);
  return () => process.off('SIGUSR2', onSignal);
}
