import { expect } from 'chai';
import fc from 'fast-check';
import type { JsonObject } from '../../src/domain/entities';
import { parseJsonObject, parseJsonObjectLeaving } from '../../src/envoy/json-object';
import { BytesJson, TextJson, type JsonText } from '../../src/envoy/json-text';

const LEAVE: ReadonlySet<string> = new Set(['messages', 'input', 'prompt']);
const DEPTH = 128;

/** Both readings of one body, bytes and text, which must agree. */
function bothWays(body: string): Array<JsonObject | null> {
  return [
    parseJsonObjectLeaving(new BytesJson(Buffer.from(body, 'utf8')), LEAVE, DEPTH),
    parseJsonObjectLeaving(new TextJson(body), LEAVE, DEPTH),
  ];
}

function expectSameAsJsonParse(body: string): void {
  const expected: unknown = JSON.parse(body);
  for (const parsed of bothWays(body)) {
    expect(parsed, body.slice(0, 200)).to.deep.equal(expected);
    expect(Object.keys(parsed as object), 'the order of keys').to.deep.equal(Object.keys(expected as object));
  }
}

/** A deterministic generator, so that a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const AWKWARD_STRINGS = ['', '"', '\\', '\\"', '"\\', '}]', '{[', 'a"b\\"c', '\u00e9\u4e2d\u{1f600}', '\n\t\r\u0000\u001f', '\\\\\\"', 'x'.repeat(3000)];

function aValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 6 ? 4 : 7));
  switch (pick) {
    case 0:
      return AWKWARD_STRINGS[Math.floor(next() * AWKWARD_STRINGS.length)];
    case 1:
      return Math.floor(next() * 1e6) / 100 - 5000;
    case 2:
      return [true, false, null][Math.floor(next() * 3)];
    case 3:
      return `text ${Math.floor(next() * 1e9)}`;
    case 4:
    case 5:
      return Array.from({ length: Math.floor(next() * 5) }, () => aValue(next, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 5); i > 0; i -= 1) out[AWKWARD_STRINGS[i] ?? `k${i}`] = aValue(next, depth + 1);
      return out;
    }
  }
}

describe('parseJsonObjectLeaving (prompt fields stepped over, decoded when read)', () => {
  it('gives what JSON.parse gives for generated bodies, from bytes and from text, key order included', () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const next = random(seed);
      const body: Record<string, unknown> = { model: 'gpt-4o' };
      for (const field of ['messages', 'user', 'input', 'metadata', 'prompt', 'tools']) {
        if (next() < 0.7) body[field] = aValue(next, 1);
      }
      const indent = [undefined, 2, '\t'][seed % 3];
      expectSameAsJsonParse(JSON.stringify(body, null, indent));
    }
  });

  it('steps over strings whose quotes are escaped behind runs of backslashes', () => {
    expectSameAsJsonParse('{"messages":"a\\\\\\"b\\\\","model":"m","input":["\\\\","\\"",{"x":"\\\\\\\\"}]}');
  });

  it('leaves a field whose key is written with escapes, as JSON.parse reads the key', () => {
    const body = '{"mess\\u0061ges":[{"role":"user","content":"hi"}],"model":"m"}';
    expectSameAsJsonParse(body);
  });

  it('ends a repeated key with its last value, in its first place, as JSON.parse does', () => {
    expectSameAsJsonParse('{"messages":[1],"model":"m","messages":[2],"user":"u","model":"n"}');
    expectSameAsJsonParse('{"messages":[1],"messages":"two"}');
    expectSameAsJsonParse('{"messages":[1],"model":"m","messages":5}');
    expectSameAsJsonParse('{"input":"x","input":null,"user":"u"}');
    expectSameAsJsonParse('{"input":null,"input":["x"]}');
  });

  it('keeps a left field that holds a number, true, false or null as it is', () => {
    expectSameAsJsonParse('{"messages":null,"input":3.5e2,"prompt":true}');
  });

  it('does not decode a left value until it is read, then decodes it once', () => {
    const body = '{"model":"m","messages":[{"role":"user","content":"hello"}],"user":"u"}';
    const slices: Array<[number, number]> = [];
    const inner = new TextJson(body);
    const counting: JsonText = {
      length: inner.length,
      codeAt: (at) => inner.codeAt(at),
      quoteFrom: (from) => inner.quoteFrom(from),
      slice: (from, to) => {
        slices.push([from, to]);
        return inner.slice(from, to);
      },
    };
    const start = body.indexOf('[');
    const coversPrompt = (): number => slices.filter(([from, to]) => from === start && to > start).length;
    const parsed = parseJsonObjectLeaving(counting, LEAVE, DEPTH) as JsonObject;
    expect(parsed.user).to.equal('u');
    expect(coversPrompt(), 'nothing decoded yet').to.equal(0);
    expect(parsed.messages).to.deep.equal([{ role: 'user', content: 'hello' }]);
    expect(parsed.messages).to.equal(parsed.messages);
    expect(coversPrompt(), 'decoded once').to.equal(1);
  });

  it('refuses a body that is not a well-formed object outside the left fields, like parseJsonObject', () => {
    const invalid = [
      '',
      '[]',
      '"text"',
      '{"messages":[],"model":}',
      '{"messages":[] "model":"m"}',
      '{"messages":[],"model":"m",}',
      '{"messages":[],"model":"m"} trailing',
      '{"messages":[],"model":"m"',
      '{messages:[]}',
      '{"messages":[],"metadata":{"a":1,,}}',
      '{"messages":[],"user":"a\u0001b"}',
      '{"mess\\x61ges":[]}',
    ];
    for (const body of invalid) {
      expect(parseJsonObject(body, DEPTH), body).to.equal(null);
      for (const parsed of bothWays(body)) expect(parsed, body).to.equal(null);
    }
  });

  it('refuses a left value whose strings or brackets do not close, or close crosswise', () => {
    for (const body of ['{"messages":[{"content":"open]}', '{"messages":[{"a":1]}', '{"messages":[[}]}', '{"input":"never closed}', '{"messages":[1,2}']) {
      for (const parsed of bothWays(body)) expect(parsed, body).to.equal(null);
    }
  });

  it('refuses nesting past the limit inside a left value, and accepts it at the limit', () => {
    const nested = (depth: number): string => `{"model":"m","messages":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    for (const parsed of bothWays(nested(DEPTH + 1))) expect(parsed).to.equal(null);
    expect(parseJsonObject(nested(DEPTH + 1), DEPTH)).to.equal(null);
    for (const parsed of bothWays(nested(DEPTH))) expect(parsed).to.deep.equal(JSON.parse(nested(DEPTH)));
    expect(parseJsonObject(nested(DEPTH), DEPTH)).to.deep.equal(JSON.parse(nested(DEPTH)));
  });

  it('reads a malformed value inside a left field as null (the one difference from JSON.parse)', () => {
    for (const parsed of bothWays('{"model":"m","messages":[1,,2],"user":"u"}')) {
      expect(parsed).to.deep.equal({ model: 'm', messages: null, user: 'u' });
    }
  });

  it('reads multi-byte UTF-8 around the left value from bytes exactly', () => {
    expectSameAsJsonParse('{"model":"m\u00e9\u4e2d","messages":[{"content":"\u{1f600}\\"\u00e9"}],"user":"\u4e2d\u{1f600}"}');
  });

  it('gives what JSON.parse gives for any JSON object fast-check makes, prompt fields holding any JSON', () => {
    const key = fc.oneof(fc.constantFrom('messages', 'input', 'prompt', 'model', 'user'), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue({ maxDepth: 6 }), { maxKeys: 8 }), fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
        expectSameAsJsonParse(JSON.stringify(value, null, indent));
      }),
      { numRuns: 300, seed: 20261127 },
    );
  });

  it('never throws on a corrupted body, and agrees with JSON.parse whenever the corruption leaves valid JSON', () => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a "quoted" \\ text' }, { role: 'assistant', content: [1, { x: null }] }], user: 'u', input: 'x' });
    fc.assert(
      fc.property(fc.nat({ max: body.length - 1 }), fc.nat({ max: 4 }), fc.string({ minLength: 0, maxLength: 3 }), (at, cut, insert) => {
        const corrupted = body.slice(0, at) + insert + body.slice(at + cut);
        let expected: unknown = null;
        try {
          expected = JSON.parse(corrupted);
        } catch {
          expected = null;
        }
        for (const parsed of bothWays(corrupted)) {
          if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) expect(parsed, corrupted).to.deep.equal(expected);
          // JSON.parse refuses it and we do not: the corruption lies inside a prompt value, the rest is as sent.
          else if (parsed !== null) expect({ model: parsed.model, user: parsed.user }, corrupted).to.deep.equal({ model: 'gpt-4o', user: 'u' });
        }
      }),
      { numRuns: 500, seed: 20261127 },
    );
  });

  it('crosses long runs of backslashes and escaped quotes (each run counted once)', () => {
    expectSameAsJsonParse(`{"messages":"${'\\\\'.repeat(500_000)}\\"","model":"m"}`);
    expectSameAsJsonParse(`{"messages":["${'\\"'.repeat(300_000)}"],"model":"m"}`);
  });
});
