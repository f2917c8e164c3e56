/**
 * Which cached entries a value assembled from process memory was read from, so that value can be
 * reused for as long as every one of them would still be answered from memory as fresh: none
 * replaced, dropped or evicted, none due for revalidation. Reusing it then gives exactly what
 * reading the entries again would have given, since entries are immutable.
 */

/** The one mutable bit of a cache entry: set when its cache lets go of it (replaced, dropped, evicted). */
export interface Supersedable {
  readonly superseded: boolean;
}

/** Where an entry came from: counts the memory hit a reuse stands for, as a read would have. */
export interface MemorySource {
  countMemoryHit(): void;
}

export class MemoryReceipt {
  private readonly entries: Supersedable[] = [];
  private readonly sources: MemorySource[] = [];
  private freshUntil = Number.POSITIVE_INFINITY;

  /** `now`: the clock of the caches whose entries are recorded. */
  constructor(private readonly now: () => number) {}

  /** An entry answered fresh from memory, fresh until `freshUntil` (ms, the cache's clock). */
  record(source: MemorySource, entry: Supersedable, freshUntil: number): void {
    this.entries.push(entry);
    this.sources.push(source);
    if (freshUntil < this.freshUntil) this.freshUntil = freshUntil;
  }

  /** A read that memory could not answer as fresh (stale, or missing): nothing built on it may be reused. */
  spoil(): void {
    this.freshUntil = Number.NEGATIVE_INFINITY;
  }

  /** Whether every recorded entry is still the fresh one its cache holds. */
  holds(): boolean {
    if (this.freshUntil === Number.NEGATIVE_INFINITY || this.now() >= this.freshUntil) return false;
    for (const entry of this.entries) if (entry.superseded) return false;
    return true;
  }

  /** Counts, for a reuse, the memory hits the reads it replaces would have counted. */
  countHits(): void {
    for (const source of this.sources) source.countMemoryHit();
  }
}
