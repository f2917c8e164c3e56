import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../../src/config/litellm-config';
import { settingsFrom } from '../../../src/config/settings';
import { mappedClaimValue, resolveKeyMapping } from '../../../src/auth/jwt/key-mapping';
import type { VirtualKeyMappingSettings } from '../../../src/auth/jwt/settings';
import type { Claims } from '../../../src/auth/jwt/claims';
import { markWrittenFloats } from '../../../src/auth/jwt/written-floats';
import type { JsonObject } from '../../../src/domain/entities';
import { MemoryStore } from '../../support/memory-store';
import { MapSharedCache } from '../../support/map-shared-cache';
import { CachedAuthStore, jwtKeyMappingId } from '../../../src/cache/cached-auth-store';
import { aCachePolicy } from '../../support/cache-policy';
import { isPromise } from '../../../src/util/maybe-promise';

const POLICY = aCachePolicy({ maxStaleOnErrorMs: 60_000 });
const URL_ENV = { JWT_PUBLIC_KEY_URL: 'https://idp.example/certs' };
const mappingOf = (lines: string) =>
  settingsFrom(parseLiteLlmConfig(`general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n${lines}`, URL_ENV), URL_ENV).jwt.virtualKeyMapping;

/** A store knowing some (claim name, claim value) → key hash rows, counting lookups. */
class MappingStore extends MemoryStore {
  readonly mappings = new Map<string, string>();
  findJwtKeyMapping(claimName: string, claimValue: string): Promise<string | null> {
    this.calls.push(`findJwtKeyMapping:${claimName}:${claimValue}`);
    return Promise.resolve(this.mappings.get(`${claimName}=${claimValue}`) ?? null);
  }
}

describe('JWT → virtual-key mapping (litellm_jwtauth.virtual_key_claim_field, litellm-auth.md §3.4)', () => {
  describe('settings', () => {
    it('is off without virtual_key_claim_field', () => {
      expect(mappingOf('    team_id_jwt_field: tid\n')).to.equal(null);
      expect(mappingOf('    unregistered_jwt_client_behavior: reject\n'), 'a behaviour alone maps nothing').to.equal(null);
    });

    it("uses LiteLLM's defaults: unmapped tokens fall back to the team mapping, answers cached 300 s", () => {
      expect(mappingOf('    virtual_key_claim_field: client_id\n')).to.deep.equal({
        claimField: 'client_id',
        unregistered: 'fallback_team_mapping',
        cacheTtlMs: 300_000,
      });
    });

    it('reads reject and virtual_key_mapping_cache_ttl', () => {
      const mapping = mappingOf('    virtual_key_claim_field: user.email\n    unregistered_jwt_client_behavior: reject\n    virtual_key_mapping_cache_ttl: 30\n');
      expect(mapping).to.deep.equal({ claimField: 'user.email', unregistered: 'reject', cacheTtlMs: 30_000 });
    });

    it('takes jwt_client_id_field as the older name of virtual_key_claim_field, which wins when both are given', () => {
      expect(mappingOf('    jwt_client_id_field: azp\n')?.claimField).to.equal('azp');
      expect(mappingOf('    jwt_client_id_field: old_field\n    virtual_key_claim_field: new_field\n')?.claimField).to.equal('new_field');
    });
  });

  describe('resolveKeyMapping', () => {
    const settings = (unregistered: VirtualKeyMappingSettings['unregistered']): VirtualKeyMappingSettings => ({
      claimField: 'email',
      unregistered,
      cacheTtlMs: 300_000,
    });
    let store: MappingStore;
    beforeEach(() => {
      store = new MappingStore();
      store.mappings.set('email=user@example.com', 'a'.repeat(64));
    });

    it('maps a claim an active mapping names to its key hash', async () => {
      expect(await resolveKeyMapping(settings('reject'), store, { email: 'user@example.com' })).to.deep.equal({ kind: 'mapped', keyHash: 'a'.repeat(64) });
      expect(store.calls).to.deep.equal(['findJwtKeyMapping:email:user@example.com']);
    });

    it('asks an unmapped claim to be registered under auto_register (after the JWT policy: authenticator), a mapped one is its key', async () => {
      expect(await resolveKeyMapping(settings('auto_register'), store, { email: 'new@example.com' })).to.deep.equal({
        kind: 'register',
        claimName: 'email',
        claimValue: 'new@example.com',
      });
      expect(await resolveKeyMapping(settings('auto_register'), store, { email: 'user@example.com' })).to.deep.equal({ kind: 'mapped', keyHash: 'a'.repeat(64) });
    });

    it("refuses a token without the claim under auto_register with the 'missing from the JWT' 403: there is nothing to register it by, and the team path would get round the policy", async () => {
      const outcome = await resolveKeyMapping(settings('auto_register'), store, { sub: 'x' });
      expect(outcome.kind === 'refused' && outcome.denial).to.deep.include({ status: 403, message: "JWT Key Mapping: Required claim 'email' is missing from the JWT. Access denied." });
      expect(store.calls).to.deep.equal([]);
    });

    it('leaves an unmapped claim to the team path under fallback_team_mapping', async () => {
      expect(await resolveKeyMapping(settings('fallback_team_mapping'), store, { email: 'unknown@example.com' })).to.deep.equal({ kind: 'unmapped' });
    });

    it("refuses an unmapped claim under reject with LiteLLM's 403, naming the claim and its value", async () => {
      expect(await resolveKeyMapping(settings('reject'), store, { email: 'unknown@example.com' })).to.deep.equal({
        kind: 'refused',
        denial: {
          status: 403,
          type: 'auth_error',
          message: "JWT Key Mapping: No registered mapping for email='unknown@example.com'. Access denied.",
          param: 'None',
        },
      });
    });

    it("refuses a token without the claim under reject (leaving it out must not get round the policy), with LiteLLM's 'missing from the JWT' 403", async () => {
      const outcome = await resolveKeyMapping(settings('reject'), store, { sub: 'x' });
      expect(outcome).to.deep.include({ kind: 'refused' });
      expect(outcome.kind === 'refused' && outcome.denial).to.deep.include({
        status: 403,
        message: "JWT Key Mapping: Required claim 'email' is missing from the JWT. Access denied.",
      });
      expect(store.calls, 'nothing to look up').to.deep.equal([]);
    });

    it('leaves a token without the claim (or with it null) to the team path under fallback_team_mapping, looking nothing up', async () => {
      expect(await resolveKeyMapping(settings('fallback_team_mapping'), store, { sub: 'x' })).to.deep.equal({ kind: 'unmapped' });
      expect(await resolveKeyMapping(settings('fallback_team_mapping'), store, { email: null })).to.deep.equal({ kind: 'unmapped' });
      expect(store.calls).to.deep.equal([]);
    });

    it('never maps a number it cannot hold exactly: 2^53 + 1 arrives as 2^53, another client\'s value (refused under both behaviours, nothing looked up)', async () => {
      // JSON.parse (jose, and Envoy's Struct) rounds 9007199254740993 to 9007199254740992; LiteLLM's
      // Python reads it exactly, so a row for ...992 belongs to someone else.
      store.mappings.set('cid=9007199254740992', 'b'.repeat(64));
      const claims: Claims = JSON.parse('{"cid": 9007199254740993}') as Claims;
      const fields = (unregistered: VirtualKeyMappingSettings['unregistered']): VirtualKeyMappingSettings => ({ claimField: 'cid', unregistered, cacheTtlMs: 300_000 });
      for (const unregistered of ['reject', 'fallback_team_mapping'] as const) {
        const outcome = await resolveKeyMapping(fields(unregistered), store, claims);
        expect(outcome.kind, unregistered).to.equal('refused');
        expect(outcome.kind === 'refused' && outcome.denial).to.deep.include({ status: 403, type: 'auth_error' });
      }
      expect(await resolveKeyMapping(fields('reject'), store, { cid: 1e300 })).to.deep.include({ kind: 'refused' });
      expect(store.calls).to.deep.equal([]);
      // An exact integer, and a fraction, are read as Python prints them.
      store.mappings.set('cid=9007199254740991', 'c'.repeat(64));
      expect(await resolveKeyMapping(fields('reject'), store, { cid: 9007199254740991 })).to.deep.equal({ kind: 'mapped', keyHash: 'c'.repeat(64) });
      expect(mappedClaimValue({ cid: 2.5 }, 'cid')).to.equal('2.5');
    });

    it("looks up a claim the token wrote 1.0 as Python's str() prints it, \"1.0\", not as the claim 1's \"1\" (another client's mapping)", async () => {
      store.mappings.set('cid=1', 'd'.repeat(64));
      store.mappings.set('cid=1.0', 'e'.repeat(64));
      const text = '{"cid":1.0,"list":[1.0,2]}';
      const claims = JSON.parse(text) as JsonObject;
      markWrittenFloats(claims, `e30.${Buffer.from(text).toString('base64url')}.sig`);
      const fields: VirtualKeyMappingSettings = { claimField: 'cid', unregistered: 'reject', cacheTtlMs: 300_000 };
      expect(await resolveKeyMapping(fields, store, claims)).to.deep.equal({ kind: 'mapped', keyHash: 'e'.repeat(64) });
      expect(mappedClaimValue(claims, 'list')).to.equal('[1.0, 2]');
      // Unmarked (Envoy's Struct holds doubles): the integral number reads as an integer.
      expect(await resolveKeyMapping(fields, store, { cid: 1 })).to.deep.equal({ kind: 'mapped', keyHash: 'd'.repeat(64) });
    });

    it('looks up a float the token wrote beyond 2^53 (1e20) as Python prints it, where an integer that large is refused', async () => {
      store.mappings.set('cid=1e+20', 'f'.repeat(64));
      store.mappings.set('cid=[1e+20]', '0'.repeat(64));
      const fields = (claimField: string): VirtualKeyMappingSettings => ({ claimField, unregistered: 'reject', cacheTtlMs: 300_000 });
      const text = '{"cid":1e20,"list":[1e20]}';
      const claims = JSON.parse(text) as JsonObject;
      markWrittenFloats(claims, `e30.${Buffer.from(text).toString('base64url')}.sig`);
      // Python reads 1e20 as the float LiteLLM's str() prints "1e+20": the same double, exactly.
      expect(await resolveKeyMapping(fields('cid'), store, claims)).to.deep.equal({ kind: 'mapped', keyHash: 'f'.repeat(64) });
      store.mappings.set('list=[1e+20]', '0'.repeat(64));
      expect(await resolveKeyMapping(fields('list'), store, claims)).to.deep.equal({ kind: 'mapped', keyHash: '0'.repeat(64) });
      // Written 100000000000000000000, it is an int Python prints whole, which JSON.parse has rounded.
      expect(await resolveKeyMapping(fields('cid'), store, JSON.parse('{"cid":100000000000000000000}') as Claims)).to.deep.include({ kind: 'refused' });
    });

    it('through the cache: a warm claim is answered at once (no promise, no lookup), "no mapping" included', async () => {
      const cached = new CachedAuthStore(store, POLICY, new MapSharedCache());
      expect(await resolveKeyMapping(settings('reject'), cached, { email: 'user@example.com' })).to.deep.include({ kind: 'mapped' });
      expect(await resolveKeyMapping(settings('fallback_team_mapping'), cached, { email: 'unknown@example.com' })).to.deep.equal({ kind: 'unmapped' });
      store.calls.length = 0;
      const warm = resolveKeyMapping(settings('reject'), cached, { email: 'user@example.com' });
      expect(isPromise(warm)).to.equal(false);
      expect(warm).to.deep.equal({ kind: 'mapped', keyHash: 'a'.repeat(64) });
      const warmMiss = resolveKeyMapping(settings('reject'), cached, { email: 'unknown@example.com' });
      expect(isPromise(warmMiss)).to.equal(false);
      expect(warmMiss).to.deep.include({ kind: 'refused' });
      expect(store.calls).to.deep.equal([]);
    });

    it('caps the cache ages by virtual_key_mapping_cache_ttl', async () => {
      let now = 1_000_000;
      const cached = new CachedAuthStore(store, { ...POLICY, jwtKeyMappingTtlMs: 2_000 }, new MapSharedCache(), undefined, () => now);
      await resolveKeyMapping(settings('reject'), cached, { email: 'user@example.com' });
      now += 2_500;
      store.mappings.delete('email=user@example.com');
      store.calls.length = 0;
      expect(await resolveKeyMapping(settings('fallback_team_mapping'), cached, { email: 'user@example.com' })).to.deep.equal({ kind: 'unmapped' });
      expect(store.calls).to.deep.equal(['findJwtKeyMapping:email:user@example.com']);
    });

    it('an invalidated mapping is looked up again', async () => {
      const cached = new CachedAuthStore(store, POLICY, new MapSharedCache());
      await resolveKeyMapping(settings('reject'), cached, { email: 'user@example.com' });
      store.mappings.delete('email=user@example.com');
      await cached.caches.get('jwt_key_mapping')?.invalidate(jwtKeyMappingId('email', 'user@example.com'));
      expect(await resolveKeyMapping(settings('fallback_team_mapping'), cached, { email: 'user@example.com' })).to.deep.equal({ kind: 'unmapped' });
    });
  });

  describe('the claim value, as LiteLLM looks it up (get_nested_value, then str())', () => {
    const claims: Claims = { sub: 'abc', n: 42, ok: true, user: { email: 'a@b.c' }, list: ['x', 1], empty: '' };
    for (const [path, expected] of [
      ['sub', 'abc'],
      ['n', '42'],
      ['ok', 'True'],
      ['user.email', 'a@b.c'],
      ['metadata.user.email', 'a@b.c'],
      ['list', "['x', 1]"],
      ['empty', ''],
      ['missing', null],
      ['user.missing', null],
    ] as const) {
      it(`${path} → ${String(expected)}`, () => {
        expect(mappedClaimValue(claims, path)).to.equal(expected);
      });
    }
  });
});
