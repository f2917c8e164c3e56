import { expect } from 'chai';
import { keyFound, virtualKeyFormat } from '../../src/checks/key-found';
import { KEY_HASH, decide } from './fixtures';

describe('key lookup — §2.6 step 8', () => {
  it('denies an unknown key (401 token_not_found_in_db, param "key") with the builder message and sk-...<last4>', () => {
    expect(decide(keyFound, { snapshot: { key: null } })).to.deep.equal({
      status: 401,
      type: 'token_not_found_in_db',
      message:
        'Authentication Error, Invalid proxy server token passed. Received API Key = sk-...abcd, ' +
        `Key Hash (Token) =${KEY_HASH}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
      param: 'key',
    });
  });

  it('allows a found key', () => {
    expect(decide(keyFound)).to.equal(null);
  });

  it('never echoes more than the last 4 characters of the key', () => {
    const denial = decide(keyFound, { snapshot: { key: null } });
    expect(denial?.message).to.not.include('sk-test-0123');
  });

  it('denies a credential that does not start with sk- (401 auth_error, first4****last4)', () => {
    const denial = decide(virtualKeyFormat, {
      request: { credential: { kind: 'present', value: 'f'.repeat(64), header: 'authorization' } },
    });
    expect(denial).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: "LiteLLM Virtual Key expected. Received=ffff****ffff, expected to start with 'sk-'.",
      param: 'None',
    });
  });

  it('allows sk- keys through the format check', () => {
    expect(decide(virtualKeyFormat)).to.equal(null);
  });
});
