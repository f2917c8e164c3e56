/**
 * Check and ext_proc are separate gRPC calls for the same HTTP request; this short-lived map
 * joins them on the replica that answered the Check. (Another replica reads the same identity
 * from the ext_authz dynamic metadata Envoy forwards: admitted-identity.ts.)
 *
 * A metered allow is joined by its admission id, which the ext_proc stream carries in that
 * forwarded metadata: one per Check, so two requests never share an entry. Envoy's x-request-id
 * is only the fallback for a stream without it (Envoy set up without forwarding the metadata, or
 * an allow that was not admitted): a client may repeat it, so it finds the latest Check under it,
 * and never an admitted Check for a stream whose forwarded metadata names no admission.
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
  /**
   * Every entry remembered, oldest first (taken ones too, skipped when their turn comes): expiry
   * then costs O(1) per entry. Walking the Map from its start instead crossed every slot deleted
   * since its last rehash, tens of microseconds per Check once the map sat at its bound (streams
   * that never come to this replica).
   */
  private queue: Array<{ readonly key: string; readonly entry: Entry }> = [];
  private head = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  remember(requestId: string, admitted: Admitted): void {
    const key = admitted.admissionId !== null ? `a${admitted.admissionId}` : requestId !== '' ? `r${requestId}` : null;
    if (key === null) return;
    const entry: Entry = { ...admitted, requestId };
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.queue.push({ key, entry });
    if (requestId !== '') this.latestByRequestId.set(requestId, key);
    this.evict();
  }

  /**
   * The Check named by `admissionId` when the stream carries one. Else, when Envoy forwarded the
   * Check's metadata without one, the allow under `requestId` that was not admitted either (an
   * admitted one would have named itself); when it forwarded none, the latest under `requestId`.
   */
  take(admissionId: string | null, requestId: string, forwarded = false): Admitted | null {
    const key = admissionId !== null ? `a${admissionId}` : forwarded ? `r${requestId}` : this.latestByRequestId.get(requestId);
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
    while (this.head < this.queue.length) {
      const { key, entry } = this.queue[this.head];
      const live = this.entries.get(key) === entry;
      if (live && entry.admittedAt >= oldest && this.entries.size <= this.maxEntries) break;
      if (live) this.forget(key, entry);
      this.head += 1;
    }
    // Taken entries wait in the queue for their turn: compacted once they are most of it.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queue.length - this.head > 2 * this.maxEntries + 1024) {
      this.queue = this.queue.slice(this.head).filter(({ key, entry }) => this.entries.get(key) === entry);
      this.head = 0;
    }
  }
}
