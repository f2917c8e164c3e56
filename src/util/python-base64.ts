/**
 * Python's base64 decoding, as LiteLLM reads stored ciphertexts and Basic credentials with it. It
 * is lenient in other ways than Node's, so a value can decode under one and fail under the other;
 * checked against CPython on random strings.
 */
const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = new Map([...STANDARD_ALPHABET].map((char, index) => [char, index]));

/**
 * Python's `base64.urlsafe_b64decode` (`urlSafe`) or `b64decode`, without validation: characters
 * outside the alphabet are skipped, a completed pad ends the input, a dangling quad throws, and
 * so does a character past ASCII. Node's decoder accepts what these reject.
 */
export function pythonBase64Decode(text: string, urlSafe: boolean): Buffer {
  // A str is encoded as ASCII first, so anything else is refused.
  if ([...text].some((char) => char.charCodeAt(0) > 0x7f)) throw new Error('not ASCII');
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
    const sextet = SEXTET.get(char);
    if (sextet === undefined) continue;
    pads = 0;
    switch (quadPosition) {
      case 0:
        carry = sextet;
        break;
      case 1:
        out.push(((carry << 2) | (sextet >> 4)) & 0xff);
        carry = sextet & 0x0f;
        break;
      case 2:
        out.push(((carry << 4) | (sextet >> 2)) & 0xff);
        carry = sextet & 0x03;
        break;
      default:
        out.push(((carry << 6) | sextet) & 0xff);
        carry = 0;
    }
    quadPosition = (quadPosition + 1) % 4;
  }
  if (quadPosition !== 0) throw new Error('incomplete base64 quad');
  return Buffer.from(out);
}
