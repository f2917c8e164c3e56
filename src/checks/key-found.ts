/** §2.6 step 8: the presented virtual key must look like one and exist in the database. */
import type { Check } from './types';
import { deny } from './types';
import { authErrorFromHttpException } from './errors';
import { abbreviatedApiKey, presentedCredential } from './context';

/**
 * LiteLLM refuses to look up a key that does not start with `sk-`, which stops a stolen key
 * *hash* from being used as a key. Only 4 + 4 characters are echoed (none for short values).
 */
export const virtualKeyFormat: Check = {
  name: 'virtual_key_format',
  spec: 'litellm-auth.md §2.6 step 8',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    const key = presentedCredential(ctx);
    if (key === null || key.startsWith('sk-')) return null;
    const masked = key.length > 8 ? `${key.slice(0, 4)}****${key.slice(-4)}` : '****';
    return authErrorFromHttpException(
      401,
      `LiteLLM Virtual Key expected. Received=${masked}, expected to start with 'sk-'.`,
    );
  },
};

/** Unknown key → 401 `token_not_found_in_db`, param `key`, with the builder's rewritten message. */
export const keyFound: Check = {
  name: 'key_found',
  spec: 'litellm-auth.md §2.6 step 8',
  statuses: [401],
  errorTypes: ['token_not_found_in_db'],
  decide: (ctx) => {
    if (ctx.snapshot.key !== null) return null;
    return deny(
      401,
      'token_not_found_in_db',
      `Authentication Error, Invalid proxy server token passed. Received API Key = ${abbreviatedApiKey(ctx)}, ` +
        `Key Hash (Token) =${ctx.keyHash ?? ''}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
      'key',
    );
  },
};
