/**
 * The snapshot last assembled from process memory for each warm key, reused for the next request
 * of that key while it would assemble the same one: every cached entry it was read from is still
 * the fresh one its cache holds (store/memory-receipt.ts), and the request asks the same of it
 * (end user, tags, whether it names vector stores). Entries are immutable, so a reuse is exactly
 * what reading them again would give, without a dozen cache reads and a new snapshot per Check.
 *
 * Remembered per key object: a refreshed, invalidated or evicted key is a new object (or none),
 * and what was remembered for the old one is collected with it.
 */
import type { Snapshot } from '../checks/types';
import { requestedVectorStoreIds } from '../checks/vector-store-ids';
import type { Policy } from '../config/policy';
import type { VirtualKey } from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import type { MemoryReceipt } from '../store/memory-receipt';
import { tagsFromBody } from './request-tags';

/** What of a request the snapshot depends on, besides its key. */
interface Asked {
  readonly endUserId: string | null;
  readonly tagNames: readonly string[];
  readonly namesVectorStores: boolean;
}

interface Remembered extends Asked {
  readonly policy: Policy;
  readonly snapshot: Snapshot;
  readonly receipt: MemoryReceipt;
}

export class SnapshotMemo {
  private readonly byKey = new WeakMap<VirtualKey, Remembered>();

  /** The remembered snapshot when it still holds for this request; counts the cache hits it stands for. */
  find(key: VirtualKey, facts: RequestFacts, policy: Policy): Snapshot | undefined {
    const remembered = this.byKey.get(key);
    if (remembered === undefined || remembered.policy !== policy || !asksTheSame(remembered, facts)) return undefined;
    if (!remembered.receipt.holds()) {
      this.byKey.delete(key);
      return undefined;
    }
    remembered.receipt.countHits();
    return remembered.snapshot;
  }

  /** `receipt`: every read the snapshot was assembled from (and the key's own, which is read anew each time). */
  remember(key: VirtualKey, facts: RequestFacts, policy: Policy, snapshot: Snapshot, receipt: MemoryReceipt): void {
    if (!receipt.holds()) return;
    this.byKey.set(key, { ...asked(facts), policy, snapshot, receipt });
  }
}

function asked(facts: RequestFacts): Asked {
  return {
    endUserId: facts.endUserId,
    tagNames: tagsFromBody(facts.body),
    namesVectorStores: requestedVectorStoreIds(facts.body).length > 0,
  };
}

function asksTheSame(remembered: Asked, facts: RequestFacts): boolean {
  if (remembered.endUserId !== facts.endUserId) return false;
  const now = asked(facts);
  return now.namesVectorStores === remembered.namesVectorStores && sameNames(now.tagNames, remembered.tagNames);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
