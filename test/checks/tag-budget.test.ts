import { expect } from 'chai';
import { tagBudget } from '../../src/checks/tag-budget';
import { aBudget, aTag, decide } from './fixtures';

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
});
