import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { resolveKeyMapping } from '../../src/auth/jwt/key-mapping';
import { CachedAuthStore } from '../../src/cache/cached-auth-store';
import { aCachePolicy } from '../support/cache-policy';
import { NO_SHARED_CACHE } from '../../src/cache/shared-cache';
import { dialectOf } from '../../src/store/dialect';
import { JwtKeyMappingRecord } from '../../src/store/entities';
import { ensureTable } from '../../src/store/migrations/ddl';
import { JWT_KEY_MAPPING_TABLE } from '../../src/store/migrations/1764115800000-jwt-key-mapping';
import { TypeOrmAuthStore } from '../../src/store/typeorm-auth-store';
import { AdminInputError, AdminStore } from '../../src/store/admin-store';
import { isPromise } from '../../src/util/maybe-promise';
import { describeEachBackend } from '../support/store-backends';

const POLICY = aCachePolicy({ maxEntries: 100 });

describeEachBackend('JWT → virtual-key mapping: LiteLLM_JWTKeyMapping', (backend) => {
  let store: TypeOrmAuthStore;
  let run = 0;

  before(() => {
    store = new TypeOrmAuthStore(backend().dataSource, backend().settings);
  });

  /** A mapping row as LiteLLM's /jwt/key/mapping/new writes it; claim values unique per test. */
  async function aMapping(row: Partial<JwtKeyMappingRecord> = {}): Promise<JwtKeyMappingRecord> {
    run += 1;
    return backend()
      .dataSource.getRepository(JwtKeyMappingRecord)
      .save({
        id: randomUUID(),
        jwt_claim_name: 'email',
        jwt_claim_value: `user-${String(run)}-${String(Date.now())}@example.com`,
        token: `${String(run).padStart(4, '0')}${'e'.repeat(60)}`,
        description: null,
        is_active: true,
        created_by: 'test',
        updated_by: 'test',
        ...row,
      });
  }

  it('finds the key hash an active row maps a claim to, in one statement once the table is known', async () => {
    const mapping = await aMapping();
    await store.findJwtKeyMapping('email', 'nobody'); // a store's first lookup asks whether the table exists
    const before = store.queryCounter.count;
    expect(await store.findJwtKeyMapping('email', mapping.jwt_claim_value)).to.equal(mapping.token);
    expect(store.queryCounter.count - before).to.equal(1);
  });

  it('finds nothing for an inactive row, another claim name, another spelling of the value, or an injection attempt', async () => {
    const inactive = await aMapping({ is_active: false });
    expect(await store.findJwtKeyMapping('email', inactive.jwt_claim_value)).to.equal(null);
    const mapping = await aMapping({ jwt_claim_value: `Case-${String(Date.now())}@Example.com` });
    expect(await store.findJwtKeyMapping('sub', mapping.jwt_claim_value)).to.equal(null);
    expect(await store.findJwtKeyMapping('email', mapping.jwt_claim_value.toLowerCase()), 'compared as Postgres compares').to.equal(null);
    expect(await store.findJwtKeyMapping('email', `${mapping.jwt_claim_value} `)).to.equal(null);
    expect(await store.findJwtKeyMapping('email', "' OR '1'='1")).to.equal(null);
    expect(await store.findJwtKeyMapping("email' OR '1'='1", mapping.jwt_claim_value)).to.equal(null);
  });

  it('refuses a second row for the same claim name and value (LiteLLM @@unique)', async () => {
    const mapping = await aMapping();
    let failed = false;
    try {
      await aMapping({ jwt_claim_value: mapping.jwt_claim_value });
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
  });

  it('a warm claim costs no statement through the cache, mapped or not', async () => {
    const mapping = await aMapping();
    const settings = { claimField: 'email', unregistered: 'fallback_team_mapping', cacheTtlMs: 300_000 } as const;
    const cached = new CachedAuthStore(store, POLICY, NO_SHARED_CACHE);
    expect(await resolveKeyMapping(settings, cached, { email: mapping.jwt_claim_value })).to.deep.equal({ kind: 'mapped', keyHash: mapping.token });
    expect(await resolveKeyMapping(settings, cached, { email: 'stranger@example.com' })).to.deep.equal({ kind: 'unmapped' });
    const before = store.queryCounter.count;
    const warm = resolveKeyMapping(settings, cached, { email: mapping.jwt_claim_value });
    const warmMiss = resolveKeyMapping(settings, cached, { email: 'stranger@example.com' });
    expect(isPromise(warm) || isPromise(warmMiss)).to.equal(false);
    expect(warm).to.deep.equal({ kind: 'mapped', keyHash: mapping.token });
    expect(store.queryCounter.count - before).to.equal(0);
  });

  it('AdminStore (tollgate jwt-mapping): writes an active row the lookup finds, refusing an unknown key or a pair already mapped, and deletes only the pair named exactly', async () => {
    const admin = new AdminStore(backend().dataSource, backend().settings);
    const key = await admin.createKey({});
    const value = `cli-${String(Date.now())}@example.com`;
    const created = await admin.createJwtKeyMapping({ claimName: 'email', claimValue: value, token: key.token, description: 'ci bot' });
    expect(created).to.include({ jwt_claim_name: 'email', jwt_claim_value: value, key_hash: key.token, description: 'ci bot', is_active: true });
    expect(await store.findJwtKeyMapping('email', value)).to.equal(key.token);
    const refusal = async (work: Promise<unknown>): Promise<string> => {
      try {
        await work;
      } catch (error) {
        expect(error).to.be.instanceOf(AdminInputError);
        return (error as Error).message;
      }
      throw new Error('expected an AdminInputError');
    };
    expect(await refusal(admin.createJwtKeyMapping({ claimName: 'email', claimValue: value, token: key.token }))).to.equal(`a mapping for email=${value} already exists`);
    expect(await refusal(admin.createJwtKeyMapping({ claimName: 'email', claimValue: `other-${value}`, token: 'f'.repeat(64) }))).to.equal('key does not exist');
    expect(await refusal(admin.createJwtKeyMapping({ claimName: ' ', claimValue: value, token: key.token }))).to.equal('claim name must not be empty');
    expect(await admin.deleteJwtKeyMapping('email', value.toUpperCase())).to.equal(false);
    expect(await admin.deleteJwtKeyMapping('email', value)).to.equal(true);
    expect(await store.findJwtKeyMapping('email', value)).to.equal(null);
  });

  it("AdminStore: a key's mappings follow it as LiteLLM's foreign key does (ON UPDATE / ON DELETE CASCADE): moved to the new hash by key regenerate, deleted with the key", async () => {
    const admin = new AdminStore(backend().dataSource, backend().settings);
    const key = await admin.createKey({});
    const other = await admin.createKey({});
    const value = `follow-${String(Date.now())}`;
    await admin.createJwtKeyMapping({ claimName: 'azp', claimValue: value, token: key.token });
    await admin.createJwtKeyMapping({ claimName: 'azp', claimValue: `other-${value}`, token: other.token });
    expect(await admin.jwtKeyMappingsOf(key.token)).to.deep.equal([['azp', value]]);

    const regenerated = await admin.regenerateKey(key.token, null);
    expect(regenerated).to.not.equal(null);
    expect(await store.findJwtKeyMapping('azp', value), 'the mapping names the key by its new hash').to.equal(regenerated?.token);
    expect(await admin.jwtKeyMappingsOf(key.token)).to.deep.equal([]);

    expect(await admin.deleteKey(regenerated?.token ?? '')).to.equal(true);
    expect(await store.findJwtKeyMapping('azp', value), 'deleted with its key: the client is unregistered again').to.equal(null);
    expect(await store.findJwtKeyMapping('azp', `other-${value}`), "another key's mapping stays").to.equal(other.token);
  });

  // Last: it drops the table.
  it('knows no mapping on a database without the table (an older LiteLLM schema): reject refuses, the team path takes the rest', async () => {
    const ds = backend().dataSource;
    const mapping = await aMapping();
    await ds.query(ds.options.type === 'mysql' ? 'DROP TABLE `LiteLLM_JWTKeyMapping`' : 'DROP TABLE "LiteLLM_JWTKeyMapping"');
    let now = Date.now();
    const fresh = new TypeOrmAuthStore(ds, backend().settings, () => new Date(now));
    const before = fresh.queryCounter.count;
    expect(await fresh.findJwtKeyMapping('email', mapping.jwt_claim_value)).to.equal(null);
    expect(await fresh.findJwtKeyMapping('email', 'other@example.com')).to.equal(null);
    expect(fresh.queryCounter.count - before, 'one probe, no lookup').to.equal(1);
    const reject = { claimField: 'email', unregistered: 'reject', cacheTtlMs: 300_000 } as const;
    expect(await resolveKeyMapping(reject, fresh, { email: mapping.jwt_claim_value })).to.deep.include({ kind: 'refused' });
    // tollgate jwt-mapping on such a database says what to do, not the driver's "no such table".
    const admin = new AdminStore(ds, backend().settings);
    for (const write of [admin.createJwtKeyMapping({ claimName: 'email', claimValue: 'x@example.com', token: mapping.token }), admin.deleteJwtKeyMapping('email', 'x@example.com')]) {
      const refusal = await write.then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).to.be.instanceOf(AdminInputError);
      expect((refusal as Error).message).to.match(/no LiteLLM_JWTKeyMapping table yet: run `tollgate migrate` first/);
    }

    // Created while the server runs (tollgate migrate): seen once the missing table is asked about again.
    const runner = ds.createQueryRunner();
    try {
      await ensureTable(runner, dialectOf(ds), JWT_KEY_MAPPING_TABLE);
    } finally {
      await runner.release();
    }
    await ds.getRepository(JwtKeyMappingRecord).save({ ...mapping });
    expect(await fresh.findJwtKeyMapping('email', mapping.jwt_claim_value), 'not asked again yet').to.equal(null);
    now += 31_000;
    expect(await fresh.findJwtKeyMapping('email', mapping.jwt_claim_value)).to.equal(mapping.token);
  });
});
