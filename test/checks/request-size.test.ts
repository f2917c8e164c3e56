import { expect } from 'chai';
import { requestSize } from '../../src/checks/request-size';
import { buildPolicy } from '../../src/config/policy';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { decide } from './fixtures';

const MB = 1024 * 1024;

describe('request size — §2.2 step 1', () => {
  it('denies a content-length above max_request_size_mb (400 bad_request_error, param content-length)', () => {
    expect(decide(requestSize, { request: { headers: { 'content-length': String(3 * MB) } }, policy: { maxRequestSizeMb: 2 } })).to.deep.equal({
      status: 400,
      type: 'bad_request_error',
      message: 'Request size is too large. Request size is 3.0 MB. Max size is 2 MB',
      param: 'content-length',
    });
  });

  it('prints max_request_size_mb as the YAML wrote it (`2.0` a float, `2` an int)', () => {
    for (const [written, printed] of [['2.0', '2.0'], ['2', '2']] as const) {
      const policy = buildPolicy(parseLiteLlmConfig(`general_settings:\n  max_request_size_mb: ${written}\n`, {}));
      const denial = decide(requestSize, { request: { headers: { 'content-length': String(3 * MB) } }, policy });
      expect(denial?.message, written).to.equal(`Request size is too large. Request size is 3.0 MB. Max size is ${printed} MB`);
    }
  });

  const rows: ReadonlyArray<{ why: string; headers: Record<string, string>; bodyBytes: number; bodyTruncated?: boolean; maxMb: number | null; refused: boolean }> = [
    { why: 'allows a content-length of exactly the maximum (LiteLLM compares with >)', headers: { 'content-length': String(2 * MB) }, bodyBytes: 0, maxMb: 2, refused: false },
    { why: 'denies one byte over the maximum', headers: { 'content-length': String(2 * MB + 1) }, bodyBytes: 0, maxMb: 2, refused: true },
    { why: 'checks nothing without max_request_size_mb', headers: { 'content-length': '999999999' }, bodyBytes: 999_999_999, maxMb: null, refused: false },
    { why: 'measures the body when there is no content-length (chunked upload)', headers: {}, bodyBytes: 3 * MB, maxMb: 2, refused: true },
    { why: 'allows a measured body within the maximum', headers: {}, bodyBytes: 2 * MB, maxMb: 2, refused: false },
    { why: 'measures the body when content-length is empty (LiteLLM: `if content_length:`)', headers: { 'content-length': ' ' }, bodyBytes: 3 * MB, maxMb: 2, refused: true },
    { why: 'trusts content-length over the body Envoy sent (a truncated prefix is smaller)', headers: { 'content-length': String(3 * MB) }, bodyBytes: 64 * 1024, bodyTruncated: true, maxMb: 2, refused: true },
    { why: 'refuses when even a truncated prefix is over the maximum', headers: {}, bodyBytes: 3 * MB, bodyTruncated: true, maxMb: 2, refused: true },
    { why: 'lets a truncated prefix within the maximum pass (the full size is unknown)', headers: {}, bodyBytes: MB, bodyTruncated: true, maxMb: 2, refused: false },
    { why: 'ignores a content-length that is not a number', headers: { 'content-length': 'lots' }, bodyBytes: 3 * MB, maxMb: 2, refused: false },
  ];
  for (const row of rows) {
    it(`${row.why} — §2.2 step 1`, () => {
      const denial = decide(requestSize, {
        request: { headers: row.headers, bodyBytes: row.bodyBytes, bodyTruncated: row.bodyTruncated ?? false },
        policy: { maxRequestSizeMb: row.maxMb },
      });
      expect(denial?.type ?? null).to.equal(row.refused ? 'bad_request_error' : null);
    });
  }

  it('reports the measured size in the message', () => {
    expect(decide(requestSize, { request: { bodyBytes: 3 * MB + MB / 2 }, policy: { maxRequestSizeMb: 2.5 } })?.message).to.equal(
      'Request size is too large. Request size is 3.5 MB. Max size is 2.5 MB',
    );
  });
});
