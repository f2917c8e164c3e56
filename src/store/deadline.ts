/**
 * Bounds a database call by the configured deadline (`tollgate.db_timeout_ms`), and is where a
 * database call's failure becomes a StoreUnavailableError.
 *
 * Envoy's ext_authz timeout is short (200 ms by default, field-notes §4): a check must fail fast
 * with an infrastructure error (→ gRPC UNAVAILABLE) rather than hang on a stuck pool or a slow
 * statement. The statement itself may still finish on the server; its result is discarded.
 */
import { EntityMetadataNotFoundError, EntityPropertyNotFoundError } from 'typeorm';
import { StoreInvariantError } from './invariant-error';
import { StoreUnavailableError } from './unavailable';

export class StoreTimeoutError extends StoreUnavailableError {
  override readonly name = 'StoreTimeoutError';

  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`database call ${operation} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * A timeout is a verdict that the database is away, and `allow_requests_on_db_unavailable` acts on
 * it. After the event loop was blocked (a long synchronous task), timers run before the socket
 * reads of the same turn: a reply that arrived in time would lose to a timer that fired late. The
 * verdict waits for one turn of I/O (`setImmediate` runs after the poll phase), so a reply already
 * received settles the call first.
 */
export function withDeadline<T>(operation: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      setImmediate(() => reject(new StoreTimeoutError(operation, timeoutMs)));
    }, timeoutMs);
    // A pending deadline must not keep a CLI process alive.
    timer.unref();
    const failed = (error: unknown): void => {
      clearTimeout(timer);
      reject(storeFailure(operation, error));
    };
    // A driver may throw before it returns a promise (a pool already closed): the same failure.
    let pending: Promise<T>;
    try {
      pending = work();
    } catch (error) {
      failed(error);
      return;
    }
    pending.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, failed);
  });
}

/**
 * What the driver or TypeORM threw (connection refused or lost, pool closed, a failed statement)
 * as a StoreUnavailableError, as LiteLLM counts every Prisma error as a database error. A
 * TypeError and its kin are a bug in the code around the statement (mapping a row, say), not the
 * database being away, and so are a broken rule of our own store code and TypeORM's complaints
 * about an entity it was never told of: they pass through unchanged, so that no flag ever allows
 * because of one.
 */
function storeFailure(operation: string, error: unknown): Error {
  if (error instanceof StoreUnavailableError || isProgrammingError(error)) return error as Error;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreUnavailableError(`database call ${operation} failed: ${text}`, { cause: error });
}

function isProgrammingError(error: unknown): boolean {
  if (error instanceof TypeError && isClosedSqlite(error)) return false;
  return (
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    error instanceof StoreInvariantError ||
    error instanceof EntityMetadataNotFoundError ||
    error instanceof EntityPropertyNotFoundError
  );
}

/** better-sqlite3 reports a closed database (the embedded store shut down) as a TypeError. */
function isClosedSqlite(error: TypeError): boolean {
  return error.message === 'The database connection is not open';
}
