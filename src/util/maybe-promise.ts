/**
 * Values that are often ready at once and sometimes must be waited for. A warm Check has every
 * entity in process memory: chaining those through promises would cost a microtask per step and
 * the allocations with it, on the path whose latency is the product.
 */
export type MaybePromise<T> = T | Promise<T>;

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** `value` passed to `next` now when it is ready, else when it resolves. */
export function andThen<T, U>(value: MaybePromise<T>, next: (ready: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(next) : next(value);
}

/** Like Promise.all, but synchronous when every value is ready. */
export function allReady<T extends readonly unknown[]>(values: { readonly [K in keyof T]: MaybePromise<T[K]> }): MaybePromise<T> {
  for (const value of values) {
    if (value instanceof Promise) return Promise.all(values) as Promise<T>;
  }
  return values as unknown as T;
}
