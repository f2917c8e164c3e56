/**
 * common_checks step 6b (`_reject_clientside_metadata_tags_check`): with
 * `reject_clientside_metadata_tags`, tags may only come from key metadata, not from the request.
 *
 * Newer LiteLLM merges the `x-litellm-tags` header's tags into the body's tag container before
 * `common_checks` (`apply_client_tag_policy_pre_auth`, making `metadata` a dict when it was not
 * one), so where that container is `metadata` the check sees them there and refuses them too. The
 * key's own tags are merged only after this check.
 */
import { isLlmApiRoute } from '../routes/classify';
import type { Check } from './types';
import { deny } from './types';
import { isJsonObject, requestBody } from './context';
import { headerTags, tagContainerName } from './pre-auth-tags';

export const rejectClientsideMetadataTags: Check = {
  name: 'reject_clientside_metadata_tags',
  spec: 'litellm-auth.md §4 step 6b',
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    if (!ctx.policy.rejectClientsideMetadataTags || !isLlmApiRoute(ctx.request.route, ctx.policy.passThroughEndpoints)) return null;
    const body = requestBody(ctx);
    const metadata = body['metadata'];
    const fromBody = isJsonObject(metadata) && Object.hasOwn(metadata, 'tags');
    if (!fromBody && (headerTags(ctx.request.headers) === null || tagContainerName(body, ctx.request.route) !== 'metadata')) return null;
    return deny(
      400,
      'bad_request_error',
      "Client-side 'metadata.tags' not allowed in request. 'reject_clientside_metadata_tags'=True. Tags can only be set via API key metadata.",
      'metadata.tags',
    );
  },
};
