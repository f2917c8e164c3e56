import { expect } from 'chai';
import { vectorStoreAccess } from '../../src/checks/vector-store-access';
import type { Json, ObjectPermission } from '../../src/domain/entities';
import { aKey, anObjectPermission, aTeam, decide, permissionsById } from './fixtures';

describe('vector-store access — §4 step 11, §4.11', () => {
  const keyPerm = (stores: string[]) => anObjectPermission({ object_permission_id: 'p-key', vector_stores: stores });
  const teamPerm = (stores: string[]) => anObjectPermission({ object_permission_id: 'p-team', vector_stores: stores });
  const run = (body: Record<string, Json>, perms: ObjectPermission[], opts: { keyPermId?: string | null; teamPermId?: string | null } = {}) =>
    decide(vectorStoreAccess, {
      request: { body: { model: 'gpt-4o', ...body } },
      snapshot: {
        key: aKey({ team_id: 'team-1', object_permission_id: opts.keyPermId === undefined ? 'p-key' : opts.keyPermId }),
        team: aTeam({ object_permission_id: opts.teamPermId === undefined ? 'p-team' : opts.teamPermId }),
        objectPermissions: permissionsById(...perms),
      },
    });

  it('denies a store outside the key allowlist (401 key_vector_store_access_denied, param vector_store)', () => {
    expect(run({ vector_store_ids: ['vs-2'] }, [keyPerm(['vs-1'])])).to.deep.equal({
      status: 401,
      type: 'key_vector_store_access_denied',
      message: "User not allowed to access vector store. Tried to access vs-2. Only allowed to access ['vs-1']",
      param: 'vector_store',
    });
  });

  const rows: ReadonlyArray<{ why: string; body: Record<string, Json>; perms: ObjectPermission[]; opts?: { keyPermId?: string | null; teamPermId?: string | null }; type: string | null }> = [
    { why: 'a store in the key allowlist', body: { vector_store_ids: ['vs-1'] }, perms: [keyPerm(['vs-1', 'vs-3'])], type: null },
    { why: 'an empty key allowlist allows every store', body: { vector_store_ids: ['vs-9'] }, perms: [keyPerm([])], type: null },
    { why: 'a missing permission row allows every store', body: { vector_store_ids: ['vs-9'] }, perms: [], type: null },
    { why: 'a key without object_permission_id', body: { vector_store_ids: ['vs-9'] }, perms: [keyPerm(['vs-1'])], opts: { keyPermId: null }, type: null },
    { why: 'file_search tool stores are checked too', body: { tools: [{ type: 'file_search', vector_store_ids: ['vs-2'] }] }, perms: [keyPerm(['vs-1'])], type: 'key_vector_store_access_denied' },
    { why: 'the team allowlist applies after the key’s', body: { vector_store_ids: ['vs-1'] }, perms: [keyPerm(['vs-1']), teamPerm(['vs-2'])], type: 'team_vector_store_access_denied' },
    { why: 'the key is reported first when both refuse', body: { vector_store_ids: ['vs-3'] }, perms: [keyPerm(['vs-1']), teamPerm(['vs-2'])], type: 'key_vector_store_access_denied' },
    { why: 'an open key does not lift the team allowlist', body: { vector_store_ids: ['vs-3'] }, perms: [keyPerm([]), teamPerm(['vs-2'])], type: 'team_vector_store_access_denied' },
    { why: 'a request naming no store is not checked', body: {}, perms: [keyPerm(['vs-1'])], type: null },
    { why: 'every named store must be allowed', body: { vector_store_ids: ['vs-1', 'vs-2'] }, perms: [keyPerm(['vs-1'])], type: 'key_vector_store_access_denied' },
  ];
  for (const row of rows) {
    it(`${row.type === null ? 'allows' : `denies (${row.type})`}: ${row.why} — §4.11`, () => {
      expect(run(row.body, row.perms, row.opts)?.type ?? null).to.equal(row.type);
    });
  }

  it('reports a non-string id as Python would print it', () => {
    expect(run({ vector_store_ids: [7] }, [keyPerm(['vs-1'])])?.message).to.include('Tried to access 7.');
  });

  it('checks the team of an identity without a key (JWT)', () => {
    const denial = decide(vectorStoreAccess, {
      request: { body: { vector_store_ids: ['vs-2'] } },
      snapshot: { key: null, team: aTeam({ object_permission_id: 'p-team' }), objectPermissions: permissionsById(teamPerm(['vs-1'])) },
    });
    expect(denial?.type).to.equal('team_vector_store_access_denied');
  });
});
