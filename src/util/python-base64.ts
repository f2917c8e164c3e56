/**
 * Python's base64 decoding, as LiteLLM reads stored ciphertexts and Basic credentials with it. It
 * is lenient in other ways than Node's, so a value can decode under one and fail under the other;
 * checked against CPython on random strings.
 */
const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const NOT_ASCII = /[\u0080-\uffff]/;
const SKIPPED = -1;
const PAD = -2;

/** Each ASCII code's sextet, SKIPPED outside the alphabet, PAD for `=`; the URL-safe table adds `-` and `_`. */
function sextetTable(urlSafe: boolean): Int8Array {
  const table = new Int8Array(128).fill(SKIPPED);
  for (let i = 0; i < STANDARD_ALPHABET.length; i += 1) table[STANDARD_ALPHABET.charCodeAt(i)] = i;
  table['='.charCodeAt(0)] = PAD;
  // `urlsafe_b64decode` translates `-` and `_` to `+` and `/` and decodes the rest as `b64decode`: `+` and `/` stay valid.
  if (urlSafe) {
    table['-'.charCodeAt(0)] = 62;
    table['_'.charCodeAt(0)] = 63;
  }
  return table;
}

const STANDARD_SEXTETS = sextetTable(false);
const URL_SAFE_SEXTETS = sextetTable(true);

/**
 * Python's `base64.urlsafe_b64decode` (`urlSafe`) or `b64decode`, without validation: characters
 * outside the alphabet are skipped, a completed pad ends the input, a dangling quad throws, and
 * so does a character past ASCII. Node's decoder accepts what these reject. One pass over char
 * codes into a buffer of the largest size the text can give: ids reach it from request bodies.
 */
export function pythonBase64Decode(text: string, urlSafe: boolean): Buffer {
  // A str is encoded as ASCII first, so anything else is refused.
  if (NOT_ASCII.test(text)) throw new Error('not ASCII');
  const sextets = urlSafe ? URL_SAFE_SEXTETS : STANDARD_SEXTETS;
  const out = Buffer.alloc(Math.floor((text.length * 3) / 4) + 3);
  let length = 0;
  let quadPosition = 0;
  let carry = 0;
  let pads = 0;
  for (let i = 0; i < text.length; i += 1) {
    const sextet = sextets[text.charCodeAt(i)];
    if (sextet === PAD) {
      if (quadPosition >= 2 && quadPosition + ++pads >= 4) return out.subarray(0, length);
      continue;
    }
    if (sextet === SKIPPED) continue;
    pads = 0;
    switch (quadPosition) {
      case 0:
        carry = sextet;
        break;
      case 1:
        out[length++] = ((carry << 2) | (sextet >> 4)) & 0xff;
        carry = sextet & 0x0f;
        break;
      case 2:
        out[length++] = ((carry << 4) | (sextet >> 2)) & 0xff;
        carry = sextet & 0x03;
        break;
      default:
        out[length++] = ((carry << 6) | sextet) & 0xff;
        carry = 0;
    }
    quadPosition = (quadPosition + 1) % 4;
  }
  if (quadPosition !== 0) throw new Error('incomplete base64 quad');
  return out.subarray(0, length);
}

/**
 * False when `pythonBase64Decode(text, urlSafe)` cannot return bytes starting with the ASCII
 * `prefix`, reading only as much of `text` as those first bytes need: the decoder works left to
 * right, so its first bytes never depend on what follows. True says only that they match; the
 * whole decode may still fail past them. A long id that cannot be one of LiteLLM's is so refused
 * without decoding it whole.
 */
export function pythonBase64DecodedStartsWith(text: string, urlSafe: boolean, prefix: string): boolean {
  const sextets = urlSafe ? URL_SAFE_SEXTETS : STANDARD_SEXTETS;
  let produced = 0;
  let quadPosition = 0;
  let carry = 0;
  let pads = 0;
  for (let i = 0; i < text.length && produced < prefix.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return false;
    const sextet = sextets[code];
    if (sextet === PAD) {
      if (quadPosition >= 2 && quadPosition + ++pads >= 4) return false;
      continue;
    }
    if (sextet === SKIPPED) continue;
    pads = 0;
    let byte = -1;
    if (quadPosition === 1) byte = ((carry << 2) | (sextet >> 4)) & 0xff;
    else if (quadPosition === 2) byte = ((carry << 4) | (sextet >> 2)) & 0xff;
    else if (quadPosition === 3) byte = ((carry << 6) | sextet) & 0xff;
    carry = quadPosition === 0 ? sextet : quadPosition === 1 ? sextet & 0x0f : quadPosition === 2 ? sextet & 0x03 : 0;
    quadPosition = (quadPosition + 1) % 4;
    if (byte === -1) continue;
    if (byte !== prefix.charCodeAt(produced)) return false;
    produced += 1;
  }
  return produced === prefix.length;
}
