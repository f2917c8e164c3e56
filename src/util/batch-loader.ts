/**
 * Collects the ids requested in the same tick and loads them with one call
 * (so N tag lookups of one request cost one query, not N).
 */
export function batchLoader<T>(
  loadMany: (ids: readonly string[]) => Promise<readonly T[]>,
  idOf: (item: T) => string,
): (id: string) => Promise<T | null> {
  let queue: Map<string, Array<{ resolve: (v: T | null) => void; reject: (e: unknown) => void }>> | null = null;

  const flush = async (batch: NonNullable<typeof queue>): Promise<void> => {
    try {
      const items = await loadMany([...batch.keys()]);
      const byId = new Map(items.map((item) => [idOf(item), item]));
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(byId.get(id) ?? null);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  };

  return (id: string) =>
    new Promise<T | null>((resolve, reject) => {
      if (queue === null) {
        const batch = new Map<string, Array<{ resolve: (v: T | null) => void; reject: (e: unknown) => void }>>();
        queue = batch;
        process.nextTick(() => {
          queue = null;
          void flush(batch);
        });
      }
      const waiters = queue.get(id) ?? [];
      waiters.push({ resolve, reject });
      queue.set(id, waiters);
    });
}

type Waiter<T> = { readonly resolve: (value: T | null) => void; readonly reject: (error: unknown) => void };

/**
 * Gathers the ids asked for within `windowMs` (at most `maxBatch` per call) and loads them with one
 * `loadMany` call. An id missing from its answer is loaded on its own by `loadOne`: a row that is
 * gone keeps the single lookup's answer. Meant for work nobody waits on (background revalidation), where a few
 * milliseconds of delay buy one statement instead of one per id.
 */
export function gatheringLoader<T>(
  loadMany: (ids: readonly string[]) => Promise<ReadonlyMap<string, T>>,
  loadOne: (id: string) => Promise<T | null>,
  windowMs: number,
  maxBatch: number,
): (id: string) => Promise<T | null> {
  let queue = new Map<string, Waiter<T>[]>();
  let timer: NodeJS.Timeout | null = null;

  const flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const batch = queue;
    queue = new Map();
    // Every waiter must settle whatever the loaders do (even throw before returning a promise):
    // a waiter left hanging would hold its id's single-flight slot in the cache for good.
    settled(() => loadMany([...batch.keys()])).then(
      (found) => {
        for (const [id, waiters] of batch) {
          const answer = found.has(id) ? Promise.resolve(found.get(id) ?? null) : settled(() => loadOne(id));
          answer.then(
            (value) => waiters.forEach((w) => w.resolve(value)),
            (error: unknown) => waiters.forEach((w) => w.reject(error)),
          );
        }
      },
      (error: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
      },
    );
  };

  return (id: string) =>
    new Promise<T | null>((resolve, reject) => {
      const waiters = queue.get(id);
      if (waiters !== undefined) waiters.push({ resolve, reject });
      else queue.set(id, [{ resolve, reject }]);
      if (queue.size >= maxBatch) flush();
      else if (timer === null) {
        timer = setTimeout(flush, windowMs);
        // Pending revalidation must not keep a stopping process alive.
        timer.unref();
      }
    });
}

/** `work()`'s promise, or a rejected one when it throws before returning it. */
function settled<R>(work: () => Promise<R>): Promise<R> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}
