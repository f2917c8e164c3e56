/**
 * The key never travels upstream by default (spec README §3), including copies of it that hide
 * behind a prefix or stray whitespace in the header Tollgate read it from — cases the end-to-end
 * fuzz run (test/fuzz/check-request.test.ts) found.
 */
import { expect } from 'chai';
import { toCheckResponse } from '../../src/envoy/response';
import { anAllow, edgeSettings, IDENTITY_HEADER_NAMES, someFacts } from './fixtures';

const KEY = 'sk-live-0123456789abcdef';

/** The removals besides the identity headers (which an allow always lists; test/envoy/response.test.ts). */
function removedFor(credentialValue: string, header: string, headers: Record<string, string>): readonly string[] {
  const facts = someFacts({ credential: { kind: 'present', value: credentialValue, header }, headers });
  const removed = toCheckResponse(anAllow({}, header), facts, edgeSettings()).ok_response?.headers_to_remove ?? [];
  return removed.filter((name) => !IDENTITY_HEADER_NAMES.includes(name));
}

describe('credential stripping', () => {
  it('finds the bare key in other headers when a raw-key header carried "Bearer Bearer sk-…" whole', () => {
    const removed = removedFor(`Bearer Bearer ${KEY}`, 'api-key', { 'api-key': `Bearer Bearer ${KEY}`, 'x-api-key': KEY });
    expect(removed).to.have.members(['api-key', 'x-api-key']);
  });

  it('finds the bare key when the credential kept trailing whitespace', () => {
    const removed = removedFor(`${KEY} `, 'authorization', { authorization: `Bearer ${KEY} `, 'x-api-key': KEY });
    expect(removed).to.have.members(['authorization', 'x-api-key']);
  });

  it('never removes an identity header it sets, even one whose client copy repeats the key (overwriting drops that copy)', () => {
    const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' }, headers: { authorization: `Bearer ${KEY}`, 'x-tollgate-team-id': KEY } });
    const ok = toCheckResponse(anAllow({ teamId: 't1' }, 'authorization'), facts, edgeSettings()).ok_response;
    expect(ok?.headers_to_remove).to.not.include('x-tollgate-team-id');
    expect(ok?.headers?.map((option) => [option.header?.key, option.header?.value])).to.deep.include(['x-tollgate-team-id', 't1']);
  });

  it('keeps unrelated headers, and a provider key in Authorization', () => {
    const removed = removedFor(KEY, 'x-litellm-api-key', { 'x-litellm-api-key': KEY, authorization: 'Bearer sk-provider-999999', 'x-other': 'sk-' });
    expect(removed).to.deep.equal(['x-litellm-api-key']);
  });

  it("removes litellm_user_api_key on a mapped pass-through and keeps the provider's token in Authorization", () => {
    const removed = removedFor(KEY, 'litellm_user_api_key', { litellm_user_api_key: KEY, authorization: 'Bearer ya29.google-token-0123456789' });
    expect(removed).to.deep.equal(['litellm_user_api_key']);
  });
});
