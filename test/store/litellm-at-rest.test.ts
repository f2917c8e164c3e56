import { expect } from 'chai';
import { decryptStoredValue } from '../../src/store/litellm-at-rest';

// Written by Python with LiteLLM's own scheme (encrypt_decrypt_utils.py): PyNaCl's SecretBox for
// the unmarked values, `cryptography`'s AESGCM and HKDF for the `v2:gcm:`/`v3:gcm:` ones.
const SALT_KEY = 'sk-salt-for-tests';
const PLAIN = 'azure/gpt-4o-2024-08-06';
const SECRETBOX_URLSAFE = 'zHBKlirxn6lPUjNPGc5gixKJSNyGuZldZvAVdkq7svVKSRdcKhZ6L9aJgpLqGYj5X5K243fRmCVEf-6rMvHW';
const SECRETBOX_STANDARD = '9GDL7QGkwph0WMFnYiIIHPmFUDbeXXbwemwKAOk0M7YB7VkUH6+L4vTY+OB3KqgF1Z39lCbxTFoQoaNdqazX';
const SECRETBOX_UNICODE =
  'vG_tcCJx4-9CQ3HsoBP3c6Igv98YnJZMj5tVwvQSeBkJCp2fuBQx1dOLmJCRP_H2MuHNNWKmOyjm8yYmHD1NPraL1Qfk3AqGwIHfbHBVLCv6JDS_s5m_y5Zmdo9_';
const GCM_V3 = 'v3:gcm:tDYesWJjv_eH-bM5TuOvcp1YcAw93Sukris8tS_duTeUVUfM_f81sePXFsUaBRPPB1JR';
const GCM_V2 = 'v2:gcm:LlxA8qJoJ9ua71QHzwiVWENF4TC_ITL0RWr7dns3Zgqe4vVVF1pDgNnJZ54ZlEwH3aqW';
const GCM_V3_EMPTY = 'v3:gcm:GNos7VspcS33QMK1adt7chI5Qysu7OtgQAwPNA==';

describe('values LiteLLM encrypts before it stores them', () => {
  it('reads each of the three formats LiteLLM writes', () => {
    expect(decryptStoredValue(GCM_V3, SALT_KEY), 'v3: AES-GCM, HKDF key').to.equal(PLAIN);
    expect(decryptStoredValue(GCM_V2, SALT_KEY), 'v2: AES-GCM, SHA-256 key').to.equal(PLAIN);
    expect(decryptStoredValue(SECRETBOX_URLSAFE, SALT_KEY), 'SecretBox, URL-safe base64').to.equal(PLAIN);
    expect(decryptStoredValue(SECRETBOX_STANDARD, SALT_KEY), 'SecretBox, standard base64').to.equal(PLAIN);
    expect(decryptStoredValue(SECRETBOX_UNICODE, SALT_KEY)).to.equal('bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0 ☃');
    expect(decryptStoredValue(GCM_V3_EMPTY, SALT_KEY)).to.equal('');
  });

  it('keeps a value that is not a ciphertext under the key as it is', () => {
    for (const value of [GCM_V3, GCM_V2, SECRETBOX_URLSAFE]) {
      expect(decryptStoredValue(value, 'sk-another-key'), 'another key').to.equal(value);
      expect(decryptStoredValue(value, null), 'no key').to.equal(value);
    }
    for (const plain of ['openai/gpt-4o', 'gpt-4o', 'os.environ/AZURE_API_BASE', 'https://example.openai.azure.com/', 'v3:gcm:', 'v3:gcm:AAAA', 'é']) {
      expect(decryptStoredValue(plain, SALT_KEY), plain).to.equal(plain);
    }
    const tampered = GCM_V3.slice(0, -2) + (GCM_V3.endsWith('R') ? 'Q' : 'R') + GCM_V3.slice(-1);
    expect(decryptStoredValue(tampered, SALT_KEY), 'a changed tag').to.equal(tampered);
  });

  it("reads base64 as Python's lenient decoder does", () => {
    // No character of the alphabet: no bytes, which LiteLLM's SecretBox path reads as "".
    expect(decryptStoredValue('***', SALT_KEY)).to.equal('');
    expect(decryptStoredValue('-_', SALT_KEY), 'URL-safe fails on padding, standard skips both').to.equal('');
    // Characters outside the alphabet are skipped, so a ciphertext broken by spaces still reads.
    expect(decryptStoredValue(SECRETBOX_URLSAFE.replace(/(.{10})/g, '$1 '), SALT_KEY)).to.equal(PLAIN);
  });
});
