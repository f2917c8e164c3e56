/** Bounded polling: tests wait for an outcome up to a limit instead of sleeping a fixed time. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  { limitMs = 10_000, everyMs = 100 }: { limitMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last = await probe();
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    last = await probe();
  }
  return last;
}

/** The outcome of a call that may fail, as a value (so a poll can look at either). */
export async function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: Error & { code?: unknown; details?: unknown } }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: error as Error & { code?: unknown; details?: unknown } };
  }
}
