import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { AdminStore } from '../../src/store/admin-store';
import { dialectOf } from '../../src/store/dialect';
import { DEPRECATED_KEYS_TABLE } from '../../src/store/migrations/1764115600000-deprecated-keys';
import { ensureTable } from '../../src/store/migrations/ddl';
import { DeprecatedVerificationTokenRecord } from '../../src/store/entities';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { isPromise } from '../../src/util/maybe-promise';
import { aPolicy, aRequest } from '../checks/fixtures';
import { LiteLlmRows } from '../support/litellm-rows';
import { describeEachBackend } from '../support/store-backends';

const HOUR = 3_600_000;
const POLICY = aCachePolicy({ maxEntries: 100 });

function withKey(value: string) {
  return aRequest({ credential: { kind: 'present', value, header: 'authorization' } });
}

let madeUp = 0;
function aMadeUpKey(): string {
  madeUp += 1;
  return `sk-made-up-${String(Date.now())}-${String(madeUp)}`;
}

describeEachBackend('key rotation: LiteLLM_DeprecatedVerificationToken', (backend) => {
  let store: TypeOrmAuthStore;
  let admin: AdminStore;
  let rows: LiteLlmRows;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    admin = new AdminStore(backend().dataSource, backend().settings);
    rows = new LiteLlmRows(backend().dataSource);
  });

  it('regenerates a key in place: a new hash and display name, every other column kept; the old hash has no key row', async () => {
    const team = await rows.aTeam();
    const created = await admin.createKey({ teamId: team.team_id, alias: `rot-${team.team_id}`, maxBudget: 10 });
    await admin.setSpend('key', created.token, 2.5);
    const regenerated = await admin.regenerateKey(created.token, null);
    expect(regenerated).to.not.equal(null);
    if (regenerated === null) return;
    expect(regenerated.key).to.match(/^sk-/);
    expect(regenerated.token).to.equal(hashKey(regenerated.key));
    expect(regenerated.previousToken).to.equal(created.token);
    expect(regenerated.virtualKey).to.include({ token: regenerated.token, key_name: `sk-...${regenerated.key.slice(-4)}`, team_id: team.team_id, spend: 2.5, max_budget: 10 });
    expect(regenerated.virtualKey.key_alias).to.equal(`rot-${team.team_id}`);
    expect(await store.findKey(created.token)).to.equal(null);
    expect(await store.findDeprecatedKey(created.token), 'no grace period: no deprecated row').to.equal(null);
  });

  it('with a grace period, writes the deprecated row LiteLLM writes and reads it back by the old hash in one statement', async () => {
    const created = await admin.createKey({});
    const revokeAt = new Date(Math.floor(Date.now() / 1000) * 1000 + HOUR);
    const regenerated = await admin.regenerateKey(created.token, revokeAt);
    if (regenerated === null) throw new Error('not regenerated');
    await store.findDeprecatedKey('0'.repeat(64)); // a store's first lookup asks whether the table exists
    const before = store.queryCounter.count;
    const found = await store.findDeprecatedKey(created.token);
    expect(store.queryCounter.count - before).to.equal(1);
    expect(found).to.deep.equal({ token: created.token, active_token_id: regenerated.token, revoke_at: revokeAt });
    expect(Object.isFrozen(found)).to.equal(true);
  });

  it('answers null for a hash with no row, another spelling of one, or an injection attempt', async () => {
    const created = await admin.createKey({});
    await admin.regenerateKey(created.token, new Date(Date.now() + HOUR));
    expect(await store.findDeprecatedKey('f'.repeat(64))).to.equal(null);
    expect(await store.findDeprecatedKey(created.token.toUpperCase())).to.equal(null);
    expect(await store.findDeprecatedKey(`${created.token} `)).to.equal(null);
    expect(await store.findDeprecatedKey(`' OR '1'='1`)).to.equal(null);
  });

  it('replaces the row of a hash rotated out again, as LiteLLM upserts it, and leaves earlier rows pointing where they did (one hop)', async () => {
    const created = await admin.createKey({});
    const first = await admin.regenerateKey(created.token, new Date(Date.now() + HOUR));
    if (first === null) throw new Error('not regenerated');
    const second = await admin.regenerateKey(first.token, new Date(Date.now() + 2 * HOUR));
    if (second === null) throw new Error('not regenerated');
    expect((await store.findDeprecatedKey(created.token))?.active_token_id).to.equal(first.token);
    expect((await store.findDeprecatedKey(first.token))?.active_token_id).to.equal(second.token);
    const count = await backend().dataSource.getRepository(DeprecatedVerificationTokenRecord).countBy({ token: first.token });
    expect(count).to.equal(1);
  });

  it('leaves the first of two concurrent rotations of one key whole: the second finds no key and writes nothing', async function () {
    // Row locks make the interleaving certain on MariaDB; SQLite runs one writer at a time.
    if (backend().name !== 'mariadb') this.skip();
    const created = await admin.createKey({});
    const first = backend().dataSource.createQueryRunner();
    await first.connect();
    try {
      await first.startTransaction();
      // Another rotation's move of the key row, not yet committed when the second one starts.
      await first.query('UPDATE `LiteLLM_VerificationToken` SET token = ? WHERE token = ?', ['c'.repeat(64), created.token]);
      await first.query('INSERT INTO `LiteLLM_DeprecatedVerificationToken` (id, token, active_token_id, revoke_at) VALUES (?, ?, ?, ?)', [
        `first-${created.token.slice(0, 8)}`,
        created.token,
        'c'.repeat(64),
        new Date(Date.now() + HOUR),
      ]);
      const second = admin.regenerateKey(created.token, new Date(Date.now() + 2 * HOUR));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await first.commitTransaction();
      expect(await second).to.equal(null);
    } finally {
      if (first.isTransactionActive) await first.rollbackTransaction();
      await first.release();
    }
    expect((await store.findDeprecatedKey(created.token))?.active_token_id, "the first rotation's grace period").to.equal('c'.repeat(64));
  });

  it('returns null for a key that does not exist, and writes nothing', async () => {
    const missing = 'e'.repeat(64);
    expect(await admin.regenerateKey(missing, new Date(Date.now() + HOUR))).to.equal(null);
    expect(await store.findDeprecatedKey(missing)).to.equal(null);
  });

  it('decides the old key as the new one through the caches, and a warm old key sends no statement', async () => {
    const team = await rows.aTeam();
    const created = await admin.createKey({ teamId: team.team_id });
    const regenerated = await admin.regenerateKey(created.token, new Date(Date.now() + HOUR));
    if (regenerated === null) throw new Error('not regenerated');
    const cached = new CachedAuthStore(new TypeOrmAuthStore(backend().dataSource, backend().settings), POLICY, NO_SHARED_CACHE);
    const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: 'sk-master-0000' });
    const cold = await subject.authorize(withKey(created.key));
    expect(cold.decision.kind).to.equal('allow');
    expect(cold.decision.identity).to.include({ keyHash: regenerated.token, teamId: team.team_id });
    const before = store.queryCounter.count;
    const warm = subject.decide(withKey(created.key));
    expect(isPromise(warm)).to.equal(false);
    expect(store.queryCounter.count - before).to.equal(0);
    expect((await subject.authorize(withKey(regenerated.key))).decision.identity.keyHash).to.equal(regenerated.token);
  });

  it('refuses the old key once revoke_at has passed', async () => {
    const created = await admin.createKey({});
    await admin.regenerateKey(created.token, new Date(Date.now() - 1));
    const cached = new CachedAuthStore(new TypeOrmAuthStore(backend().dataSource, backend().settings), POLICY, NO_SHARED_CACHE);
    const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: 'sk-master-0000' });
    const { decision } = await subject.authorize(withKey(created.key));
    expect(decision.kind).to.equal('deny');
    expect(decision.kind === 'deny' ? decision.denial.status : 0).to.equal(401);
  });

  /** A replica's store and authorizer on a clock the test moves. */
  function aReplica() {
    let clock = Date.now();
    const reader = new TypeOrmAuthStore(backend().dataSource, backend().settings);
    const cached = new CachedAuthStore(reader, POLICY, NO_SHARED_CACHE, undefined, () => clock);
    const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: 'sk-master-0000', now: () => new Date(clock) });
    return {
      reader,
      cached,
      subject,
      advance: (ms: number) => {
        clock += ms;
      },
    };
  }

  it('costs a made-up key one statement (its key lookup) while no rotation is live, and still resolves a key rotated since', async () => {
    await backend().dataSource.getRepository(DeprecatedVerificationTokenRecord).clear();
    const { reader, cached, subject, advance } = aReplica();
    await cached.rotations?.refresh();
    const before = reader.queryCounter.count;
    for (let i = 0; i < 5; i += 1) {
      const { decision } = await subject.authorize(withKey(aMadeUpKey()));
      expect(decision.kind === 'deny' ? decision.denial.status : 0).to.equal(401);
    }
    expect(reader.queryCounter.count - before, 'one key lookup each, no deprecated-key lookup').to.equal(5);

    // Rotated through the CLI: its invalidation of the old hash reaches this replica.
    const created = await admin.createKey({});
    const rotated = await admin.regenerateKey(created.token, new Date(Date.now() + HOUR));
    if (rotated === null) throw new Error('not regenerated');
    cached.dropLocal('key', created.token);
    cached.dropLocal('deprecated_key', created.token);
    const old = await subject.authorize(withKey(created.key));
    expect(old.decision.kind).to.equal('allow');
    expect(old.decision.identity.keyHash).to.equal(rotated.token);

    // Rotated behind Tollgate's back (no invalidation): seen once the interval has passed.
    await backend().dataSource.getRepository(DeprecatedVerificationTokenRecord).delete({ token: created.token });
    await cached.rotations?.refresh();
    const other = await admin.createKey({});
    const behindTheBack = await admin.regenerateKey(other.token, new Date(Date.now() + HOUR));
    if (behindTheBack === null) throw new Error('not regenerated');
    const early = await subject.authorize(withKey(other.key));
    expect(early.decision.kind, 'within the interval the guard still knows of no live rotation').to.equal('deny');
    advance(POLICY.refreshAfterMs);
    const seen = await subject.authorize(withKey(other.key));
    expect(seen.decision.kind).to.equal('allow');
    expect(seen.decision.identity.keyHash).to.equal(behindTheBack.token);
  });

  it('still costs a made-up key a deprecated-key lookup while a rotation is live', async () => {
    const created = await admin.createKey({});
    await admin.regenerateKey(created.token, new Date(Date.now() + HOUR));
    const { reader, cached, subject } = aReplica();
    await cached.rotations?.refresh();
    const before = reader.queryCounter.count;
    await subject.authorize(withKey(aMadeUpKey()));
    expect(reader.queryCounter.count - before).to.equal(2);
  });

  // Last: it drops the table.
  it('knows no rotations on a database without the table (an older LiteLLM schema), asking whether it exists once', async () => {
    const ds = backend().dataSource;
    await ds.query(ds.options.type === 'mysql' ? 'DROP TABLE `LiteLLM_DeprecatedVerificationToken`' : 'DROP TABLE "LiteLLM_DeprecatedVerificationToken"');
    const fresh = new TypeOrmAuthStore(ds, backend().settings);
    const before = fresh.queryCounter.count;
    expect(await fresh.findDeprecatedKey('a'.repeat(64))).to.equal(null);
    expect(await fresh.findDeprecatedKey('b'.repeat(64))).to.equal(null);
    expect(fresh.queryCounter.count - before, 'one probe, no lookup').to.equal(1);
    const cached = new CachedAuthStore(fresh, POLICY, NO_SHARED_CACHE);
    const subject = new Authorizer({ store: cached, policy: aPolicy(), masterKey: 'sk-master-0000' });
    const { decision, refusedBy } = await subject.authorize(withKey('sk-never-issued'));
    expect(decision.kind).to.equal('deny');
    expect(refusedBy).to.equal('key_found');
  });

  it('sees the table once it is created while the server runs (tollgate migrate, a LiteLLM upgrade), within a refresh interval', async () => {
    const { cached, subject, advance } = aReplica();
    await cached.rotations?.refresh();
    const ds = backend().dataSource;
    const runner = ds.createQueryRunner();
    try {
      await ensureTable(runner, dialectOf(ds), DEPRECATED_KEYS_TABLE);
    } finally {
      await runner.release();
    }
    const created = await admin.createKey({});
    await subject.authorize(withKey(created.key));
    const rotated = await admin.regenerateKey(created.token, new Date(Date.now() + HOUR));
    if (rotated === null) throw new Error('not regenerated');
    cached.dropLocal('key', created.token);
    advance(POLICY.refreshAfterMs);
    const { decision } = await subject.authorize(withKey(created.key));
    expect(decision.kind).to.equal('allow');
    expect(decision.identity.keyHash).to.equal(rotated.token);
  });
});
