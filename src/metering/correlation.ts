/**
 * Check and ext_proc are separate gRPC calls for the same HTTP request; this short-lived map
 * joins them by Envoy's x-request-id on the replica that answered the Check. (Another replica
 * reads the same identity from the ext_authz dynamic metadata Envoy forwards: metadata.ts.)
 * Entries are taken once, expire after `ttlMs` and are bounded in number, oldest out first.
 */
import type { Attribution } from '../spend/spend-event';

export interface Admitted {
  readonly attribution: Attribution;
  /** When Check allowed the request (epoch ms): the SpendLogs startTime. */
  readonly admittedAt: number;
}

export class Correlations {
  private readonly entries = new Map<string, Admitted>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  remember(requestId: string, admitted: Admitted): void {
    if (requestId === '') return;
    this.entries.delete(requestId);
    this.entries.set(requestId, admitted);
    this.evict();
  }

  take(requestId: string): Admitted | null {
    const found = this.entries.get(requestId);
    if (found === undefined) return null;
    this.entries.delete(requestId);
    return this.now() - found.admittedAt <= this.ttlMs ? found : null;
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, admitted] of this.entries) {
      if (admitted.admittedAt >= oldest && this.entries.size <= this.maxEntries) break;
      this.entries.delete(id);
    }
  }
}
