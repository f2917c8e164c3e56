import { expect } from 'chai';
import { Authorizer } from '../../src/authorize/authorize';
import { hashKey } from '../../src/auth/key-hash';
import { MAX_REQUEST_TAGS, requestTagCount } from '../../src/checks/request-tag-count';
import { MemoryStore } from '../support/memory-store';
import { aKey, aPolicy, aRequest, decide, NOW, RAW_KEY } from './fixtures';

const tags = (count: number, prefix = 't'): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('request tag count — Tollgate bounds the tag lookups', () => {
  it(`allows ${MAX_REQUEST_TAGS} distinct tags, from metadata and the body together`, () => {
    const half = MAX_REQUEST_TAGS / 2;
    const body = { model: 'gpt-4o', metadata: { tags: tags(half, 'm') }, tags: tags(half, 'b') };
    expect(decide(requestTagCount, { request: { body } })).to.equal(null);
  });

  it('counts distinct names: repeats of a few tags pass', () => {
    const body = { model: 'gpt-4o', tags: [...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10), ...tags(10)] };
    expect(decide(requestTagCount, { request: { body } })).to.equal(null);
  });

  it('refuses one more with 400 bad_request_error, param tags', () => {
    const body = { model: 'gpt-4o', metadata: { tags: tags(MAX_REQUEST_TAGS, 'm') }, tags: ['one-more'] };
    expect(decide(requestTagCount, { request: { body } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message: `Too many tags in the request: ${MAX_REQUEST_TAGS + 1} distinct tags, at most ${MAX_REQUEST_TAGS}`,
      param: 'tags',
    });
  });

  it('reads the tags LiteLLM reads: litellm_metadata over metadata, JSON-string metadata, strings only', () => {
    const many = tags(MAX_REQUEST_TAGS + 1);
    expect(decide(requestTagCount, { request: { body: { metadata: JSON.stringify({ tags: many }) } } })?.status).to.equal(400);
    expect(decide(requestTagCount, { request: { body: { litellm_metadata: {}, metadata: { tags: many } } } })).to.equal(null);
    expect(decide(requestTagCount, { request: { body: { tags: many.map((_, i) => i) } } })).to.equal(null);
    expect(decide(requestTagCount, { request: { body: null } })).to.equal(null);
  });

  it('counts the tags of the x-litellm-tags header with the body\'s (LiteLLM merges both into the ones it checks)', () => {
    const header = { 'x-litellm-tags': tags(MAX_REQUEST_TAGS / 2, 'h').join(',') };
    expect(decide(requestTagCount, { request: { headers: header, body: { tags: tags(MAX_REQUEST_TAGS / 2, 'b') } } })).to.equal(null);
    expect(decide(requestTagCount, { request: { headers: header, body: { tags: tags(MAX_REQUEST_TAGS / 2 + 1, 'b') } } })?.message).to.equal(
      `Too many tags in the request: ${MAX_REQUEST_TAGS + 1} distinct tags, at most ${MAX_REQUEST_TAGS}`,
    );
    expect(decide(requestTagCount, { request: { headers: { 'x-litellm-tags': tags(MAX_REQUEST_TAGS + 1).join(',') }, body: null } })?.status).to.equal(400);
  });

  it("leaves the key's own tags out: they are an admin's, and the key is not known yet", () => {
    expect(decide(requestTagCount, { request: { body: { tags: ['b'] } }, snapshot: { key: aKey({ metadata: { tags: tags(MAX_REQUEST_TAGS + 1) } }) } })).to.equal(null);
  });

  it('refuses before any lookup: no key, team or tag is read for such a request', async () => {
    const store = new MemoryStore();
    store.keys.set(hashKey(RAW_KEY), aKey({ token: hashKey(RAW_KEY) }));
    const authorizer = new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', now: () => NOW });
    const outcome = await authorizer.authorize(aRequest({ body: { model: 'gpt-4o', tags: tags(20_000) } }));
    expect(outcome).to.deep.include({ refusedBy: 'request_tag_count' });
    expect(store.calls).to.deep.equal([]);
  });
});
