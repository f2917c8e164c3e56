export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** The caller's own deadline (Envoy's gRPC timeout) is about to pass: distinct from a slow dependency. */
export class DeadlineError extends TimeoutError {
  constructor(ms: number) {
    super('decision', ms);
    this.name = 'DeadlineError';
  }
}

/**
 * Rejects with TimeoutError (or the error `makeError` builds) when `promise` has not settled within
 * `ms`. As `withDeadline` (store/deadline.ts): the verdict waits for one turn of I/O, so a reply
 * received while the event loop was blocked is not taken for a dependency that never answered.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  makeError: () => Error = () => new TimeoutError(what, ms),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(makeError())), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
