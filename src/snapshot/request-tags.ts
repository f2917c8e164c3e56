/**
 * The request's tags as names to load and to charge: LiteLLM's `get_tags_from_request_body` once
 * its auth has merged in the `x-litellm-tags` header and the key's own tags (litellm-auth.md
 * §4.12, checks/pre-auth-tags.ts, which the tag budget check reads too), each name once.
 */
import { preAuthRequestTags, type TaggedRequest } from '../checks/pre-auth-tags';
import { requestTags } from '../checks/request-metadata';
import type { Json, VirtualKey } from '../domain/entities';
import { distinct } from '../util/distinct';

const NO_TAGS: readonly string[] = Object.freeze([]);

/** The body's own tags (no header, no key): for a caller LiteLLM merges nothing into. */
export function tagsFromBody(body: Readonly<Record<string, Json>> | null): readonly string[] {
  if (body === null) return NO_TAGS;
  return distinct(requestTags(body));
}

/**
 * The tags of a request made with `key` (null: no key), each once: the ones to load once the key
 * is known, and, read from the body as sent, the ones to charge.
 */
export function tagsOfRequest(body: Readonly<Record<string, Json>> | null, request: TaggedRequest, key: Pick<VirtualKey, 'metadata'> | null): readonly string[] {
  return distinct(preAuthRequestTags(body, request, key?.metadata ?? null));
}
