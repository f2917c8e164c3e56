import { expect } from 'chai';
import type { Json } from '../../src/domain/entities';
import { UNREAD_MODEL } from '../../src/domain/request';
import { attributionFromDecision, attributionFromMetadata } from '../../src/metering/admitted-identity';
import { toStruct } from '../../src/envoy/messages';
import { aRequest } from '../checks/fixtures';
import { anAllow } from '../envoy/fixtures';

describe('metering: who an admitted request is charged to', () => {
  it('takes the requested model, and none for a model that could not be read (never priced or logged as a model group)', () => {
    expect(attributionFromDecision(anAllow({ keyHash: 'h1' }), aRequest({ model: 'gpt-4o' })).model).to.equal('gpt-4o');
    expect(attributionFromDecision(anAllow({ keyHash: 'h1' }), aRequest({ model: UNREAD_MODEL })).model).to.equal(null);
  });

  it('carries the tags the admission named as charged, from this replica\'s Check or from the forwarded metadata', () => {
    const body = { model: 'gpt-4o', metadata: { tags: ['a', 'b'] } };
    const allow = { ...anAllow({ keyHash: 'h1' }), metadata: { request_tags: ['a', 'b'], charged_tags: ['b'] } };
    expect(attributionFromDecision(allow, aRequest({ body }))).to.deep.include({ tags: ['a', 'b'], chargedTags: ['b'] });
    const forwarded = attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1', request_tags: ['a', 'b'], charged_tags: ['b'] }) });
    expect(forwarded).to.deep.include({ tags: ['a', 'b'], chargedTags: ['b'] });
    const older = attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1', request_tags: ['a'] }) });
    expect(older, 'a replica that names none: all tags').to.not.have.property('chargedTags');
  });

  it('carries the per-model budget windows the admission named, from this replica\'s Check or from the forwarded metadata, dropping malformed entries', () => {
    const named = [
      ['key', 'h1', 'gpt-4o', '1d'],
      ['team', 't-1', 'gpt-4o', '30d'],
    ];
    const windows = [
      { scope: 'key', id: 'h1', budgetModel: 'gpt-4o', duration: '1d' },
      { scope: 'team', id: 't-1', budgetModel: 'gpt-4o', duration: '30d' },
    ];
    const allow = { ...anAllow({ keyHash: 'h1' }), metadata: { admission_id: 'adm-1', model_budgets: named } };
    expect(attributionFromDecision(allow, aRequest()).modelBudgets).to.deep.equal(windows);
    const forwarded = attributionFromMetadata({
      'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1', model_budgets: [...named, ['org', 'o-1', 'gpt-4o', '1d'], ['key', 'h1'], 'key'] }),
    });
    expect(forwarded?.modelBudgets).to.deep.equal(windows);
    expect(attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1' }) })).to.not.have.property('modelBudgets');
  });

  it("takes the model the per-model tpm windows are fed under when an alias rewrote the requested one (rate_limit_model), from the decision or Envoy's metadata", () => {
    const allow = { ...anAllow({ keyHash: 'h1' }), metadata: { rate_limit_model: 'gpt-4o' } };
    expect(attributionFromDecision(allow, aRequest({ model: 'gpt4' }))).to.deep.include({ model: 'gpt4', rateLimitModel: 'gpt-4o' });
    const forwarded = attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1', model: 'gpt4', rate_limit_model: 'gpt-4o' }) });
    expect(forwarded).to.deep.include({ model: 'gpt4', rateLimitModel: 'gpt-4o' });
    expect(attributionFromDecision(anAllow({ keyHash: 'h1' }), aRequest({ model: 'gpt-4o' })), 'no alias').to.not.have.property('rateLimitModel');
    const malformed = attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1', model: 'gpt4', rate_limit_model: 5 }) });
    expect(malformed).to.not.have.property('rateLimitModel');
  });

  it("takes the member's per-model counter the admission named (team_member_model), from the decision or Envoy's metadata", () => {
    const allow = { ...anAllow({ keyHash: 'h1' }), metadata: { admission_id: 'adm-1', team_member_model: ['u-1', 't-1', 'gpt-4o'] } };
    const counter = { userId: 'u-1', teamId: 't-1', model: 'gpt-4o' };
    expect(attributionFromDecision(allow, aRequest()).teamMemberModel).to.deep.equal(counter);
    const forwarded = (value: Json) => attributionFromMetadata({ 'envoy.filters.http.ext_authz': toStruct({ key_hash: 'h1', team_member_model: value }) });
    expect(forwarded(['u-1', 't-1', 'gpt-4o'])?.teamMemberModel).to.deep.equal(counter);
    for (const malformed of [['u-1', 't-1'], ['u-1', 't-1', 3], 'u-1']) expect(forwarded(malformed)).to.not.have.property('teamMemberModel');
  });

  it('charges a window named twice once, and none whose duration it cannot read (it would be held for centuries)', () => {
    const forwarded = attributionFromMetadata({
      'envoy.filters.http.ext_authz': toStruct({
        key_hash: 'h1',
        model_budgets: [
          ['key', 'h1', 'gpt-4o', '1d'],
          ['key', 'h1', 'gpt-4o', '1d'],
          ['user', 'u-1', 'gpt-4o', 'forever'],
          ['team', 't-1', 'gpt-4o', ''],
        ],
      }),
    });
    expect(forwarded?.modelBudgets).to.deep.equal([{ scope: 'key', id: 'h1', budgetModel: 'gpt-4o', duration: '1d' }]);
  });

  it("takes the tags the admission named (the header's and the key's merged in), none when it named none", () => {
    const body = { model: 'gpt-4o', metadata: { tags: ['a'] } };
    const admitted = { ...anAllow({ keyHash: 'h1' }), metadata: { admission_id: 'adm-1', request_tags: ['a', 'header', 'key'], charged_tags: ['key'] } };
    expect(attributionFromDecision(admitted, aRequest({ body }))).to.deep.include({ tags: ['a', 'header', 'key'], chargedTags: ['key'] });
    const untagged = { ...anAllow({ keyHash: 'h1' }), metadata: { admission_id: 'adm-2' } };
    expect(attributionFromDecision(untagged, aRequest({ route: '/v1/messages', body })).tags).to.deep.equal([]);
  });

  it('takes the tags of the body as sent, not those the query added for the auth checks (LiteLLM logs the body)', () => {
    const request = aRequest({ body: { model: 'm', metadata: { tags: ['paid'] } }, sentBody: { model: 'm' } });
    expect(attributionFromDecision(anAllow({ keyHash: 'h1' }), request).tags).to.deep.equal([]);
  });
});
