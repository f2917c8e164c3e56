import { expect } from 'chai';
import type { Decision } from '../../src/domain/decision';
import type { Json } from '../../src/domain/entities';
import type { HeaderValueOption } from '../../src/envoy/messages';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { fromStruct } from '../../src/envoy/messages';
import { toCheckResponse } from '../../src/envoy/response';
import { aCheckRequest, aDeny, anAllow, edgeSettings, identityHeadersBut, IDENTITY_HEADER_NAMES, someFacts } from './fixtures';

const settings = edgeSettings();
const KEY = 'sk-live-0123456789abcdef';
const HASH = 'a'.repeat(64);

const headerMap = (options: readonly HeaderValueOption[] | undefined): Record<string, string> =>
  Object.fromEntries((options ?? []).map((o) => [o.header?.key ?? '', o.header?.value ?? '']));

describe('toCheckResponse (spec README §3)', () => {
  describe('allow', () => {
    const fullIdentity = {
      keyHash: HASH,
      keyAlias: 'ci-key',
      userId: 'u-1',
      teamId: 't-1',
      orgId: 'o-1',
      projectId: 'p-1',
      endUserId: 'eu-1',
      userRole: 'internal_user',
      model: 'gpt-4o',
    };

    it('answers gRPC OK with every known identity header, each overwriting', () => {
      const response = toCheckResponse(anAllow(fullIdentity), someFacts(), settings);
      expect(response.status).to.deep.equal({ code: 0 });
      expect(response.denied_response).to.equal(undefined);
      expect(headerMap(response.ok_response?.headers)).to.deep.equal({
        'x-tollgate-key-hash': HASH,
        'x-tollgate-key-alias': 'ci-key',
        'x-tollgate-user-id': 'u-1',
        'x-tollgate-team-id': 't-1',
        'x-tollgate-org-id': 'o-1',
        'x-tollgate-project-id': 'p-1',
        'x-tollgate-end-user-id': 'eu-1',
        'x-tollgate-user-role': 'internal_user',
        'x-tollgate-model': 'gpt-4o',
      });
      for (const option of response.ok_response?.headers ?? []) expect(option.append_action).to.equal('OVERWRITE_IF_EXISTS_OR_ADD');
    });

    it('sends the same identity as snake_case dynamic metadata', () => {
      const response = toCheckResponse(anAllow(fullIdentity), someFacts(), settings);
      expect(fromStruct(response.dynamic_metadata)).to.deep.equal({
        key_hash: HASH,
        key_alias: 'ci-key',
        user_id: 'u-1',
        team_id: 't-1',
        org_id: 'o-1',
        project_id: 'p-1',
        end_user_id: 'eu-1',
        user_role: 'internal_user',
        model: 'gpt-4o',
      });
      expect(response.dynamic_metadata?.fields?.team_id).to.deep.equal({ stringValue: 't-1' });
    });

    it('sends only the fields that are known', () => {
      const response = toCheckResponse(anAllow({ keyHash: HASH, teamId: 't-1' }), someFacts(), settings);
      expect(Object.keys(headerMap(response.ok_response?.headers))).to.deep.equal(['x-tollgate-key-hash', 'x-tollgate-team-id']);
      expect(Object.keys(fromStruct(response.dynamic_metadata))).to.deep.equal(['key_hash', 'team_id']);
    });

    it('omits dynamic metadata when nothing is known', () => {
      const response = toCheckResponse(anAllow({}), someFacts(), settings);
      expect(response.dynamic_metadata).to.equal(undefined);
      expect(response.ok_response?.headers).to.deep.equal([]);
    });

    it('falls back to the request model (comma-joined) and end user when the identity lacks them', () => {
      const response = toCheckResponse(anAllow({}), someFacts({ model: ['a', 'b'], endUserId: 'eu-9' }), settings);
      expect(headerMap(response.ok_response?.headers)).to.deep.equal({ 'x-tollgate-end-user-id': 'eu-9', 'x-tollgate-model': 'a,b' });
    });

    it('removes client-sent x-tollgate-* headers it does not overwrite (no spoofing)', () => {
      const facts = someFacts({ headers: { 'x-tollgate-team-id': 'forged', 'x-tollgate-user-role': 'proxy_admin', 'x-other': '1' } });
      const response = toCheckResponse(anAllow({ teamId: 't-1' }), facts, settings);
      expect(response.ok_response?.headers_to_remove).to.deep.equal(identityHeadersBut('x-tollgate-team-id'));
      expect(headerMap(response.ok_response?.headers)['x-tollgate-team-id']).to.equal('t-1');
    });

    it('strips the header that carried the credential', () => {
      const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' }, headers: { authorization: `Bearer ${KEY}` } });
      const response = toCheckResponse(anAllow({ keyHash: HASH }, 'authorization'), facts, settings);
      expect(response.ok_response?.headers_to_remove).to.deep.equal([...identityHeadersBut('x-tollgate-key-hash'), 'authorization']);
    });

    it('strips the credential header named in the facts when the decision names none', () => {
      const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'x-litellm-api-key' } });
      expect(toCheckResponse(anAllow({}), facts, settings).ok_response?.headers_to_remove).to.deep.equal([
        ...IDENTITY_HEADER_NAMES,
        'x-litellm-api-key',
      ]);
    });

    it('strips every other header repeating the key, but keeps a provider key in Authorization', () => {
      const facts = someFacts({
        credential: { kind: 'present', value: KEY, header: 'x-litellm-api-key' },
        headers: { 'x-litellm-api-key': KEY, 'x-api-key': KEY, authorization: 'Bearer provider-key', ':path': `/x?k=${KEY}` },
      });
      const removed = toCheckResponse(anAllow({}, 'x-litellm-api-key'), facts, settings).ok_response?.headers_to_remove;
      expect(removed).to.have.members([...IDENTITY_HEADER_NAMES, 'x-litellm-api-key', 'x-api-key']);
    });

    it('removes the key= query parameter when the key came from it', () => {
      const facts = someFacts({ credential: { kind: 'present', value: KEY, header: '?key' } });
      const ok = toCheckResponse(anAllow({}, '?key'), facts, settings).ok_response;
      expect(ok?.query_parameters_to_remove).to.deep.equal(['key']);
      expect(ok?.headers_to_remove).to.deep.equal(IDENTITY_HEADER_NAMES);
    });

    it('removes the underscore spellings of x-tollgate-* names (CGI-style upstreams read x_tollgate_team_id as x-tollgate-team-id)', () => {
      const facts = someFacts({ headers: { x_tollgate_team_id: 'forged', 'x-tollgate_user-role': 'proxy_admin', x_tollgate: 'not a name of ours', x_other: '1' } });
      const response = toCheckResponse(anAllow({ teamId: 't-1' }), facts, settings);
      expect(response.ok_response?.headers_to_remove).to.deep.equal([...identityHeadersBut('x-tollgate-team-id'), 'x_tollgate_team_id', 'x-tollgate_user-role']);
    });

    it('removes a query parameter holding the key that a header carried (it would reach the provider in the URL)', () => {
      const facts = (path: string) => someFacts({ path, credential: { kind: 'present', value: KEY, header: 'x-goog-api-key' }, headers: { 'x-goog-api-key': KEY } });
      const removedFrom = (path: string) => toCheckResponse(anAllow({}, 'x-goog-api-key'), facts(path), settings).ok_response?.query_parameters_to_remove;
      expect(removedFrom(`/v1beta/models/gemini-2.0-flash:generateContent?alt=sse&key=${KEY}`)).to.deep.equal(['key']);
      expect(removedFrom(`/v1/chat/completions?api_key=${encodeURIComponent(KEY).replace(/-/g, '%2D')}&x=1`), 'percent-encoded').to.deep.equal(['api_key']);
      expect(removedFrom('/v1beta/models/g:generateContent?key=sk-some-other-key-000&alt=sse'), 'another secret stays').to.equal(undefined);
      expect(removedFrom('/v1/chat/completions'), 'no query').to.equal(undefined);
      expect(removedFrom(`/v1/chat/completions?a=1&${KEY}`), 'a parameter without =').to.deep.equal([KEY]);
      expect(removedFrom(`/v1/chat/completions?k=${KEY.replace('live', '%6Cive')}%zz`), 'one malformed escape does not hide the rest').to.deep.equal(['k']);
    });

    it('lists each header repeating the key once, however many x-tollgate-* headers come with it', () => {
      const headers: Record<string, string> = { 'x-litellm-api-key': KEY };
      for (let i = 0; i < 2000; i += 1) headers[`x-tollgate-h${i}`] = KEY;
      for (let i = 0; i < 50; i += 1) headers[`x-copy-${i}`] = KEY;
      const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'x-litellm-api-key' }, headers });
      const removed = toCheckResponse(anAllow({}, 'x-litellm-api-key'), facts, settings).ok_response?.headers_to_remove ?? [];
      expect(new Set(removed).size).to.equal(removed.length);
      expect(removed).to.include.members(['x-litellm-api-key', 'x-tollgate-h1999', 'x-copy-0', 'x-copy-49']);
      expect(removed).to.have.length(IDENTITY_HEADER_NAMES.length + 1 + 2000 + 50);
    });

    it('forwards the credential when tollgate.forward_credentials is true', () => {
      const facts = someFacts({
        credential: { kind: 'present', value: KEY, header: 'authorization' },
        headers: { authorization: `Bearer ${KEY}`, 'x-tollgate-org-id': 'forged' },
      });
      const ok = toCheckResponse(anAllow({}, 'authorization'), facts, edgeSettings({ forwardCredentials: true })).ok_response;
      expect(ok?.headers_to_remove).to.deep.equal(IDENTITY_HEADER_NAMES);
      expect(ok?.query_parameters_to_remove).to.equal(undefined);
    });

    it('never puts the raw key into a header or metadata value', () => {
      const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' } });
      const response = toCheckResponse(anAllow({ keyHash: HASH, keyAlias: `alias-${KEY}`, userId: KEY }), facts, settings);
      expect(JSON.stringify(response)).not.to.include(KEY);
      expect(headerMap(response.ok_response?.headers)).to.deep.equal({ 'x-tollgate-key-hash': HASH });
    });

    it('keeps a value with control characters out of headers (but in metadata) and removes a spoofed copy', () => {
      const facts = someFacts({ headers: { 'x-tollgate-key-alias': 'forged' } });
      const response = toCheckResponse(anAllow({ keyAlias: 'line1\r\nx-evil: 1' }), facts, settings);
      expect(response.ok_response?.headers).to.deep.equal([]);
      expect(response.ok_response?.headers_to_remove).to.deep.equal(IDENTITY_HEADER_NAMES);
      expect(fromStruct(response.dynamic_metadata)).to.deep.equal({ key_alias: 'line1\r\nx-evil: 1' });
    });
  });

  describe('identity headers the request did not show (ext_authz allowed_headers narrows what Tollgate sees)', () => {
    // A CheckRequest as Envoy sends it when its allowed_headers list leaves out x-tollgate-*: the
    // client's `x-tollgate-user-role: proxy_admin` still travels with the request, unseen.
    const unseenSpoof = parseCheckRequest(
      aCheckRequest({ headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }),
      settings,
    );
    const sentNames = (options: readonly HeaderValueOption[] | undefined): string[] => Object.keys(headerMap(options));
    const cases: Array<[string, Decision]> = [
      [
        'a virtual key allow (no project, no end user)',
        anAllow({ keyHash: HASH, keyAlias: 'ci-key', userId: 'u-1', teamId: 't-1', orgId: 'o-1', userRole: 'internal_user', model: 'gpt-4o' }, 'authorization'),
      ],
      ['a master key allow', anAllow({ userId: 'default_user_id', userRole: 'proxy_admin', model: 'gpt-4o' }, 'authorization')],
      ['a JWT allow (no key)', anAllow({ userId: 'alice', teamId: 't-1', orgId: 'o-1', model: 'gpt-4o' }, 'authorization')],
    ];
    for (const [name, decision] of cases) {
      it(`removes every identity header it does not set on ${name}`, () => {
        const ok = toCheckResponse(decision, unseenSpoof, settings).ok_response;
        const sent = sentNames(ok?.headers);
        expect(ok?.headers_to_remove).to.deep.equal([...identityHeadersBut(...sent), 'authorization']);
        // Each identity header is either Tollgate's own value or gone: none is left to the client.
        expect([...sent, ...(ok?.headers_to_remove ?? [])]).to.include.members(IDENTITY_HEADER_NAMES);
      });
    }

    it('removes the user role header on a JWT allow for a caller without a role', () => {
      const ok = toCheckResponse(cases[2]?.[1] as Decision, unseenSpoof, settings).ok_response;
      expect(ok?.headers_to_remove).to.include('x-tollgate-user-role').and.include('x-tollgate-key-hash');
    });

    it('lists a shown identity header once, and still removes a shown x-tollgate-* name it does not own', () => {
      const facts = someFacts({ headers: { 'x-tollgate-user-role': 'proxy_admin', 'x-tollgate-admin': 'yes' } });
      const removed = toCheckResponse(anAllow({ teamId: 't-1' }), facts, settings).ok_response?.headers_to_remove;
      expect(removed).to.deep.equal([...identityHeadersBut('x-tollgate-team-id'), 'x-tollgate-admin']);
    });

    it('shares one frozen removal list between answers, and never adds a request\'s names to it', () => {
      const identity = { keyHash: 'e'.repeat(64), teamId: 't-5' };
      const withKey = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' } });
      const first = toCheckResponse(anAllow({ ...identity }, 'authorization'), withKey, settings).ok_response?.headers_to_remove;
      const second = toCheckResponse(anAllow({ ...identity }, 'authorization'), withKey, settings).ok_response?.headers_to_remove;
      expect(second).to.equal(first);
      expect(Object.isFrozen(first)).to.equal(true);
      const copied = someFacts({ credential: withKey.credential, headers: { 'x-api-key': KEY, 'x-tollgate-admin': 'yes' } });
      const extra = toCheckResponse(anAllow({ ...identity }, 'authorization'), copied, settings).ok_response?.headers_to_remove;
      expect(extra).to.include.members(['authorization', 'x-api-key', 'x-tollgate-admin']);
      expect(first).to.deep.equal([...identityHeadersBut('x-tollgate-key-hash', 'x-tollgate-team-id'), 'authorization']);
      const plain = toCheckResponse(anAllow({ ...identity }), someFacts(), settings).ok_response?.headers_to_remove;
      expect(plain).to.deep.equal(identityHeadersBut('x-tollgate-key-hash', 'x-tollgate-team-id'));
    });
  });

  describe('identity parts shared between answers', () => {
    const identity = { keyHash: 'c'.repeat(64), keyAlias: 'shared', teamId: 't-9' };
    const allowWith = (metadata: Record<string, Json>): Decision => ({ kind: 'allow', identity: { ...identity }, credentialHeader: null, metadata });

    it('gives every answer for the same identity the same frozen headers and metadata fields', () => {
      const first = toCheckResponse(anAllow({ ...identity }), someFacts(), settings);
      const second = toCheckResponse(anAllow({ ...identity }), someFacts({ requestId: 'req-2' }), settings);
      expect(second.ok_response?.headers).to.equal(first.ok_response?.headers);
      expect(second.dynamic_metadata?.fields).to.equal(first.dynamic_metadata?.fields);
      expect(Object.isFrozen(first.ok_response?.headers)).to.equal(true);
      const renamed = toCheckResponse(anAllow({ ...identity, keyAlias: 'renamed' }), someFacts(), settings);
      expect(headerMap(renamed.ok_response?.headers)['x-tollgate-key-alias']).to.equal('renamed');
    });

    it('does not keep the identity of a denial: made-up keys cannot push allowed callers out', () => {
      const first = toCheckResponse(aDeny({}, { keyHash: 'd'.repeat(64) }), someFacts(), settings);
      const second = toCheckResponse(aDeny({}, { keyHash: 'd'.repeat(64) }), someFacts(), settings);
      expect(second.dynamic_metadata?.fields).to.not.equal(first.dynamic_metadata?.fields);
      expect(second.dynamic_metadata).to.deep.equal(first.dynamic_metadata);
    });

    it("adds an admission's metadata to a copy, never to the shared fields", () => {
      const withTags = toCheckResponse(allowWith({ request_tags: ['a'] }), someFacts(), settings);
      expect(fromStruct(withTags.dynamic_metadata)).to.deep.equal({ request_tags: ['a'], key_hash: identity.keyHash, key_alias: 'shared', team_id: 't-9' });
      const plain = toCheckResponse(anAllow({ ...identity }), someFacts(), settings);
      expect(fromStruct(plain.dynamic_metadata)).to.deep.equal({ key_hash: identity.keyHash, key_alias: 'shared', team_id: 't-9' });
    });

    it('lets the identity win over an admission field of the same name', () => {
      const response = toCheckResponse(allowWith({ team_id: 'from-admission', extra: 1 }), someFacts(), settings);
      expect(fromStruct(response.dynamic_metadata)).to.include({ team_id: 't-9', extra: 1 });
    });
  });

  describe('deny', () => {
    const cases: Array<[number, number, string]> = [
      [400, 7, 'budget_exceeded'],
      [401, 16, 'token_not_found_in_db'],
      [403, 7, 'auth_error'],
      [404, 7, 'not_found_error'],
      [429, 7, 'auth_error'],
      [500, 7, 'internal_server_error'],
      [503, 7, 'no_db_connection'],
    ];
    for (const [http, grpc, type] of cases) {
      it(`maps HTTP ${http} ${type} to gRPC ${grpc} with a ${http} local reply`, () => {
        const decision = aDeny({ status: http, type: type as 'auth_error', message: `refused ${http}`, param: 'key' });
        const response = toCheckResponse(decision, someFacts(), settings);
        expect(response.status?.code).to.equal(grpc);
        expect(response.ok_response).to.equal(undefined);
        expect(response.denied_response?.status).to.deep.equal({ code: http });
        expect(response.denied_response?.headers).to.deep.equal([
          { header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ]);
        expect(JSON.parse(response.denied_response?.body ?? '')).to.deep.equal({
          error: { message: `refused ${http}`, type, param: 'key', code: String(http) },
        });
      });
    }

    it("sends a denial's own headers (retry-after on a 429) after the content type", () => {
      const response = toCheckResponse(aDeny({ status: 429, headers: [['retry-after', '42']] }), someFacts(), settings);
      expect(headerMap(response.denied_response?.headers)).to.deep.equal({ 'content-type': 'application/json', 'retry-after': '42' });
    });

    it('writes param null as JSON null', () => {
      const body = toCheckResponse(aDeny({ param: null }), someFacts(), settings).denied_response?.body ?? '';
      expect(JSON.parse(body).error.param).to.equal(null);
    });

    it('answers 500 for a status outside HTTP range rather than a broken local reply', () => {
      const response = toCheckResponse(aDeny({ status: 99 }), someFacts(), settings);
      expect(response.denied_response?.status).to.deep.equal({ code: 500 });
      expect(response.status?.code).to.equal(7);
    });

    it('abbreviates the raw key if a denial message ever contains it', () => {
      const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' } });
      const response = toCheckResponse(aDeny({ message: `bad key ${KEY}` }), facts, settings);
      expect(response.denied_response?.body).to.include('bad key sk-...cdef').and.not.include(KEY);
    });

    it('carries identity metadata on a denial too (for when Envoy emits it, envoy#12671)', () => {
      const response = toCheckResponse(aDeny({}, { keyHash: HASH, teamId: 't' }), someFacts(), settings);
      expect(fromStruct(response.dynamic_metadata)).to.deep.equal({ key_hash: HASH, team_id: 't' });
    });
  });
});
