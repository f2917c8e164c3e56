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

  it('takes only the key entry out of Sec-WebSocket-Protocol, so the upstream can still echo a subprotocol the client offered', () => {
    const protocols = `realtime, openai-insecure-api-key.${KEY}, openai-beta.realtime-v1`;
    const facts = someFacts({ credential: { kind: 'present', value: KEY, header: 'sec-websocket-protocol' }, headers: { 'sec-websocket-protocol': protocols, 'x-api-key': KEY } });
    const ok = toCheckResponse(anAllow({}, 'sec-websocket-protocol'), facts, edgeSettings()).ok_response;
    expect(ok?.headers_to_remove).to.include('x-api-key').and.not.include('sec-websocket-protocol');
    const set = ok?.headers?.filter((option) => option.header?.key === 'sec-websocket-protocol');
    expect(set?.map((option) => [option.header?.value, option.append_action])).to.deep.equal([['realtime, openai-beta.realtime-v1', 'OVERWRITE_IF_EXISTS_OR_ADD']]);
  });

  it('removes Sec-WebSocket-Protocol when the key was all it offered, and rewrites it when another header carried the key', () => {
    const only = someFacts({ credential: { kind: 'present', value: KEY, header: 'sec-websocket-protocol' }, headers: { 'sec-websocket-protocol': `openai-insecure-api-key.${KEY}` } });
    const alone = toCheckResponse(anAllow({}, 'sec-websocket-protocol'), only, edgeSettings()).ok_response;
    expect(alone?.headers_to_remove).to.include('sec-websocket-protocol');
    expect(alone?.headers?.some((option) => option.header?.key === 'sec-websocket-protocol')).to.equal(false);
    const both = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' }, headers: { authorization: `Bearer ${KEY}`, 'sec-websocket-protocol': `realtime, openai-insecure-api-key.${KEY}` } });
    const ok = toCheckResponse(anAllow({}, 'authorization'), both, edgeSettings()).ok_response;
    expect(ok?.headers_to_remove).to.include('authorization').and.not.include('sec-websocket-protocol');
    expect(ok?.headers?.find((option) => option.header?.key === 'sec-websocket-protocol')?.header?.value).to.equal('realtime');
    const kept = toCheckResponse(anAllow({}, 'sec-websocket-protocol'), only, edgeSettings({ forwardCredentials: true })).ok_response;
    expect(kept?.headers_to_remove, 'forward_credentials keeps it whole').to.not.include('sec-websocket-protocol');
  });

  it('takes out every Sec-WebSocket-Protocol entry holding part of a key that spans entries (a comma in the key)', () => {
    const key = 'sk-my,master-secret';
    const facts = someFacts({ credential: { kind: 'present', value: key, header: 'authorization' }, headers: { authorization: `Bearer ${key}`, 'sec-websocket-protocol': `realtime, ${key}` } });
    const ok = toCheckResponse(anAllow({}, 'authorization'), facts, edgeSettings()).ok_response;
    const set = ok?.headers?.filter((option) => option.header?.key === 'sec-websocket-protocol').map((option) => option.header?.value);
    expect(set).to.deep.equal(['realtime']);
  });

  it('takes an openai-insecure-api-key entry out of Sec-WebSocket-Protocol even when another header carried the key checked', () => {
    const facts = someFacts({
      credential: { kind: 'present', value: KEY, header: 'authorization' },
      headers: { authorization: `Bearer ${KEY}`, 'sec-websocket-protocol': 'realtime, openai-insecure-api-key.sk-another-0123456789' },
    });
    const ok = toCheckResponse(anAllow({}, 'authorization'), facts, edgeSettings()).ok_response;
    const set = ok?.headers?.filter((option) => option.header?.key === 'sec-websocket-protocol').map((option) => option.header?.value);
    expect(set).to.deep.equal(['realtime']);
    const alone = someFacts({ credential: { kind: 'present', value: KEY, header: 'authorization' }, headers: { authorization: `Bearer ${KEY}`, 'sec-websocket-protocol': 'openai-insecure-api-key.sk-x' } });
    expect(toCheckResponse(anAllow({}, 'authorization'), alone, edgeSettings()).ok_response?.headers_to_remove).to.include('sec-websocket-protocol');
  });

  it("removes litellm_user_api_key on a mapped pass-through and keeps the provider's token in Authorization", () => {
    const removed = removedFor(KEY, 'litellm_user_api_key', { litellm_user_api_key: KEY, authorization: 'Bearer ya29.google-token-0123456789' });
    expect(removed).to.deep.equal(['litellm_user_api_key']);
  });
});
