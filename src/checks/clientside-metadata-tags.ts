/**
 * common_checks step 6b (`_reject_clientside_metadata_tags_check`): with
 * `reject_clientside_metadata_tags`, tags may only come from key metadata, not from the request.
 */
import { isLlmApiRoute } from '../routes/classify';
import type { Check } from './types';
import { deny } from './types';
import { isJsonObject, requestBody } from './context';

export const rejectClientsideMetadataTags: Check = {
  name: 'reject_clientside_metadata_tags',
  spec: 'litellm-auth.md §4 step 6b',
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    if (!ctx.policy.rejectClientsideMetadataTags || !isLlmApiRoute(ctx.request.route, ctx.policy.passThroughEndpoints)) return null;
    const metadata = requestBody(ctx)['metadata'];
    if (!isJsonObject(metadata) || !Object.hasOwn(metadata, 'tags')) return null;
    return deny(
      400,
      'bad_request_error',
      "Client-side 'metadata.tags' not allowed in request. 'reject_clientside_metadata_tags'=True. Tags can only be set via API key metadata.",
      'metadata.tags',
    );
  },
};
