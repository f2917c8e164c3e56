/**
 * Reads the values LiteLLM encrypts before it stores them (`encrypt_value_helper`), such as the
 * string fields of a database model's `litellm_params`. The key is `LITELLM_SALT_KEY`, else the
 * master key. Three formats are read, as LiteLLM's `decrypt_value_helper` detects them:
 *
 * - `v3:gcm:` + base64url(nonce ‖ ciphertext ‖ tag): AES-256-GCM, key HKDF-SHA256(salt key), the
 *   default for new writes;
 * - `v2:gcm:` + the same: AES-256-GCM, key SHA-256(salt key);
 * - no marker: base64 (URL-safe, else standard) of a NaCl SecretBox (XSalsa20-Poly1305, nonce
 *   first), key SHA-256(salt key), written by older versions.
 *
 * A value that is not a ciphertext under the key is handed back as it is, as LiteLLM's model list
 * does (`return_original_value=True`): values written in the clear stay readable.
 */
import { createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { pythonBase64Decode } from '../util/python-base64';

const V3_GCM_PREFIX = 'v3:gcm:';
const V2_GCM_PREFIX = 'v2:gcm:';
const HKDF_INFO = 'litellm-at-rest-v3';
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const SECRETBOX_MIN_BYTES = nacl.secretbox.nonceLength + nacl.secretbox.overheadLength;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The plaintext of `value` under `signingKey`, or `value` itself when it is not a ciphertext under it. */
export function decryptStoredValue(value: string, signingKey: string | null): string {
  if (signingKey === null) return value;
  try {
    return decryptWithKey(value, signingKey);
  } catch {
    return value;
  }
}

function decryptWithKey(value: string, signingKey: string): string {
  if (value.startsWith(V3_GCM_PREFIX)) return decryptGcm(value.slice(V3_GCM_PREFIX.length), hkdfKey(signingKey));
  if (value.startsWith(V2_GCM_PREFIX)) return decryptGcm(value.slice(V2_GCM_PREFIX.length), sha256Key(signingKey));
  return decryptSecretBox(legacyCiphertextBytes(value), sha256Key(signingKey));
}

function sha256Key(signingKey: string): Buffer {
  return createHash('sha256').update(signingKey, 'utf8').digest();
}

/** HKDF-SHA256 without salt (RFC 5869: a hash-length run of zeros, as an empty HMAC key is). */
function hkdfKey(signingKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(signingKey, 'utf8'), Buffer.alloc(0), HKDF_INFO, 32));
}

function decryptGcm(encoded: string, key: Buffer): string {
  const raw = pythonBase64Decode(encoded, true);
  if (raw.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) throw new Error('too short for AES-GCM');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, GCM_NONCE_BYTES));
  decipher.setAuthTag(raw.subarray(raw.length - GCM_TAG_BYTES));
  const plain = Buffer.concat([decipher.update(raw.subarray(GCM_NONCE_BYTES, raw.length - GCM_TAG_BYTES)), decipher.final()]);
  return strictUtf8.decode(plain);
}

/** URL-safe base64 first, standard base64 for values older versions wrote. */
function legacyCiphertextBytes(value: string): Uint8Array {
  try {
    return pythonBase64Decode(value, true);
  } catch {
    return pythonBase64Decode(value, false);
  }
}

function decryptSecretBox(bytes: Uint8Array, key: Buffer): string {
  // Base64 skips what is outside its alphabet, so a value of none of its characters decodes to no
  // bytes, which LiteLLM reads as an empty plaintext.
  if (bytes.length === 0) return '';
  if (bytes.length < SECRETBOX_MIN_BYTES) throw new Error('too short for a SecretBox');
  const nonceLength = nacl.secretbox.nonceLength;
  const opened = nacl.secretbox.open(bytes.subarray(nonceLength), bytes.subarray(0, nonceLength), new Uint8Array(key));
  if (opened === null) throw new Error('not a SecretBox under this key');
  return strictUtf8.decode(opened);
}
