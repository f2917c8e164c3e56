import { expect } from 'chai';
import { readPrefix } from '../../src/envoy/json-prefix';

const scan = (text: string): string | null => readPrefix(text, new Set(), 128).model;

describe("readPrefix: a cut body's model (field-notes.md §6)", () => {
  it('finds a model at the start of a cut body', () => {
    expect(scan('{"model": "gpt-4o", "messages": [{"role": "us')).to.equal('gpt-4o');
  });

  it('skips nested objects, arrays and strings containing braces and quotes before the model', () => {
    const prefix = '{"messages":[{"content":"a } ] \\" {"}],"meta":{"model":"inner"},"n":-1.5e3,"ok":true,"x":null,"model":"outer","s":"';
    expect(scan(prefix)).to.equal('outer');
  });

  it('ignores a "model" key that is nested, not top-level', () => {
    expect(scan('{"metadata":{"model":"inner"},"messages":[')).to.equal(null);
  });

  it('decodes escapes in keys and values', () => {
    expect(scan('{"mod\\u0065l":"gpt\\u002d4o", "x": "')).to.equal('gpt-4o');
  });

  it('returns the last complete occurrence it can see (JSON.parse keeps the last duplicate)', () => {
    expect(scan('{"model":"a","model":"b","messages":[')).to.equal('b');
  });

  it('returns null when the model value is itself cut off', () => {
    expect(scan('{"messages":[],"model":"gpt-4')).to.equal(null);
  });

  it('returns null when the model is not a string (a list is not recovered from a prefix)', () => {
    expect(scan('{"model":["a","b"],"x":"')).to.equal(null);
    expect(scan('{"model":4,"x":"')).to.equal(null);
  });

  it('returns null for prefixes that are not a JSON object', () => {
    for (const text of ['', '   ', '[{"model":"a"}]', 'model=a', '"model"', '{model:"a"}']) expect(scan(text), text).to.equal(null);
  });

  it('tolerates leading whitespace and a whole (untruncated) object', () => {
    expect(scan(' \n{ "model" : "m" }')).to.equal('m');
  });

  it('stays linear on long hostile prefixes', () => {
    const started = Date.now();
    expect(scan(`{"a":"${'\\\\'.repeat(500_000)}`)).to.equal(null);
    expect(scan(`{"a":${'{"b":'.repeat(200_000)}`)).to.equal(null);
    expect(Date.now() - started).to.be.below(2000);
  });
});
