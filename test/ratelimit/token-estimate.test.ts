import { expect } from 'chai';
import type { Json } from '../../src/domain/entities';
import type { RequestFacts } from '../../src/domain/request';
import { estimateRequestTokens, outputFloor } from '../../src/ratelimit/token-estimate';
import { aRequest } from '../checks/fixtures';

/** A chat request whose body is `bytes` long (content-length), with `extra` members. */
const chat = (bytes: number, extra: Record<string, Json> = {}, route = '/v1/chat/completions'): RequestFacts =>
  aRequest({ route, headers: { 'content-length': String(bytes) }, bodyBytes: bytes, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], ...extra } });

describe('rate limits: the token estimate a request reserves against tpm limits (v3 _estimate_tokens_for_request)', () => {
  const rows: ReadonlyArray<readonly [string, RequestFacts, number | null, number]> = [
    // 400 / 4 = 100 input; no max_tokens: max(100, min(1024, 100000 // 4)) = 1024.
    ['no max_tokens: input + the floor of 4096 // 4 when the limits are large', chat(400), 100_000, 100 + 1024],
    ['no max_tokens: the floor is a quarter of the smallest tpm limit when that is less (1000 → 250)', chat(400), 1000, 100 + 250],
    ['no max_tokens: at least the input again (a long prompt is expected to answer at length)', chat(8000), 1000, 2000 + 2000],
    ['a tpm limit under 4 still floors the output at 1 token', chat(8), 3, 2 + 2],
    ['max_tokens is reserved as the output, whatever the limit', chat(400, { max_tokens: 50 }), 1000, 100 + 50],
    ['max_tokens 0 falls through to max_completion_tokens (Python `or`)', chat(400, { max_tokens: 0, max_completion_tokens: 70 }), 1000, 100 + 70],
    ['max_tokens 0 without max_completion_tokens is no cap: the floor', chat(400, { max_tokens: 0 }), 1000, 100 + 250],
    ['max_completion_tokens alone is the cap', chat(400, { max_completion_tokens: 70 }), 1000, 100 + 70],
    ['a numeric string is read as int() reads it', chat(400, { max_tokens: ' 64 ' }), 1000, 100 + 64],
    ['a fractional max_tokens is truncated', chat(400, { max_tokens: 12.9 }), 1000, 100 + 12],
    ['a prompt under 4 characters is still 1 input token', chat(3, { max_tokens: 1 }), 1000, 1 + 1],
    [
      'embeddings reserve their input only (no output tokens)',
      aRequest({ route: '/v1/embeddings', headers: { 'content-length': '400' }, body: { model: 'text-embedding-3-small', input: 'some text' } }),
      1000,
      100,
    ],
    [
      'a Responses API input expects output (v3\'s later revision tells it from embeddings by its call type)',
      aRequest({ route: '/v1/responses', headers: { 'content-length': '400' }, body: { model: 'gpt-4o', input: 'some text' } }),
      1000,
      100 + 250,
    ],
    ['a request without prompt reserves 1 token (a full window still refuses it)', aRequest({ body: { model: 'gpt-4o', messages: [] }, bodyBytes: 60 }), 1000, 1],
    ['a body that is not JSON (a multipart upload) has no prompt v3 reads: 1 token', aRequest({ route: '/v1/audio/transcriptions', body: null, bodyBytes: 50_000 }), 1000, 1],
    [
      'a body Envoy cut short counts what it forwarded, its prompt left out of the parse',
      aRequest({ body: { model: 'gpt-4o' }, bodyTruncated: true, bodyBytes: 4000 }),
      1000,
      1000 + 1000,
    ],
    ['the whole body is counted, envelope included: never less than v3\'s text count', chat(41), 1000, 10 + 250],
  ];
  for (const [name, facts, smallest, expected] of rows) {
    it(name, () => expect(estimateRequestTokens(facts, smallest)).to.equal(expected));
  }

  it('takes a prompt the parser left undecoded as present without decoding it', () => {
    const body: Record<string, Json> = { model: 'gpt-4o' };
    let decoded = 0;
    Object.defineProperty(body, 'messages', {
      enumerable: true,
      get: (): Json => {
        decoded += 1;
        return [];
      },
    });
    // Not through aRequest: its deep freeze would read the getter.
    const facts: RequestFacts = { ...aRequest({ headers: { 'content-length': '400' } }), body };
    expect(estimateRequestTokens(facts, 1000)).to.equal(100 + 250);
    expect(decoded).to.equal(0);
  });

  it('floors the output at min(1024, max(1, smallest tpm limit // 4)) (v3 _no_max_tokens_output_floor)', () => {
    expect([outputFloor(null), outputFloor(100_000), outputFloor(4096), outputFloor(1000), outputFloor(7), outputFloor(1), outputFloor(0)]).to.deep.equal([
      1024, 1024, 1024, 250, 1, 1, 1,
    ]);
  });
});
