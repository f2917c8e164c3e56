import { expect } from 'chai';
import { Authorizer } from '../../src/authorize/authorize';
import { hashKey } from '../../src/auth/key-hash';
import { tagBudget } from '../../src/checks/tag-budget';
import { tagsFromBody } from '../../src/snapshot/request-tags';
import { MemoryStore } from '../support/memory-store';
import { aBudget, aKey, aPolicy, aRequest, aTag, decide, NOW, RAW_KEY } from './fixtures';

describe('tag budgets — §4 step 3.2', () => {
  const overBudgetTag = aTag({ tag_name: 'prod', spend: 2, budget: aBudget({ max_budget: 1 }) });

  it('denies a request tagged with a tag over budget (strict >)', () => {
    expect(
      decide(tagBudget, { request: { body: { model: 'gpt-4o', metadata: { tags: ['prod'] } } }, snapshot: { tags: [overBudgetTag] } }),
    ).to.deep.equal({
      status: 400,
      type: 'budget_exceeded',
      message: 'Budget has been exceeded! Tag=prod Current cost: 2.0, Max budget: 1.0',
      param: null,
    });
  });

  it('reads top-level tags and litellm_metadata.tags (litellm_metadata wins over metadata when present)', () => {
    expect(decide(tagBudget, { request: { body: { tags: ['prod'] } }, snapshot: { tags: [overBudgetTag] } })?.type).to.equal('budget_exceeded');
    expect(
      decide(tagBudget, {
        request: { body: { litellm_metadata: { tags: ['prod'] }, metadata: { tags: [] } } },
        snapshot: { tags: [overBudgetTag] },
      })?.type,
    ).to.equal('budget_exceeded');
    expect(
      decide(tagBudget, { request: { body: { litellm_metadata: {}, metadata: { tags: ['prod'] } } }, snapshot: { tags: [overBudgetTag] } }),
    ).to.equal(null);
  });

  it('allows a tag at spend == max_budget and ignores unknown tags', () => {
    const atLimit = aTag({ tag_name: 'prod', spend: 1, budget: aBudget({ max_budget: 1 }) });
    expect(decide(tagBudget, { request: { body: { tags: ['prod', 'unknown'] } }, snapshot: { tags: [atLimit] } })).to.equal(null);
  });

  describe("the header's and the key's tags, merged in before the check as newer LiteLLM does", () => {
    const untagged = { model: 'gpt-4o', messages: [] };

    it("refuses a key whose own tags carry a budget over its limit, though the request names no tag (the body alone names none: the body-only reading passed it)", () => {
      const key = aKey({ metadata: { tags: ['prod'] } });
      expect(tagsFromBody(untagged), 'what the body alone names').to.deep.equal([]);
      expect(decide(tagBudget, { request: { body: untagged }, snapshot: { key, tags: [overBudgetTag] } })).to.deep.include({
        status: 400,
        type: 'budget_exceeded',
        message: 'Budget has been exceeded! Tag=prod Current cost: 2.0, Max budget: 1.0',
      });
      expect(decide(tagBudget, { request: { body: untagged }, snapshot: { key: aKey(), tags: [overBudgetTag] } }), 'a key without the tag').to.equal(null);
    });

    it('refuses a tag over budget named in the x-litellm-tags header (the body-only reading passed it)', () => {
      const request = { body: untagged, headers: { 'x-litellm-tags': 'eu, prod' } };
      expect(decide(tagBudget, { request, snapshot: { tags: [overBudgetTag] } })?.message).to.equal(
        'Budget has been exceeded! Tag=prod Current cost: 2.0, Max budget: 1.0',
      );
      expect(decide(tagBudget, { request: { body: untagged }, snapshot: { tags: [overBudgetTag] } }), 'without the header').to.equal(null);
    });

    it('reads the key tags from litellm_metadata on a LITELLM_METADATA_ROUTES route, where the body gains one', () => {
      const key = aKey({ metadata: { tags: ['prod'] } });
      expect(decide(tagBudget, { request: { route: '/v1/messages', body: untagged }, snapshot: { key, tags: [overBudgetTag] } })?.type).to.equal(
        'budget_exceeded',
      );
    });

    describe('through the Authorizer: the key is looked up, then its tags', () => {
      const setup = (): { store: MemoryStore; authorizer: Authorizer } => {
        const store = new MemoryStore();
        store.keys.set(hashKey(RAW_KEY), aKey({ token: hashKey(RAW_KEY), metadata: { tags: ['engineering'] } }));
        store.tags.set('engineering', aTag({ tag_name: 'engineering', spend: 2, budget: aBudget({ max_budget: 1 }) }));
        store.tags.set('tenant:acme', aTag({ tag_name: 'tenant:acme', spend: 5, budget: aBudget({ max_budget: 3 }) }));
        return { store, authorizer: new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', now: () => NOW }) };
      };

      it("refuses a request naming no tag for its key's tag over budget, after looking up that tag", async () => {
        const { store, authorizer } = setup();
        const outcome = await authorizer.authorize(aRequest({ body: untagged }));
        expect(outcome).to.deep.include({ refusedBy: 'tag_budget' });
        expect(store.calls).to.include('findTags:engineering');
      });

      it('refuses a tag named only in the header', async () => {
        const { store, authorizer } = setup();
        store.keys.set(hashKey(RAW_KEY), aKey({ token: hashKey(RAW_KEY) }));
        const outcome = await authorizer.authorize(aRequest({ body: untagged, headers: { 'x-litellm-tags': 'tenant:acme' } }));
        expect(outcome).to.deep.include({ refusedBy: 'tag_budget' });
      });
    });
  });
});
