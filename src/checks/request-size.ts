/**
 * §2.2 step 1 (`check_if_request_size_is_safe`): `general_settings.max_request_size_mb` against
 * the request's `content-length`, or (without that header) the body's own length. LiteLLM reads
 * it only on premium installs; Tollgate has no licence tiers and always applies it.
 *
 * Without a content-length Tollgate measures the body Envoy forwarded. When Envoy sent only a
 * prefix (`allow_partial_message`), that prefix is a lower bound: it refuses when even the prefix
 * is too large, and otherwise cannot know, so it lets the request pass.
 */
import type { Check, Denial } from './types';
import { deny } from './types';
import { pyConfigNumber, pyFloat } from './python-format';

const BYTES_PER_MB = 1024 * 1024;

/** LiteLLM `bytes_to_mb` compared with `>` (exactly the maximum passes). */
function tooLarge(bytes: number, maxMb: number, maxWrittenAsFloat = false): Denial | null {
  const sizeMb = bytes / BYTES_PER_MB;
  if (!(sizeMb > maxMb)) return null;
  return deny(
    400,
    'bad_request_error',
    `Request size is too large. Request size is ${pyFloat(sizeMb)} MB. Max size is ${pyConfigNumber(maxMb, maxWrittenAsFloat)} MB`,
    'content-length',
  );
}

export const requestSize: Check = {
  name: 'request_size',
  spec: 'litellm-auth.md §2.2 step 1',
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    const maxMb = ctx.policy.maxRequestSizeMb;
    if (maxMb === null) return null;
    const asFloat = ctx.policy.writtenAsFloat?.maxRequestSizeMb;
    const header = ctx.request.headers['content-length'];
    // LiteLLM: `if content_length:` — an empty header falls through to measuring the body.
    if (header !== undefined && header.trim() !== '') {
      return /^\s*\d+\s*$/.test(header) ? tooLarge(Number(header), maxMb, asFloat) : null;
    }
    return tooLarge(ctx.request.bodyBytes, maxMb, asFloat);
  },
};
