/**
 * The request's tags once newer LiteLLM's auth has merged in the `x-litellm-tags` header
 * (`apply_client_tag_policy_pre_auth`) and the key's own `metadata.tags` (`apply_key_tags_pre_auth`),
 * as `get_tags_from_request_body` reads them back for the tag budget check. The LiteLLM cases are
 * named after the LiteLLM tests that pin them.
 */
import { expect } from 'chai';
import { clientRequestTags, preAuthRequestTags, tagContainerName } from '../../src/checks/pre-auth-tags';
import type { Json, JsonObject } from '../../src/domain/entities';
import { tagsOfRequest } from '../../src/snapshot/request-tags';

type Body = Record<string, Json> | null;

const on = (route: string, headers: Record<string, string> = {}) => ({ route, headers });
const chat = (headers: Record<string, string> = {}) => on('/chat/completions', headers);
const keyWith = (tags: Json): JsonObject => ({ tags });

describe('tags merged before the tag budget check (newer LiteLLM, §4.12)', () => {
  describe('pinned against LiteLLM', () => {
    it("key tags with none from the client: ['engineering'] (test_reject_clientside_metadata_tags_allows_key_tags_without_client_tags)", () => {
      const body = { model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: 'test' }] };
      expect(preAuthRequestTags(body, chat(), keyWith(['engineering']))).to.deep.equal(['engineering']);
    });

    for (const route of ['/bedrock/model/us.anthropic.claude-sonnet-4-6/invoke', '/v1/messages']) {
      it(`key tags go to litellm_metadata on ${route} (test_common_checks_metadata_route_keeps_key_tags_out_of_provider_metadata)`, () => {
        const body = { messages: [{ role: 'user', content: 'test' }] };
        expect(tagContainerName(body, route)).to.equal('litellm_metadata');
        expect(preAuthRequestTags(body, on(route), keyWith(['engineering']))).to.deep.equal(['engineering']);
      });
    }

    it("header tags after the body's, JSON-string metadata read (test_opted_in_header_tags_are_visible_to_budget_check)", () => {
      const body = { metadata: '{"tags":["body-tag"]}' };
      expect(preAuthRequestTags(body, chat({ 'x-litellm-tags': 'header-tag' }), null)).to.deep.equal(['body-tag', 'header-tag']);
    });

    it('splits the header on commas and strips each part (x-litellm-tags: tenant:acme,env:prod)', () => {
      expect(preAuthRequestTags({}, chat({ 'x-litellm-tags': 'tenant:acme,env:prod' }), null)).to.deep.equal(['tenant:acme', 'env:prod']);
      expect(preAuthRequestTags({}, chat({ 'x-litellm-tags': ' a ,\tb\u0085' }), null)).to.deep.equal(['a', 'b']);
      expect(preAuthRequestTags({}, chat({ 'x-litellm-tags': 'a,, b ,' }), null), 'empty parts are dropped').to.deep.equal(['a', 'b']);
      expect(preAuthRequestTags({}, chat({ 'x-litellm-tags': ' , ' }), null)).to.deep.equal([]);
    });
  });

  describe('order and repeats (`_merge_tags`, then the top-level tags)', () => {
    const cases: [string, Body, Record<string, string>, Json, string[]][] = [
      ['container, header, key, then top-level', { metadata: { tags: ['m'] }, tags: ['r'] }, { 'x-litellm-tags': 'h' }, ['k'], ['m', 'h', 'k', 'r']],
      ['a header tag the body names is not added again', { metadata: { tags: ['a'] } }, { 'x-litellm-tags': 'a,b' }, null, ['a', 'b']],
      ['a key tag the header names is not added again', {}, { 'x-litellm-tags': 'a' }, ['a', 'k'], ['a', 'k']],
      ['repeats the body itself sends are kept', { metadata: { tags: ['a', 'a'] } }, {}, ['a'], ['a', 'a']],
      ['the top-level tags are appended as they are', { metadata: { tags: ['a'] }, tags: ['a'] }, {}, ['a'], ['a', 'a']],
      ['strings only, from every source', { metadata: { tags: [1, 'm'] }, tags: [null, 'r'] }, {}, [true, 'k'], ['m', 'k', 'r']],
      ['key tags that are not a list are ignored', { tags: ['r'] }, {}, 'k', ['r']],
      ['a body without metadata gains the header and key tags', null, { 'x-litellm-tags': 'h' }, ['k'], ['h', 'k']],
    ];
    for (const [name, body, headers, keyTags, expected] of cases) {
      it(name, () => {
        expect(preAuthRequestTags(body, chat(headers), keyTags === null ? null : keyWith(keyTags))).to.deep.equal(expected);
      });
    }
  });

  describe('which container holds the tags', () => {
    it("is litellm_metadata when the body has one, on any route (get_metadata_variable_name_from_kwargs)", () => {
      const body = { litellm_metadata: { tags: ['x'] }, metadata: { tags: ['y'] } };
      expect(preAuthRequestTags(body, chat({ 'x-litellm-tags': 'h' }), keyWith(['k']))).to.deep.equal(['x', 'h', 'k']);
    });

    it("is litellm_metadata on a LITELLM_METADATA_ROUTES route, seeded empty: the body's metadata.tags are not read there", () => {
      for (const route of ['/v1/messages', '/v1/responses', '/v1/batches', '/v1/files', '/bedrock/model/m/invoke']) {
        expect(preAuthRequestTags({ metadata: { tags: ['provider-side'] } }, on(route, { 'x-litellm-tags': 'h' }), null), route).to.deep.equal(['h']);
      }
    });

    it('is metadata elsewhere', () => {
      expect(tagContainerName({}, '/v1/chat/completions')).to.equal('metadata');
      expect(preAuthRequestTags({ metadata: { tags: ['m'] } }, on('/v1/embeddings'), null)).to.deep.equal(['m']);
    });
  });

  it('builds nothing for a request naming no tag made with a key carrying none', () => {
    const none = preAuthRequestTags({ model: 'gpt-4o' }, chat(), {});
    expect(none).to.deep.equal([]);
    expect(Object.isFrozen(none)).to.equal(true);
  });

  it('answers the same list again for the same request (the loader, the checks and the admission share it)', () => {
    const body = { metadata: { tags: ['m'] } };
    const request = chat({ 'x-litellm-tags': 'h' });
    const key = keyWith(['k']);
    expect(preAuthRequestTags(body, request, key)).to.equal(preAuthRequestTags(body, request, key));
    expect(preAuthRequestTags(body, request, null)).to.deep.equal(['m', 'h']);
  });

  it("counts the client's tags (body and header) without the key's", () => {
    expect(clientRequestTags({ metadata: { tags: ['m'] }, tags: ['r'] }, chat({ 'x-litellm-tags': 'h,m' }))).to.deep.equal(['m', 'h', 'r']);
  });

  it('loads and charges each name once', () => {
    expect(tagsOfRequest({ metadata: { tags: ['a', 'a'] }, tags: ['a'] }, chat({ 'x-litellm-tags': 'h' }), { metadata: keyWith(['a']) })).to.deep.equal(['a', 'h']);
    expect(tagsOfRequest(null, chat(), null)).to.deep.equal([]);
  });
});
