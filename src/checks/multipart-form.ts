/**
 * Tollgate's own, standing for Starlette's `MultiPartParser`: a multipart body with more than 1000
 * fields or 1000 files, or with a part that names no field, is one Starlette refuses (400, with
 * the message given here). LiteLLM's auth swallows that refusal and checks an empty body; its
 * endpoint then fails on the same form. Behind Envoy the upstream may be a server that reads the
 * form whole, including a `model` or a banned `api_base` past the limit that Tollgate never saw,
 * so the request is refused before any credential is read.
 */
import type { Check } from './types';
import { deny } from './types';

export const multipartForm: Check = {
  name: 'multipart_form',
  spec: "Tollgate (§2.1 body: Starlette's MultiPartParser limits, which LiteLLM's auth swallows)",
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    const reason = ctx.request.unreadableForm;
    return reason === undefined ? null : deny(400, 'bad_request_error', reason);
  },
};
