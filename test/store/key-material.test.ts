import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { hashKey as hashToken } from '../../src/auth/key-hash';
import { newKeyMaterial } from '../../src/store/key-material';

describe('key material', () => {
  it('makes an sk- key of 43 url-safe random characters, its sha256 and its display name', () => {
    const material = newKeyMaterial();
    expect(material.key).to.match(/^sk-[A-Za-z0-9_-]{43}$/);
    expect(material.token).to.equal(createHash('sha256').update(material.key).digest('hex'));
    expect(material.keyName).to.equal(`sk-...${material.key.slice(-4)}`);
  });

  it("hashes like LiteLLM's hash_token: sha256 hex of the whole key, sk- included", () => {
    // hashlib.sha256(b'sk-1234').hexdigest()
    expect(hashToken('sk-1234')).to.equal('88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b');
  });
});
