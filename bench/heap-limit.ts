/**
 * The V8 heap limit every bench server runs with: the one the production overlay deploys
 * `tollgate serve` with (deploy/overlays/production/gateway-patch.yaml, NODE_OPTIONS), so the bench
 * measures the collector as it runs there. A limit of that size also caps how far V8 lets the old
 * generation grow past the live heap; without it (V8's default limit on this machine is 4 GB) a
 * full collection comes about once a minute under load and pauses 250–440 ms (docs/performance.md,
 * "The heap limit the deployments set").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEPLOYED_PATCH = 'deploy/overlays/production/gateway-patch.yaml';

/** `--max-old-space-size` in MB as the file sets it, or null when it sets none. */
export function maxOldSpaceMbIn(manifest: string): number | null {
  const match = /--max-old-space-size=(\d+)/.exec(manifest);
  return match === null ? null : Number(match[1]);
}

/**
 * BENCH_MAX_OLD_SPACE_MB when set (0: V8's default), else the production overlay's. Returns the
 * node arguments and a line saying which limit the run used.
 */
export function benchHeapLimit(repo: string, env: NodeJS.ProcessEnv): { args: string[]; description: string } {
  const override = env.BENCH_MAX_OLD_SPACE_MB ?? '';
  const source = override === '' ? DEPLOYED_PATCH : 'BENCH_MAX_OLD_SPACE_MB';
  const mb = override === '' ? maxOldSpaceMbIn(readFileSync(join(repo, DEPLOYED_PATCH), 'utf8')) : Number(override);
  if (mb === null || !Number.isFinite(mb) || mb <= 0) return { args: [], description: "heap limit: V8's default" };
  return { args: [`--max-old-space-size=${mb}`], description: `heap limit: --max-old-space-size=${mb} for every server (${source})` };
}
