/**
 * §2.2 step 1 (`check_if_request_size_is_safe`): `general_settings.max_request_size_mb` against
 * the request's `content-length`. LiteLLM reads it only on premium installs; Tollgate has no
 * licence tiers and always applies it. Without a content-length header LiteLLM measures the body;
 * Envoy may send only part of the body, so Tollgate does not guess and lets it pass.
 */
import type { Check } from './types';
import { deny } from './types';
import { pyConfigNumber, pyFloat } from './python-format';

const BYTES_PER_MB = 1024 * 1024;

export const requestSize: Check = {
  name: 'request_size',
  spec: 'litellm-auth.md §2.2 step 1',
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    const maxMb = ctx.policy.maxRequestSizeMb;
    const header = ctx.request.headers['content-length'];
    if (maxMb === null || header === undefined || !/^\s*\d+\s*$/.test(header)) return null;
    const sizeMb = Number(header) / BYTES_PER_MB;
    if (!(sizeMb > maxMb)) return null;
    return deny(
      400,
      'bad_request_error',
      `Request size is too large. Request size is ${pyFloat(sizeMb)} MB. Max size is ${pyConfigNumber(maxMb)} MB`,
      'content-length',
    );
  },
};
