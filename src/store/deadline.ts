/**
 * Bounds a database call by the configured deadline (`tollgate.db_timeout_ms`).
 *
 * Envoy's ext_authz timeout is short (200 ms by default, field-notes §4): a check must fail fast
 * with an infrastructure error (→ gRPC UNAVAILABLE) rather than hang on a stuck pool or a slow
 * statement. The statement itself may still finish on the server; its result is discarded.
 */
export class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';

  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`database call ${operation} did not answer within ${timeoutMs} ms`);
  }
}

export function withDeadline<T>(operation: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(operation, timeoutMs)), timeoutMs);
    // A pending deadline must not keep a CLI process alive.
    timer.unref();
    work().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
