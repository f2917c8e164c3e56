/**
 * §2.7 step 7: an expired key. LiteLLM checks expiry *after* the blocked and model checks, so a
 * blocked, expired key reports "blocked" (the order list keeps that).
 * Some LiteLLM versions answer 400 here; the spec pins 401 `expired_key`.
 */
import type { Check } from './types';
import { deny } from './types';
import { abbreviatedApiKey } from './context';
import { pyUtcDatetime } from './python-format';

export const keyExpired: Check = {
  name: 'key_expired',
  spec: 'litellm-auth.md §2.6 step 3, §2.7 step 7',
  statuses: [401],
  errorTypes: ['expired_key'],
  decide: (ctx) => {
    const expires = ctx.snapshot.key?.expires ?? null;
    if (expires === null || !(expires.getTime() < ctx.now.getTime())) return null;
    return deny(
      401,
      'expired_key',
      `Authentication Error - Expired Key. Key Expiry time ${pyUtcDatetime(expires)} and current time ${pyUtcDatetime(ctx.now)}`,
      abbreviatedApiKey(ctx),
    );
  },
};
