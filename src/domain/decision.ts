/**
 * The outcome of one Check: what Envoy should do with the request.
 * Built by the server from identity + checks; turned into a CheckResponse by `envoy/response.ts`.
 */
import type { Denial } from '../checks/types';
import type { Json } from './entities';

/** Who the caller turned out to be; every field only when known. */
export interface Identity {
  readonly keyHash?: string;
  readonly keyAlias?: string;
  readonly userId?: string;
  readonly teamId?: string;
  readonly orgId?: string;
  readonly projectId?: string;
  readonly endUserId?: string;
  readonly userRole?: string;
  /** The requested model (comma-joined when the request names several). */
  readonly model?: string;
}

export type Decision =
  | {
      readonly kind: 'allow';
      readonly identity: Identity;
      /** The request header that carried the credential (stripped upstream unless forward_credentials). */
      readonly credentialHeader: string | null;
      /** Dynamic metadata beyond the identity (admission: `request_tags`, AI Gateway's `rate_limit`). */
      readonly metadata?: Readonly<Record<string, Json>>;
    }
  | { readonly kind: 'deny'; readonly denial: Denial; readonly identity: Identity; readonly credentialHeader: string | null };
