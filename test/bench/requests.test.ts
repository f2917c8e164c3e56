import { expect } from 'chai';
import { chatCheckRequest, longContextCheckRequest, measuredBodyKib } from '../../bench/requests';
import { parseCheckRequest } from '../../src/envoy/attributes';
import { edgeSettings } from '../envoy/fixtures';

describe('bench requests', () => {
  it('builds a long-context Check as Envoy sends it with pack_as_bytes: raw_body, its length declared, no body string', () => {
    const http = longContextCheckRequest('sk-bench-1', 1, 128 * 1024).attributes?.request?.http;
    const raw = http?.raw_body as Buffer;
    expect(raw.length).to.be.within(128 * 1024, 160 * 1024);
    expect(http?.body).to.equal(undefined);
    expect(http?.headers?.['content-length']).to.equal(String(raw.length));
    expect(http?.size).to.equal(String(raw.length));
    const body = JSON.parse(raw.toString('utf8')) as { model: string; messages: unknown[] };
    const short = JSON.parse(chatCheckRequest('sk-bench-1', 1).attributes?.request?.http?.body ?? '') as { model: string };
    expect(body.model).to.equal(short.model);
    expect(body.messages.length).to.be.above(50);
  });

  it('is read by Tollgate like the short Check: same model, same credential', () => {
    const settings = edgeSettings();
    const long = parseCheckRequest(longContextCheckRequest('sk-bench-1', 1, 64 * 1024), settings);
    const short = parseCheckRequest(chatCheckRequest('sk-bench-1', 1), settings);
    expect(long).to.include({ model: short.model, bodyInvalid: false, bodyTruncated: false });
    expect(long.credential).to.deep.equal(short.credential);
  });
});

describe('BENCH_BODY_KIB', () => {
  it('is 0 (the short chat body) unless asked for', () => {
    expect(measuredBodyKib({}, false)).to.equal(0);
    expect(measuredBodyKib({ BENCH_BODY_KIB: '0' }, false)).to.equal(0);
  });

  it('takes a whole number of KiB up to 8 MiB with h2load', () => {
    expect(measuredBodyKib({ BENCH_BODY_KIB: '128' }, true)).to.equal(128);
    for (const asked of ['-1', '1.5', 'big', '', '8193']) {
      expect(() => measuredBodyKib({ BENCH_BODY_KIB: asked }, true), asked).to.throw(/BENCH_BODY_KIB must be/);
    }
  });

  it('refuses a long body without h2load rather than measuring the short one', () => {
    expect(() => measuredBodyKib({ BENCH_BODY_KIB: '128' }, false)).to.throw(/needs h2load/);
  });
});
