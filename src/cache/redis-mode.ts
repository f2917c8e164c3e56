/**
 * Whether a Redis can serve Tollgate at all. Tollgate's scripts read and write several keys in
 * one call (a Check's rate windows and reservation, a response's counters and queue entry), which
 * a Redis Cluster node refuses (CROSSSLOT) or sends elsewhere (MOVED, CLUSTERDOWN) unless the keys
 * share a slot and the client follows the cluster. Both hold only with `tollgate.redis_cluster`
 * (a hash-tagged key prefix, and redis-cluster-client.ts). A cluster node named without it would
 * half-work: some cache reads answered, every admission script failing, rate limits failing open
 * one Check at a time with nothing to say why. Such a Redis is therefore not used at all, with one
 * clear error naming the setting, and Tollgate runs as it does while Redis is down.
 */
import type { RedisClient } from './redis-shared-cache';
import { withTimeout } from '../util/timeout';

/** `INFO cluster` says `cluster_enabled:1` on a node started with `cluster-enabled yes`. */
export function isClusterInfo(info: string): boolean {
  return /^cluster_enabled:1\s*$/m.test(info);
}

/**
 * Whether the connected server runs in cluster mode; false when it cannot say (not connected, INFO
 * refused or renamed, no answer in time): that is an outage or a restriction, not a cluster.
 */
export async function isClusterNode(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (!client.isReady) return false;
  try {
    return isClusterInfo(await withTimeout(client.info('cluster'), timeoutMs, 'redis INFO cluster'));
  } catch {
    return false;
  }
}

/**
 * After every (re)connection, asks the server whether it runs in cluster mode; if it does,
 * reports it and closes the client for good (no reconnecting to a server that cannot work).
 * A server that does not answer the question is left alone: that is an outage, handled as one.
 */
export function refuseClusterNodes(client: RedisClient, timeoutMs: number, onCluster: () => void): void {
  client.on('ready', () => {
    void isClusterNode(client, timeoutMs).then((cluster) => {
      if (!cluster) return;
      onCluster();
      if (client.isOpen) client.destroy();
    });
  });
}
