/**
 * Bytes allocated per call of some work, garbage included, from V8's sampling heap profiler
 * (through node:inspector): under load a Check's garbage costs more than its code (docs/performance.md,
 * "What a warm Check costs at a steady rate"), so the hot-path bench prints it next to CPU time.
 */
import { Session } from 'node:inspector';

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

export interface Allocations {
  readonly bytesPerCall: number;
  /** Where it was allocated: "function file:line" → bytes per call, largest first. */
  readonly sites: ReadonlyArray<readonly [string, number]>;
}

/** One sample per this many bytes on average: small enough for a per-call figure within a few %. */
const SAMPLING_INTERVAL_BYTES = 256;

export async function allocationsPerCall(calls: number, work: (i: number) => unknown): Promise<Allocations> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  try {
    await post('HeapProfiler.enable');
    // Collected objects are what this is about: without these flags the profile keeps only survivors.
    await post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
        for (let i = 0; i < calls; i += 1) {
      // Awaiting a value that is no promise would allocate on its own.
      const result = work(i);
      if (result instanceof Promise) await result;
    }
    const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
    const bySite = new Map<string, number>();
    let total = 0;
    const visit = (node: ProfileNode): void => {
      const frame = node.callFrame;
      const site = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*?\/(src|bench|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`;
      total += node.selfSize;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
      for (const child of node.children) visit(child);
    };
    visit(profile.head);
    const sites = [...bySite].map(([site, bytes]) => [site, bytes / calls] as const).sort((a, b) => b[1] - a[1]);
    return { bytesPerCall: total / calls, sites };
  } finally {
    session.disconnect();
  }
}
