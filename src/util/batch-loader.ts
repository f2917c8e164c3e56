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
