/**
 * Check and ext_proc are separate gRPC calls for the same HTTP request; this short-lived map
 * joins them on the replica that answered the Check. (Another replica reads the same identity
 * from the ext_authz dynamic metadata Envoy forwards: admitted-identity.ts.)
 *
 * A metered allow is joined by its admission id, which the ext_proc stream carries in that
 * forwarded metadata: one per Check, so two requests never share an entry. Envoy's x-request-id
 * is only the fallback for a stream without it (Envoy set up without forwarding the metadata, or
 * an allow that was not admitted): a client may repeat it, so it finds the latest Check under it.
 * Entries are taken once, expire after `ttlMs` and are bounded in number, oldest out first.
 */
import type { Attribution } from '../spend/spend-event';

export interface Admitted {
  readonly attribution: Attribution;
  /** When Check allowed the request (epoch ms): the SpendLogs startTime. */
  readonly admittedAt: number;
  /** The id the Check's reservation was taken under (spend/admission.ts), null when not admitted. */
  readonly admissionId: string | null;
}

interface Entry extends Admitted {
  readonly requestId: string;
}

export class Correlations {
  /** By 'a' + admission id, or 'r' + x-request-id for an allow without one: the two never collide. */
  private readonly entries = new Map<string, Entry>();
  /** x-request-id → the key of the latest entry remembered under it. */
  private readonly latestByRequestId = new Map<string, string>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  remember(requestId: string, admitted: Admitted): void {
    const key = admitted.admissionId !== null ? `a${admitted.admissionId}` : requestId !== '' ? `r${requestId}` : null;
    if (key === null) return;
    this.entries.delete(key);
    this.entries.set(key, { ...admitted, requestId });
    if (requestId !== '') this.latestByRequestId.set(requestId, key);
    this.evict();
  }

  /** The Check named by `admissionId` when the stream carries one, else the latest under `requestId`. */
  take(admissionId: string | null, requestId: string): Admitted | null {
    const key = admissionId !== null ? `a${admissionId}` : this.latestByRequestId.get(requestId);
    if (key === undefined) return null;
    const found = this.entries.get(key);
    if (found === undefined) return null;
    this.forget(key, found);
    return this.now() - found.admittedAt <= this.ttlMs ? found : null;
  }

  get size(): number {
    return this.entries.size;
  }

  private forget(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (this.latestByRequestId.get(entry.requestId) === key) this.latestByRequestId.delete(entry.requestId);
  }

  private evict(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [key, entry] of this.entries) {
      if (entry.admittedAt >= oldest && this.entries.size <= this.maxEntries) break;
      this.forget(key, entry);
    }
  }
}
