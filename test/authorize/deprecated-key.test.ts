import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import { CachedAuthStore, ENTITY_KINDS, type CachePolicy } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import { NO_SHARED_CACHE, type SharedCache } from '../../src/cache/shared-cache';
import type { CheckContext } from '../../src/checks/types';
import type { DeprecatedKey } from '../../src/domain/deprecated-key';
import type { RequestFacts } from '../../src/domain/request';
import type { Admitter } from '../../src/spend/admission';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { isPromise } from '../../src/util/maybe-promise';
import { aKey, aPolicy, aRequest, aTeam, NOW } from '../checks/fixtures';
import { MapSharedCache } from '../support/map-shared-cache';
import { MemoryStore } from '../support/memory-store';

const MASTER = 'sk-master-0000';
const OLD_RAW = 'sk-old-key-1111';
const NEW_RAW = 'sk-new-key-2222';
const NEWER_RAW = 'sk-newer-key-3333';
const OLD = hashKey(OLD_RAW);
const NEW = hashKey(NEW_RAW);
const NEWER = hashKey(NEWER_RAW);
const MINUTE = 60_000;

const POLICY = aCachePolicy({ maxEntries: 100 });

/** MemoryStore with LiteLLM_DeprecatedVerificationToken rows. */
class RotatingStore extends MemoryStore {
  readonly deprecated = new Map<string, DeprecatedKey>();

  findDeprecatedKey(hash: string): Promise<DeprecatedKey | null> {
    this.calls.push(`findDeprecatedKey:${hash}`);
    return Promise.resolve(this.deprecated.get(hash) ?? null);
  }

  rotate(from: string, to: string, revokeAt: Date): void {
    this.deprecated.set(from, Object.freeze({ token: from, active_token_id: to, revoke_at: revokeAt }));
  }
}

/** A RotatingStore that can also say when the last grace period ends (cache/live-rotations.ts). */
class ProbedRotatingStore extends RotatingStore {
  latestRevokeAt(): Promise<Date | null> {
    this.calls.push('latestRevokeAt');
    const ends = [...this.deprecated.values()].map((row) => row.revoke_at.getTime());
    return Promise.resolve(ends.length === 0 ? null : new Date(Math.max(...ends)));
  }
}

function withKey(value: string): RequestFacts {
  return aRequest({ credential: { kind: 'present', value, header: 'authorization' } });
}

/** Records what admission (rate limits, budget reservation) is asked to charge. */
class RecordingAdmitter implements Admitter {
  readonly seen: Array<{ keyHash: string | null; token: string | undefined }> = [];
  admit(ctx: CheckContext): { kind: 'admit'; metadata: Record<string, never> } {
    this.seen.push({ keyHash: ctx.keyHash, token: ctx.snapshot.key?.token });
    return { kind: 'admit', metadata: {} };
  }
}

/** A key rotated from OLD to NEW with a grace period ending in an hour, decided through the caches. */
function aRotatedKey(shared: SharedCache = NO_SHARED_CACHE) {
  const store = new RotatingStore();
  store.keys.set(NEW, aKey({ token: NEW, key_alias: 'laptop', team_id: 't1' }));
  store.teams.set('t1', aTeam({ team_id: 't1' }));
  store.rotate(OLD, NEW, new Date(NOW.getTime() + 60 * MINUTE));
  let clock = NOW.getTime();
  const cached = new CachedAuthStore(store, POLICY, shared, undefined, () => clock);
  const admission = new RecordingAdmitter();
  const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: MASTER, now: () => new Date(clock), admission });
  return {
    store,
    cached,
    subject,
    admission,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('Authorizer: a rotated-out key during its grace period (LiteLLM_DeprecatedVerificationToken)', () => {
  it('names the kind for invalidation messages', () => {
    expect(ENTITY_KINDS).to.include('deprecated_key');
  });

  it('allows the old key as the active key: identity, spend and rate limits name the active hash', async () => {
    const { subject, admission } = aRotatedKey();
    const { decision, refusedBy } = await subject.authorize(withKey(OLD_RAW));
    expect(refusedBy).to.equal(null);
    expect(decision.kind).to.equal('allow');
    expect(decision.identity.keyHash).to.equal(NEW);
    expect(decision.identity.keyAlias).to.equal('laptop');
    expect(decision.identity.teamId).to.equal('t1');
    expect(admission.seen).to.deep.equal([{ keyHash: NEW, token: NEW }]);
  });

  it('decides a warm old key from memory: synchronously, with no store call', async () => {
    const { subject, store } = aRotatedKey();
    await subject.authorize(withKey(OLD_RAW));
    const callsAfterFirst = store.calls.length;
    const warm = subject.decide(withKey(OLD_RAW));
    expect(isPromise(warm), 'decided without waiting').to.equal(false);
    expect(isPromise(warm) ? null : warm.decision.kind).to.equal('allow');
    expect(store.calls.length).to.equal(callsAfterFirst);
  });

  it('refuses the old key (401) once revoke_at has passed, though its mapping is still cached', async () => {
    const { subject, advance, store } = aRotatedKey();
    await subject.authorize(withKey(OLD_RAW));
    advance(60 * MINUTE - 1);
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('allow');
    advance(1);
    const callsBefore = store.calls.filter((c) => c.startsWith('findDeprecatedKey')).length;
    const { decision, refusedBy } = await subject.authorize(withKey(OLD_RAW));
    expect(decision.kind).to.equal('deny');
    expect(decision.kind === 'deny' ? decision.denial.status : 0).to.equal(401);
    expect(refusedBy).to.not.equal(null);
    expect(decision.identity.keyHash, 'an unknown key is named by its own hash').to.equal(OLD);
    expect(store.calls.filter((c) => c.startsWith('findDeprecatedKey')).length, 'judged on the cached row').to.equal(callsBefore);
  });

  it('refuses the old key at once when the active key is blocked (the key cache is invalidated)', async () => {
    const { subject, store, cached } = aRotatedKey();
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('allow');
    store.keys.set(NEW, aKey({ token: NEW, key_alias: 'laptop', team_id: 't1', blocked: true }));
    await cached.invalidate('key', NEW);
    const { decision } = await subject.authorize(withKey(OLD_RAW));
    expect(decision.kind).to.equal('deny');
    expect(decision.kind === 'deny' ? decision.denial.status : 0).to.equal(401);
  });

  it('refuses the old key at once when the active key is deleted', async () => {
    const { subject, store, cached } = aRotatedKey();
    await subject.authorize(withKey(OLD_RAW));
    store.keys.delete(NEW);
    await cached.invalidate('key', NEW);
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('deny');
  });

  it('follows one hop only: a key rotated twice is refused by its first value (check_deprecated=False)', async () => {
    const { subject, store } = aRotatedKey();
    store.keys.delete(NEW);
    store.keys.set(NEWER, aKey({ token: NEWER, team_id: 't1' }));
    store.rotate(NEW, NEWER, new Date(NOW.getTime() + 60 * MINUTE));
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('deny');
    const middle = await subject.authorize(withKey(NEW_RAW));
    expect(middle.decision.kind).to.equal('allow');
    expect(middle.decision.identity.keyHash).to.equal(NEWER);
  });

  it('uses the key row when the hash has one, without asking the deprecated table', async () => {
    const { subject, store } = aRotatedKey();
    store.keys.set(OLD, aKey({ token: OLD, key_alias: 'own-row' }));
    const { decision } = await subject.authorize(withKey(OLD_RAW));
    expect(decision.identity.keyHash).to.equal(OLD);
    expect(decision.identity.keyAlias).to.equal('own-row');
    expect(store.calls.filter((c) => c.startsWith('findDeprecatedKey'))).to.deep.equal([]);
  });

  it('costs an unknown key one extra lookup, then nothing until its "not found" expires', async () => {
    const { subject, store } = aRotatedKey();
    const stranger = 'sk-never-issued';
    const first = await subject.authorize(withKey(stranger));
    expect(first.decision.kind).to.equal('deny');
    expect(store.calls).to.deep.equal([`findKey:${hashKey(stranger)}`, `findDeprecatedKey:${hashKey(stranger)}`]);
    const again = subject.decide(withKey(stranger));
    expect(isPromise(again)).to.equal(false);
    expect(store.calls).to.have.length(2);
  });

  describe('when the rotated-key lookup fails (the key lookup answered: no such key)', () => {
    class FailingRotationsStore extends RotatingStore {
      override findDeprecatedKey(hash: string): Promise<DeprecatedKey | null> {
        this.calls.push(`findDeprecatedKey:${hash}`);
        return Promise.reject(new StoreUnavailableError('connection lost'));
      }
    }

    function decidedWith(allowRequestsOnDbUnavailable: boolean) {
      const store = new FailingRotationsStore();
      const cached = new CachedAuthStore(store, POLICY, NO_SHARED_CACHE, undefined, () => NOW.getTime());
      const subject = new Authorizer({ store: cached, policy: aPolicy({ allowRequestsOnDbUnavailable }), masterKey: MASTER, now: () => NOW });
      return subject.authorize(withKey('sk-never-issued'));
    }

    it('cannot decide (UNAVAILABLE, so Envoy\'s failure mode applies), as for any store outage', async () => {
      let failure: unknown = null;
      await decidedWith(false).catch((error: unknown) => {
        failure = error;
      });
      expect(failure).to.be.instanceOf(StoreUnavailableError);
    });

    it('refuses the key as unknown (401) with allow_requests_on_db_unavailable, as LiteLLM does: an outage there would otherwise allow a key nobody issued', async () => {
      const { decision } = await decidedWith(true);
      expect(decision.kind).to.equal('deny');
      expect(decision.kind === 'deny' ? decision.denial.status : 0).to.equal(401);
    });
  });

  it('sees a new rotation once the deprecated kind is invalidated for the old hash', async () => {
    const { subject, store, cached } = aRotatedKey();
    store.deprecated.clear();
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('deny');
    store.rotate(OLD, NEW, new Date(NOW.getTime() + MINUTE));
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind, 'the "not found" is still cached').to.equal('deny');
    await cached.invalidate('deprecated_key', OLD);
    expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('allow');
  });

  it('shares the mapping through the shared tier: another replica reads it without the database', async () => {
    const shared = new MapSharedCache();
    const first = aRotatedKey(shared);
    await first.subject.authorize(withKey(OLD_RAW));
    expect([...shared.entries.keys()]).to.include(`t:deprecated_key:${OLD}`);
    const second = aRotatedKey(shared);
    const { decision } = await second.subject.authorize(withKey(OLD_RAW));
    expect(decision.identity.keyHash).to.equal(NEW);
    expect(second.store.calls.filter((c) => c.startsWith('findDeprecatedKey'))).to.deep.equal([]);
  });

  describe('while no rotated-out key can be in its grace period', () => {
    function aReplica() {
      const store = new ProbedRotatingStore();
      store.keys.set(NEW, aKey({ token: NEW, team_id: 't1' }));
      store.teams.set('t1', aTeam({ team_id: 't1' }));
      let clock = NOW.getTime();
      const cached = new CachedAuthStore(store, POLICY, NO_SHARED_CACHE, undefined, () => clock);
      const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: MASTER, now: () => new Date(clock) });
      const lookups = () => store.calls.filter((c) => c.startsWith('findDeprecatedKey'));
      return {
        store,
        cached,
        subject,
        lookups,
        advance: (ms: number) => {
          clock += ms;
        },
      };
    }

    it('refuses an unknown key without looking it up among rotated-out keys', async () => {
      const { cached, subject, lookups, store } = aReplica();
      store.rotate(OLD, NEW, new Date(NOW.getTime() - 1));
      await cached.rotations?.refresh();
      for (const stranger of ['sk-stranger-1', 'sk-stranger-2', OLD_RAW]) {
        expect((await subject.authorize(withKey(stranger))).decision.kind).to.equal('deny');
      }
      expect(lookups()).to.deep.equal([]);
      expect(store.calls.filter((c) => c === 'latestRevokeAt')).to.have.length(1);
    });

    it('looks the old key up at once when a rotation is announced (the deprecated_key invalidation)', async () => {
      const { cached, subject, store } = aReplica();
      await cached.rotations?.refresh();
      expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('deny');
      store.rotate(OLD, NEW, new Date(NOW.getTime() + MINUTE));
      cached.dropLocal('deprecated_key', OLD);
      const { decision } = await subject.authorize(withKey(OLD_RAW));
      expect(decision.kind).to.equal('allow');
      expect(decision.identity.keyHash).to.equal(NEW);
    });

    it('looks the old key up once everything is cleared (a generation gap may have hidden that announcement)', async () => {
      const { cached, subject, store } = aReplica();
      await cached.rotations?.refresh();
      store.rotate(OLD, NEW, new Date(NOW.getTime() + MINUTE));
      cached.clearLocal();
      expect((await subject.authorize(withKey(OLD_RAW))).decision.kind).to.equal('allow');
    });

    it('asks nothing more with caching off (a TTL of 0): each unknown key is looked up as without the guard', async () => {
      const store = new ProbedRotatingStore();
      const uncached: CachePolicy = { ...POLICY, ttlMs: 0, refreshAfterMs: 0, negativeTtlMs: 0 };
      const subject = new Authorizer({ store: new CachedAuthStore(store, uncached, NO_SHARED_CACHE), policy: aPolicy(), masterKey: MASTER });
      for (const stranger of ['sk-stranger-1', 'sk-stranger-2', 'sk-stranger-3']) await subject.authorize(withKey(stranger));
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.calls.filter((c) => c === 'latestRevokeAt')).to.deep.equal([]);
      expect(store.calls.filter((c) => c.startsWith('findDeprecatedKey'))).to.have.length(3);
    });

    it('decides a warm old key with no store call while its grace period runs, the guard included', async () => {
      const { cached, subject, store, advance } = aReplica();
      store.rotate(OLD, NEW, new Date(NOW.getTime() + 60 * MINUTE));
      await cached.rotations?.refresh();
      await subject.authorize(withKey(OLD_RAW));
      advance(POLICY.refreshAfterMs - 1);
      const calls = store.calls.length;
      const warm = subject.decide(withKey(OLD_RAW));
      expect(isPromise(warm)).to.equal(false);
      expect(store.calls.length).to.equal(calls);
    });
  });
});
