import { expect } from 'chai';
import { pythonBase64Decode, pythonBase64DecodedStartsWith } from '../../src/util/python-base64';

/** What the prefix test must agree with: the whole decode, its throw read as "no". */
function wholeDecodeStartsWith(text: string, urlSafe: boolean, prefix: string): boolean {
  try {
    const bytes = pythonBase64Decode(text, urlSafe);
    return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).toString('latin1') === prefix;
  } catch {
    return false;
  }
}

/** A deterministic generator, so a failure names a reproducible case. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * The decoder as first written (checked then against CPython on random strings), kept as the
 * oracle for the one-pass version: character by character, `-`/`_` translated first.
 */
function referenceDecode(text: string, urlSafe: boolean): Buffer {
  if ([...text].some((char) => char.charCodeAt(0) > 0x7f)) throw new Error('not ASCII');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const input = urlSafe ? text.replace(/-/g, '+').replace(/_/g, '/') : text;
  const out: number[] = [];
  let quadPosition = 0;
  let carry = 0;
  let pads = 0;
  for (const char of input) {
    if (char === '=') {
      if (quadPosition >= 2 && quadPosition + ++pads >= 4) return Buffer.from(out);
      continue;
    }
    const sextet = alphabet.indexOf(char);
    if (sextet === -1) continue;
    pads = 0;
    if (quadPosition === 0) carry = sextet;
    else if (quadPosition === 1) {
      out.push(((carry << 2) | (sextet >> 4)) & 0xff);
      carry = sextet & 0x0f;
    } else if (quadPosition === 2) {
      out.push(((carry << 4) | (sextet >> 2)) & 0xff);
      carry = sextet & 0x03;
    } else {
      out.push(((carry << 6) | sextet) & 0xff);
      carry = 0;
    }
    quadPosition = (quadPosition + 1) % 4;
  }
  if (quadPosition !== 0) throw new Error('incomplete base64 quad');
  return Buffer.from(out);
}

function outcome(decode: () => Buffer): string {
  try {
    return `ok ${decode().toString('hex')}`;
  } catch (error) {
    return `throws ${(error as Error).message}`;
  }
}

describe('pythonBase64Decode', () => {
  it('decodes as the reference decoder does: skipped characters, pads, dangling quads, non-ASCII (20 000 cases)', () => {
    const random = generator(11);
    const pieces = ['A', 'b', 'Z', '0', '9', '+', '/', '-', '_', '=', '==', '===', ' ', '\n', '.', '*', '\u007f', 'é', '😀'];
    for (let i = 0; i < 20_000; i += 1) {
      const urlSafe = random() < 0.5;
      const text =
        random() < 0.3
          ? Buffer.from(Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * 256))).toString(urlSafe ? 'base64url' : 'base64')
          : Array.from({ length: Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      expect(outcome(() => pythonBase64Decode(text, urlSafe)), JSON.stringify({ text, urlSafe })).to.equal(outcome(() => referenceDecode(text, urlSafe)));
    }
  });

  it("decodes Node's own encodings back to their bytes", () => {
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    expect(pythonBase64Decode(bytes.toString('base64'), false).equals(bytes)).to.equal(true);
    expect(pythonBase64Decode(bytes.toString('base64url'), true).equals(bytes)).to.equal(true);
    expect(() => pythonBase64Decode(bytes.toString('base64url').slice(0, -1), true), 'a dangling quad').to.throw('incomplete');
  });
});

describe('pythonBase64DecodedStartsWith', () => {
  it('never refuses what the whole decode would start with the prefix, and refuses what differs early (10 000 cases)', () => {
    const random = generator(7);
    const pieces = ['A', 'b', 'Z', '0', '9', '+', '/', '-', '_', '=', '==', ' ', '\n', '.', '*', 'é', '😀', 'litellm'];
    const prefixes = ['litellm:', 'litellm_proxy', 'litellm_proxy:'];
    let agreedYes = 0;
    let earlyOnly = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const prefix = prefixes[Math.floor(random() * prefixes.length)];
      const urlSafe = random() < 0.5;
      const shape = random();
      let text: string;
      if (shape < 0.4) {
        // A real encoding of the prefix (or of a near miss), with noise spliced in.
        const payload = (random() < 0.7 ? prefix : prefix.slice(0, -1) + 'X') + ';model,gpt-4o';
        const encoded = Buffer.from(payload).toString(urlSafe ? 'base64url' : 'base64');
        const at = Math.floor(random() * encoded.length);
        const noise = random() < 0.5 ? '' : pieces[Math.floor(random() * pieces.length)];
        text = encoded.slice(0, at) + noise + encoded.slice(at);
      } else {
        text = Array.from({ length: Math.floor(random() * 40) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      }
      const whole = wholeDecodeStartsWith(text, urlSafe, prefix);
      const early = pythonBase64DecodedStartsWith(text, urlSafe, prefix);
      const context = JSON.stringify({ text, urlSafe, prefix });
      if (whole) {
        agreedYes += 1;
        expect(early, context).to.equal(true);
      } else if (early) {
        // Only a fault past the prefix (a dangling quad, a character past ASCII) can make the
        // whole decode fail where the first bytes match: the whole decode then decides.
        earlyOnly += 1;
      }
    }
    expect(agreedYes, 'the cases include ids that do start with the prefix').to.be.greaterThan(1000);
    expect(earlyOnly, 'a match of the first bytes alone is rare').to.be.lessThan(agreedYes);
  });

  it('refuses an id whose first bytes differ, whatever follows', () => {
    const junk = 'QUFB'.repeat(250_000);
    expect(pythonBase64DecodedStartsWith(junk, true, 'litellm:')).to.equal(false);
    const real = Buffer.from('litellm_proxy:application/pdf;unified_id,x;target_model_names,m').toString('base64url');
    expect(pythonBase64DecodedStartsWith(real, true, 'litellm_proxy')).to.equal(true);
    expect(pythonBase64DecodedStartsWith(`${real}é`, true, 'litellm_proxy'), 'the prefix alone is read: the whole decode decides the rest').to.equal(true);
  });
});
