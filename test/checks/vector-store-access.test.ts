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

  it("walks a tool's string ids as Python does, character by character (401 key_vector_store_access_denied)", () => {
    expect(run({ tools: [{ type: 'file_search', vector_store_ids: 'vs-1' }] }, [keyPerm(['vs-1'])])?.message).to.equal(
      "User not allowed to access vector store. Tried to access v. Only allowed to access ['vs-1']",
    );
  });

  it("walks a tool's ids of any length without overflowing the stack (401 key_vector_store_access_denied, not a thrown RangeError)", () => {
    // Within Envoy's 1 MiB body limit: one argument per character would not fit a spread.
    const long = 'v'.repeat(300_000);
    expect(run({ tools: [{ type: 'file_search', vector_store_ids: long }] }, [keyPerm(['vs-1'])])?.type).to.equal('key_vector_store_access_denied');
  });

  const readRows: ReadonlyArray<{ why: string; body: Record<string, Json>; perms: ObjectPermission[]; type: string | null }> = [
    { why: "a tool's dict of ids gives its keys", body: { tools: [{ vector_store_ids: { 'vs-2': true } }] }, perms: [keyPerm(['vs-1'])], type: 'key_vector_store_access_denied' },
    { why: 'a top-level vector_store_ids that is not a list is not read (isinstance check)', body: { vector_store_ids: 'vs-2' }, perms: [keyPerm(['vs-1'])], type: null },
    { why: 'a tools dict walks its keys, none naming ids', body: { tools: { type: 'file_search' } }, perms: [keyPerm(['vs-1'])], type: null },
  ];
  for (const row of readRows) {
    it(`${row.type === null ? 'allows' : `denies (${row.type})`}: ${row.why} — get_vector_store_ids_to_run`, () => {
      expect(run(row.body, row.perms)?.type ?? null).to.equal(row.type);
    });
  }

  // get_vector_store_ids_to_run raises before any permission is read: every caller is refused.
  const typeErrorRows: ReadonlyArray<{ why: string; body: Record<string, Json>; message: string }> = [
    { why: 'a null tool', body: { tools: [null] }, message: "argument of type 'NoneType' is not iterable" },
    { why: 'a number tool', body: { tools: [{ type: 'function' }, 3] }, message: "argument of type 'int' is not iterable" },
    { why: 'tools a number', body: { tools: 7 }, message: "'int' object is not iterable" },
    { why: 'a string tool naming vector_store_ids', body: { tools: ['my vector_store_ids'] }, message: "string indices must be integers, not 'str'" },
    { why: 'a list tool holding "vector_store_ids"', body: { tools: [['vector_store_ids']] }, message: 'list indices must be integers or slices, not str' },
    { why: "a tool's ids a number", body: { tools: [{ type: 'file_search', vector_store_ids: 5 }] }, message: "'int' object is not iterable" },
    { why: "a tool's ids null", body: { tools: [{ type: 'file_search', vector_store_ids: null }] }, message: "'NoneType' object is not iterable" },
    { why: 'an id that is a list (unhashable in dict.fromkeys)', body: { vector_store_ids: [['vs-1']] }, message: "unhashable type: 'list'" },
  ];
  for (const row of typeErrorRows) {
    it(`refuses every caller when reading the ids raises TypeError: ${row.why} (401 auth_error)`, () => {
      expect(run(row.body, [])).to.deep.equal({ status: 401, type: 'auth_error', message: `Authentication Error, ${row.message}`, param: 'None' });
    });
  }

  it('reports a non-string id as Python would print it', () => {
    expect(run({ vector_store_ids: [7] }, [keyPerm(['vs-1'])])?.message).to.include('Tried to access 7.');
  });

  describe('a body Envoy cut short (a deliberate difference: LiteLLM sees the whole body)', () => {
    const cut = (body: Record<string, Json>, perms: ObjectPermission[], opts: { keyPermId?: string | null; teamPermId?: string | null } = {}) =>
      decide(vectorStoreAccess, {
        request: { body: { model: 'gpt-4o', ...body }, bodyTruncated: true },
        snapshot: {
          key: aKey({ team_id: 'team-1', object_permission_id: opts.keyPermId === undefined ? 'p-key' : opts.keyPermId }),
          team: aTeam({ object_permission_id: opts.teamPermId === undefined ? 'p-team' : opts.teamPermId }),
          objectPermissions: permissionsById(...perms),
        },
      });

    it('refuses a caller whose key restricts stores, even with no store in the prefix: one past the cut would go unchecked (401)', () => {
      expect(cut({}, [keyPerm(['vs-1'])])).to.deep.equal({
        status: 401,
        type: 'key_vector_store_access_denied',
        message:
          "User not allowed to access vector store. Vector store(s) unread: request body cut short by Envoy (over max_request_bytes). Only allowed to access ['vs-1']",
        param: 'vector_store',
      });
    });

    it("refuses under the team's restriction when the key's is open", () => {
      expect(cut({ vector_store_ids: ['vs-2'] }, [keyPerm([]), teamPerm(['vs-2'])])?.type).to.equal('team_vector_store_access_denied');
    });

    it('names a store the prefix shows and the key does not allow, as for a whole body', () => {
      expect(cut({ vector_store_ids: ['vs-9'] }, [keyPerm(['vs-1'])])?.message).to.include('Tried to access vs-9.');
    });

    it('lets a caller through that no permission restricts (no row, an empty list, no permission id)', () => {
      expect(cut({}, [])).to.equal(null);
      expect(cut({}, [keyPerm([]), teamPerm([])])).to.equal(null);
      expect(cut({}, [keyPerm(['vs-1'])], { keyPermId: null, teamPermId: null })).to.equal(null);
    });
  });

  it('checks the team of an identity without a key (JWT)', () => {
    const denial = decide(vectorStoreAccess, {
      request: { body: { vector_store_ids: ['vs-2'] } },
      snapshot: { key: null, team: aTeam({ object_permission_id: 'p-team' }), objectPermissions: permissionsById(teamPerm(['vs-1'])) },
    });
    expect(denial?.type).to.equal('team_vector_store_access_denied');
  });
});
