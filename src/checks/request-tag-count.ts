/**
 * Tollgate's own bound, with no LiteLLM counterpart: at most MAX_REQUEST_TAGS distinct tag names in
 * one request. Every tag a request names is looked up for its budget (§4.12) before the decision;
 * LiteLLM reads any number, and 20 000 tags in a 200 KiB body held the event loop for hundreds of
 * milliseconds, so every other Check on the replica missed Envoy's deadline. The bound is far above
 * any tagging scheme in use; refusing past it (rather than reading only the first tags) keeps a
 * budget-exhausted tag from hiding behind the others.
 *
 * It counts what the client names, in the body and in the `x-litellm-tags` header (both merged
 * into the tags LiteLLM checks, checks/pre-auth-tags.ts): it runs before the key is looked up, and
 * the key's own tags are set by an admin, not by the caller.
 */
import type { Check } from './types';
import { deny } from './types';
import { requestBody } from './context';
import { clientRequestTags } from './pre-auth-tags';

export const MAX_REQUEST_TAGS = 100;

export const requestTagCount: Check = {
  name: 'request_tag_count',
  spec: 'Tollgate (no LiteLLM counterpart): bounds the tag lookups of §4.12',
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    const tags = clientRequestTags(requestBody(ctx), ctx.request);
    if (tags.length <= MAX_REQUEST_TAGS) return null;
    const distinct = new Set(tags).size;
    if (distinct <= MAX_REQUEST_TAGS) return null;
    return deny(400, 'bad_request_error', `Too many tags in the request: ${distinct} distinct tags, at most ${MAX_REQUEST_TAGS}`, 'tags');
  },
};
